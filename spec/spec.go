// Package spec holds the error catalogs walletd serves on GET /spec and the
// typed JSON-RPC error codes of the BitcartCC daemon contract. The catalogs
// are embedded JSON: btc.json is the base every coin serves, <coin>.json
// overlays add or override entries for one coin.
package spec

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// Code is a JSON-RPC error code of the contract.
type Code int

// The error codes of contract.md §4. Every code walletd emits is one of
// these, and each one is present in every served catalog except ParseError
// and Internal, which Bitcart clients never look up.
const (
	Unauthorized        Code = -32600
	ProcedureNotFound   Code = -32601
	InvalidParams       Code = -32602
	Internal            Code = -32603
	ParseError          Code = -32700
	WalletNotLoaded     Code = -32000
	InvalidTxHash       Code = -32001
	TxNotFound          Code = -32002
	RequestNotFound     Code = -32003
	InvalidAddress      Code = -32004
	LoadingWallet       Code = -32005
	NotEnoughFunds      Code = -32006
	InvalidNodeID       Code = -32007
	WalletExists        Code = -32008
	InvalidLightningInv Code = -32009
	NoPathFound         Code = -32010
	LightningUnsupp     Code = -32011
	InvoiceNotFound     Code = -32012
	WalletVersionMism   Code = -32013
	NoConfigKey         Code = -32014
	// NoFeeEstimates (beyond Bitcart, which answers -32603 with Electrum's
	// "Dynamic fee estimates not available"): the fee policy needs the
	// node's estimate and there is none.
	NoFeeEstimates Code = -32015
)

// Cataloged reports whether code must appear in every served catalog. Only
// Internal and ParseError stay out: the SDK maps them to its generic error.
func Cataloged(code Code) bool { return code != Internal && code != ParseError }

//go:embed *.json
var files embed.FS

// Exception is one catalog entry: the SDK raises a class named ExcName whose
// message is Docstring.
type Exception struct {
	ExcName   string `json:"exc_name"`
	Docstring string `json:"docstring"`
}

// Catalog is the document served on GET /spec. It marshals to exactly the
// four top-level keys of the contract.
type Catalog struct {
	Version      string               `json:"version"`
	ElectrumMap  map[string]int       `json:"electrum_map"`
	Exceptions   map[string]Exception `json:"exceptions"`
	Capabilities map[string]bool      `json:"capabilities"`
}

// Load returns the catalog for coin (case-insensitive, e.g. "btc", "bch"):
// btc.json with the coin's overlay applied when one exists. Coins other than
// BTC without an overlay get the BTC catalog. The capabilities key is set
// from lightning.
func Load(coin string, lightning bool) (*Catalog, error) {
	base, err := readFile("btc.json")
	if err != nil {
		return nil, err
	}
	coin = strings.ToLower(coin)
	if coin != "btc" {
		overlay, err := readFile(coin + ".json")
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return nil, err
		default:
			if overlay.Version != "" {
				base.Version = overlay.Version
			}
			for k, v := range overlay.ElectrumMap {
				base.ElectrumMap[k] = v
			}
			for k, v := range overlay.Exceptions {
				base.Exceptions[k] = v
			}
		}
	}
	base.Capabilities = map[string]bool{"lightning": lightning}
	return base, nil
}

func readFile(name string) (*Catalog, error) {
	raw, err := files.ReadFile(name)
	if err != nil {
		return nil, err
	}
	c := &Catalog{ElectrumMap: map[string]int{}, Exceptions: map[string]Exception{}}
	if err := json.Unmarshal(raw, c); err != nil {
		return nil, fmt.Errorf("spec: %s: %w", name, err)
	}
	return c, nil
}

// Has reports whether the catalog describes code.
func (c *Catalog) Has(code Code) bool {
	_, ok := c.Exceptions[strconv.Itoa(int(code))]
	return ok
}
