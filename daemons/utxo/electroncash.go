package utxo

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/btcsuite/btcd/address/v2/base58"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/spec"
)

// The Electron Cash flavor: Bitcart's BCHDaemon serves Electron Cash
// 4.4.2's commands (Electron-Cash/Electron-Cash@492f050, commands.py) with
// Bitcart's additions (daemons/bch.py). They replace the Electrum methods
// of the same purpose; the rest of the shared table stays.

// ElectronCashVersion is the Electron Cash release Bitcart's BCH daemon
// pins; version() and getinfo report it.
const ElectronCashVersion = "4.4.2"

// ecDefaultFeePerKB is Electron Cash's fee_per_kb for a new wallet (1
// sat/byte); it has no fee estimates.
const ecDefaultFeePerKB = bch.DefaultFeePerKB

// electrumOnly are the shared table's methods Electron Cash has no
// counterpart of (its request methods and history have other names and
// shapes, it has no lightning, no BIP125 and no PSBT).
var electrumOnly = []string{
	"add_request", "get_request", "list_requests", "delete_request", "clear_requests", "onchain_history",
	"get_invoice", "list_invoices", "delete_invoice", "clear_invoices", "decode_invoice",
	"finalizepsbt", "convert_xkey",
}

// electronCashMethods turns the shared table into Bitcart's BCH daemon's.
func (d *Daemon) electronCashMethods(b *base.Builder) {
	s := &sendSide{d: d, caps: d.feeCaps(), conf: d.conf}
	w := base.NeedsWallet()
	b.Remove(electrumOnly...)
	b.Remove("version", "validatekey", "make_seed", "create", "recommended_fee", "getfeerate", "get_default_fee",
		"payto", "paytomany", "bumpfee", "signtransaction", "get_transaction", "get_tx_size", "get_tx_hash",
		"listunspent", "broadcast", "addtransaction")
	add := b.Add
	add(base.NewMethod("version", "version(): the Electron Cash version Bitcart's BCH daemon pins.", d.ecVersion))
	add(base.NewMethod("validatekey", "validatekey(key): true if key is a seed (Electrum-format 01, BIP39 or Electrum 1.x) or a master key (xpub/xprv, tpub/tprv, old mpk) of this network, exactly as Electron Cash decides.", d.ecValidateKey))
	add(base.NewMethod("addrequest", "addrequest(amount, memo, expiration, force): a payment request on the first unused receiving address (past the gap limit with force), as Electron Cash's: {time, amount, exp, address, memo, id, tokenreq, category_id, URI, status, tx_hashes, \"amount (BCH)\", sent_amount}; false when no address is free (and not force). amount in BCH (null: none), expiration in seconds (null or 0: never).", d.ecAddRequest, w))
	add(base.NewMethod("getrequest", "getrequest(key): the payment request of an address (cashaddr with or without prefix, or legacy), with its live status (Pending, Unconfirmed, Paid, Expired).", d.ecGetRequest, w, base.Alias("get_request")))
	add(base.NewMethod("listrequests", "listrequests(pending, expired, paid): the wallet's payment requests in address order, optionally filtered by status.", d.ecListRequests, w))
	add(base.NewMethod("rmrequest", "rmrequest(address): removes the payment request of an address (its address is never reused); false if there is none.", d.ecRmRequest, w))
	add(base.NewMethod("clearrequests", "clearrequests(): removes every payment request of the wallet; null.", d.ecClearRequests, w))
	add(base.NewMethod("history", "history(year, show_addresses, show_fiat, use_net, timeout): the wallet's transactions, newest first, as Electron Cash's export_history: {txid, height, confirmations, timestamp, date, label, value, fee, balance} (+ input_addresses and output_addresses).", d.ecHistory, w))
	add(base.NewMethod("listunspent", "listunspent(): the wallet's unspent coins without tokens, as Electron Cash lists them (value in BCH, address without prefix).", d.ecListUnspent, w))
	add(base.NewMethod("addressconvert", "addressconvert(address): {cashaddr, legacy} of an address in either form.", d.ecAddressConvert))
	add(base.NewMethod("make_seed", "make_seed(nbits, language): a new BIP39 seed (12 words for 128 bits), as Electron Cash makes it.", s.ecMakeSeed))
	add(base.NewMethod("make_electrum_seed", "make_electrum_seed(nbits, entropy, language): a new Electrum-format seed (prefix 01).", s.ecMakeElectrumSeed))
	add(base.NewMethod("create", "create(passphrase, password, encrypt_file, seed_type, wallet_path): a new seed (BIP39 unless seed_type is electrum) as {seed, path, msg}; walletd writes nothing.", d.ecCreate))
	add(base.NewMethod("recommended_fee", "recommended_fee(target): 0: Bitcoin Cash has no fee estimates (Bitcart's BCH daemon).", s.ecRecommendedFee))
	add(base.NewMethod("getfeerate", "getfeerate(): the fee rate in force, satoshis per kB (fee_per_kb; 1000 by default).", s.ecGetFeeRate))
	add(base.NewMethod("get_default_fee", "get_default_fee(tx): the fee of tx (a raw transaction, or a size in bytes) at fee_per_kb, rounded down as Electron Cash does; 8-decimal string.", s.getDefaultFee))
	add(base.NewMethod("payto", "payto(destination, amount, fee, feerate, from_addr, change_addr, nocheck, unsigned, password, locktime, op_return, op_return_raw, addtransaction, from_coins, allow_high_fee): the transaction paying amount (\"!\" for everything) to destination, signed, in hex; fee is absolute (BCH), feerate in sat/byte, default fee_per_kb. A watch-only wallet gets Electron Cash's unsigned transaction (x_pubkeys and input values). More than 50 sat/byte is refused (Electron Cash's ExcessiveFee) unless allow_high_fee.", s.ecPayto, w))
	add(base.NewMethod("paytomany", "paytomany(outputs, fee, feerate, from_addr, change_addr, nocheck, unsigned, password, locktime, addtransaction, from_coins, allow_high_fee): like payto with [[address, amount], …].", s.ecPaytomany, w))
	add(base.NewMethod("bumpfee", "bumpfee(tx, new_fee_rate): Bitcoin Cash has no replace-by-fee: always an error.", s.ecBumpfee, w))
	add(base.NewMethod("signtransaction", "signtransaction(tx, privkey, password, schnorr): signs what the wallet can of a raw transaction or of Electron Cash's unsigned format; the raw transaction in hex when complete, else the unsigned format.", s.ecSignTransaction, w))
	add(base.NewMethod("broadcast", "broadcast(tx): submits a signed transaction (hex) to the node; returns its txid.", s.broadcast))
	add(base.NewMethod("addtransaction", "addtransaction(tx): adds a signed transaction to the wallet's history as unconfirmed (without broadcasting it); null.", s.ecAddTransaction, w))
	add(base.NewMethod("get_tx_size", "get_tx_size(raw_tx): the size in bytes of the transaction signed (estimated for unsigned inputs, Schnorr).", s.getTxSize))
	add(base.NewMethod("get_tx_hash", "get_tx_hash(raw_tx): the transaction's txid.", s.ecGetTxHash))
	add(base.NewMethod("get_transaction", "get_transaction(tx_hash): the transaction from the node, in the node's verbose JSON ({txid, hash, version, size, locktime, vin, vout, hex, confirmations, …}).", d.ecGetTransaction))
}

func (d *Daemon) ecVersion(context.Context, *base.Call, base.NoArgs) (any, error) {
	return ElectronCashVersion, nil
}

func (d *Daemon) ecValidateKey(_ context.Context, _ *base.Call, a keyArgs) (any, error) {
	return keys.ElectronCashValidateKey(a.Key, d.net), nil
}

// ecAddRequestArgs are Electron Cash's addrequest parameters.
type ecAddRequestArgs struct {
	Amount       Amount          `rpc:"amount"`
	Memo         string          `rpc:"memo" default:"\"\""`
	Expiration   json.RawMessage `rpc:"expiration"`
	Force        bool            `rpc:"force"`
	PaymentURL   *string         `rpc:"payment_url"`
	IndexURL     *string         `rpc:"index_url"`
	TokenRequest *bool           `rpc:"token_request"`
	CategoryID   *string         `rpc:"category_id"`
}

// ecExpiration reads Electron Cash's expiration: int(expiration) of a
// number or a numeric string (a fraction is dropped), null or 0 meaning
// never.
func ecExpiration(raw json.RawMessage) (int64, error) {
	bad := base.Errorf(spec.InvalidParams, "invalid value for argument \"expiration\": seconds from 0 (never) to %d", maxRequestExpiry)
	t := strings.TrimSpace(string(raw))
	if t == "" || t == "null" {
		return 0, nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		t = strings.TrimSpace(s)
	}
	if len(t) > 40 {
		return 0, bad
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok || r.Sign() < 0 {
		return 0, bad
	}
	n := new(big.Int).Quo(r.Num(), r.Denom())
	if !n.IsInt64() || n.Int64() > maxRequestExpiry {
		return 0, bad
	}
	return n.Int64(), nil
}

func (d *Daemon) ecAddRequest(ctx context.Context, c *base.Call, a ecAddRequestArgs) (any, error) {
	if a.TokenRequest != nil && *a.TokenRequest || a.CategoryID != nil && *a.CategoryID != "" {
		return nil, base.Errorf(spec.InvalidParams, "CashTokens requests are not supported by walletd")
	}
	if a.Amount.Max {
		return nil, base.Errorf(spec.InvalidParams, "invalid amount: \"!\" is not a request amount")
	}
	exp, err := ecExpiration(a.Expiration)
	if err != nil {
		return nil, err
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := w.AddRequest(ctx, a.Amount.Sats, a.Memo, exp, a.Force)
	if errors.Is(err, wallet.ErrGapLimit) {
		return false, nil // Electron Cash prints the reason and answers False
	}
	if err != nil {
		return nil, err
	}
	return d.ecRequestJSON(r), nil
}

// ecRequest is a request as Bitcart's BCH daemon returns it: Electron
// Cash's get_payment_request with _format_request's changes and Bitcart's
// sent_amount, members in Electron Cash's order.
type ecRequest struct {
	Time          int64    `json:"time"`
	Amount        *int64   `json:"amount"`
	Exp           *int64   `json:"exp"`
	Address       string   `json:"address"`
	Memo          string   `json:"memo"`
	ID            string   `json:"id"`
	TokenReq      bool     `json:"tokenreq"`
	CategoryID    *string  `json:"category_id"`
	URI           string   `json:"URI"`
	Status        string   `json:"status"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations *int64   `json:"confirmations,omitempty"`
	// AmountCoin is "amount (BCH)" (the coin's ticker in parentheses),
	// written after the members above, then SentAmount.
	AmountCoin string `json:"-"`
	SentAmount string `json:"-"`
	amountKey  string // pre-encoded `,"amount (BCH)":`
}

// MarshalJSON writes the members in Electron Cash's order, the amount
// under the coin's key.
func (r ecRequest) MarshalJSON() ([]byte, error) {
	type plain ecRequest
	head, err := base.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	amt, _ := base.Marshal(r.AmountCoin)
	sent, _ := base.Marshal(r.SentAmount)
	out := append(head[:len(head)-1:len(head)-1], r.amountKey...)
	out = append(out, amt...)
	out = append(out, `,"sent_amount":`...)
	out = append(out, sent...)
	return append(out, '}'), nil
}

// ecRequestJSON renders a request view. An amount-less request is Electron
// Cash's amount None ("Unknown"); the URI carries the cashaddr prefix and
// the amount as format_satoshis prints it; confirmations appear once paid.
func (d *Daemon) ecRequestJSON(r *wallet.RequestView) ecRequest {
	out := ecRequest{Time: r.Timestamp, Address: r.Address, Memo: r.Memo, ID: r.ID, URI: d.net.URIScheme + ":" + r.Address,
		Status: ecTooltip(r.Status), TxHashes: r.TxHashes, AmountCoin: "Unknown", SentAmount: FormatFixed(r.Sent),
		amountKey: `,"amount (` + d.coin.Ticker + `)":`}
	if out.TxHashes == nil {
		out.TxHashes = []string{}
	}
	if r.Amount != 0 {
		amt := r.Amount
		out.Amount, out.AmountCoin = &amt, formatSatoshis(amt)
		out.URI += "?amount=" + formatSatoshis(amt)
	}
	if r.Expiry != 0 {
		exp := r.Expiry
		out.Exp = &exp
	}
	if r.Paid {
		conf := r.Confirmations
		out.Confirmations = &conf
	}
	return out
}

type ecKeyArgs struct {
	Key string `rpc:"key,required"`
}

// ecRequestOf finds the request of an address as Electron Cash's
// getrequest does (Address.from_string: an invalid address is an address
// error); "Request not found" otherwise.
func (d *Daemon) ecRequestOf(ctx context.Context, w *wallet.Wallet, addr string) (*wallet.RequestView, error) {
	if _, err := d.net.PkScript(strings.TrimSpace(addr)); err != nil {
		return nil, err
	}
	return w.GetRequest(ctx, strings.TrimSpace(addr))
}

func (d *Daemon) ecGetRequest(ctx context.Context, c *base.Call, a ecKeyArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := d.ecRequestOf(ctx, w, a.Key)
	if err != nil {
		return nil, err
	}
	return d.ecRequestJSON(r), nil
}

func (d *Daemon) ecListRequests(ctx context.Context, c *base.Call, a listRequestsArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	rs, err := w.ListRequests(ctx, a.Pending, a.Expired, a.Paid)
	if err != nil {
		return nil, err
	}
	// get_sorted_requests: by the address's index in the wallet.
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Index < rs[j].Index })
	out := make([]ecRequest, len(rs))
	for i, r := range rs {
		out[i] = d.ecRequestJSON(r)
	}
	return out, nil
}

type ecAddressArgs struct {
	Address string `rpc:"address,required"`
}

func (d *Daemon) ecRmRequest(ctx context.Context, c *base.Call, a ecAddressArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	r, err := d.ecRequestOf(ctx, w, a.Address)
	if errors.Is(err, wallet.ErrRequestNotFound) {
		return false, nil
	}
	if err != nil {
		return nil, err
	}
	return w.DeleteRequest(ctx, r.ID)
}

func (d *Daemon) ecClearRequests(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	return nil, w.ClearRequests(ctx)
}

type ecHistoryArgs struct {
	Year          json.Number `rpc:"year"`
	ShowAddresses bool        `rpc:"show_addresses"`
	ShowFiat      bool        `rpc:"show_fiat"`
	UseNet        bool        `rpc:"use_net"`
	Timeout       json.Number `rpc:"timeout"`
}

// ecHistoryItem is one entry of Electron Cash's export_history.
type ecHistoryItem struct {
	TxID            string   `json:"txid"`
	Height          int32    `json:"height"`
	Confirmations   int64    `json:"confirmations"`
	Timestamp       int64    `json:"timestamp"`
	Date            string   `json:"date"`
	Label           string   `json:"label"`
	Value           string   `json:"value"`
	Fee             string   `json:"fee"`
	Balance         string   `json:"balance"`
	InputAddresses  []string `json:"input_addresses,omitempty"`
	OutputAddresses []string `json:"output_addresses,omitempty"`
	FiatValue       *string  `json:"fiat_value,omitempty"`
	FiatBalance     *string  `json:"fiat_balance,omitempty"`
	FiatFee         *string  `json:"fiat_fee,omitempty"`
}

// formatDiff is format_satoshis(v, is_diff=True): a sign on every value.
func formatDiff(v int64) string {
	if v < 0 {
		return formatSatoshis(v)
	}
	return "+" + formatSatoshis(v)
}

// ecHistory is Electron Cash's history: the wallet's transactions newest
// first with their value (signed), fee, the balance after each, the date
// (UTC, minutes) or "unconfirmed"; year keeps one calendar year.
func (d *Daemon) ecHistory(ctx context.Context, c *base.Call, a ecHistoryArgs) (any, error) {
	year := 0
	if a.Year != "" {
		y, err := a.Year.Int64()
		if err != nil || y < 0 || y > 9999 || y > 0 && y < 1970 {
			return nil, base.Errorf(spec.InvalidParams, "invalid value for argument \"year\": 0 or a year from 1970 to 9999")
		}
		year = int(y)
	}
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	items, err := w.History(ctx)
	if err != nil {
		return nil, err
	}
	labels, err := w.Labels(ctx)
	if err != nil {
		return nil, err
	}
	balances := make([]int64, len(items))
	var bal int64
	for i, it := range items {
		bal += it.Received - it.Sent
		balances[i] = bal
	}
	now := time.Now()
	out := []ecHistoryItem{}
	for i := len(items) - 1; i >= 0; i-- {
		it := items[i]
		ts := now
		if it.Height > 0 && !it.Time.IsZero() {
			ts = it.Time
		}
		if year != 0 && ts.UTC().Year() != year {
			continue
		}
		h := ecHistoryItem{TxID: it.TxID.String(), Height: it.Height, Confirmations: it.Confirmations,
			Timestamp: ts.Unix(), Date: "unconfirmed", Label: labels[it.TxID.String()],
			Value: formatDiff(it.Received - it.Sent), Fee: "--", Balance: formatSatoshis(balances[i])}
		if it.Height > 0 {
			h.Date = ts.UTC().Format("2006-01-02 15:04")
		}
		if fee, err := w.TxFee(ctx, it.TxID); err == nil {
			h.Fee = formatSatoshis(fee)
		}
		if a.ShowAddresses && len(it.Raw) > 0 {
			tx, _, _, _ := d.engine.Transaction(ctx, it.TxID)
			if tx != nil {
				h.InputAddresses, h.OutputAddresses = []string{}, []string{}
				for _, in := range tx.TxIn {
					if prev := d.prevOutOf(ctx, in.PreviousOutPoint); prev != nil {
						if addr, ok := d.net.AddressFromScript(prev.PkScript); ok {
							h.InputAddresses = append(h.InputAddresses, addr)
						}
					}
				}
				for _, o := range tx.TxOut {
					addr, ok := d.net.AddressFromScript(o.PkScript)
					if !ok {
						addr = "SCRIPT " + hex.EncodeToString(o.PkScript)
					}
					h.OutputAddresses = append(h.OutputAddresses, addr)
				}
			}
		}
		if a.ShowFiat {
			noData := "No Data"
			h.FiatValue, h.FiatBalance, h.FiatFee = &noData, &noData, &noData
		}
		out = append(out, h)
	}
	return out, nil
}

// prevOutOf is the output op spends, from the wallet's records or the node.
func (d *Daemon) prevOutOf(ctx context.Context, op wire.OutPoint) *wire.TxOut {
	tx, _, found, err := d.engine.Transaction(ctx, op.Hash)
	if (err != nil || !found) && d.backend != nil {
		if info, berr := d.backend.Transaction(ctx, op.Hash); berr == nil {
			tx, found, err = info.Tx, true, nil
		}
	}
	if err != nil || !found || tx == nil || int(op.Index) >= len(tx.TxOut) {
		return nil
	}
	return tx.TxOut[op.Index]
}

// ecUnspent is one listunspent entry, Electron Cash's get_utxos coin with
// its value in BCH and its address as printed.
type ecUnspent struct {
	Address      string  `json:"address"`
	Value        string  `json:"value"`
	PrevoutN     uint32  `json:"prevout_n"`
	PrevoutHash  string  `json:"prevout_hash"`
	Height       int32   `json:"height"`
	Coinbase     bool    `json:"coinbase"`
	IsFrozenCoin bool    `json:"is_frozen_coin"`
	SLPToken     *string `json:"slp_token"`
	TokenData    *string `json:"token_data"`
}

func (d *Daemon) ecListUnspent(ctx context.Context, c *base.Call, _ base.NoArgs) (any, error) {
	w, err := d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return nil, err
	}
	frozen, err := w.FrozenCoins(ctx)
	if err != nil {
		return nil, err
	}
	out := []ecUnspent{}
	for _, u := range utxos {
		if u.SpentBy != "" || u.Token {
			continue
		}
		out = append(out, ecUnspent{Address: u.Address, Value: decimalStr(u.Value), PrevoutN: u.OutPoint.Index,
			PrevoutHash: u.OutPoint.Hash.String(), Height: u.Height, Coinbase: u.Coinbase, IsFrozenCoin: frozen[u.OutPoint]})
	}
	return out, nil
}

func (d *Daemon) ecAddressConvert(_ context.Context, _ *base.Call, a addressArgs) (any, error) {
	c := d.net.CashAddr()
	script, err := d.net.PkScript(a.Address)
	if err != nil || c == nil {
		return nil, base.Errorf(spec.InvalidAddress, "Invalid address: %s", shorten(a.Address))
	}
	full, err1 := c.Encode(script)
	legacy, err2 := c.Legacy(script)
	if err1 != nil || err2 != nil {
		return nil, base.Errorf(spec.InvalidAddress, "Invalid address: %s", shorten(a.Address))
	}
	return map[string]string{"cashaddr": full, "legacy": legacy}, nil
}

type ecMakeSeedArgs struct {
	NBits    int     `rpc:"nbits" default:"128"`
	Language *string `rpc:"language"`
}

func englishOnly(l *string) error {
	if l != nil && *l != "" && !strings.EqualFold(*l, "english") && !strings.EqualFold(*l, "en") {
		return base.Errorf(spec.InvalidParams, "make_seed: only the english word list is available")
	}
	return nil
}

func (s *sendSide) ecMakeSeed(_ context.Context, _ *base.Call, a ecMakeSeedArgs) (any, error) {
	if err := englishOnly(a.Language); err != nil {
		return nil, err
	}
	seed, err := keys.MakeElectronCashSeed(a.NBits)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "make_seed: %v", err)
	}
	return seed, nil
}

type ecMakeElectrumSeedArgs struct {
	NBits    int     `rpc:"nbits" default:"132"`
	Entropy  int64   `rpc:"entropy" default:"1"`
	Language *string `rpc:"language"`
}

func (s *sendSide) ecMakeElectrumSeed(ctx context.Context, _ *base.Call, a ecMakeElectrumSeedArgs) (any, error) {
	if err := englishOnly(a.Language); err != nil {
		return nil, err
	}
	if a.Entropy != 1 {
		return nil, base.Errorf(spec.InvalidParams, "make_electrum_seed: custom entropy is not supported")
	}
	seed, err := keys.MakeSeed(ctx, keys.SeedTypeStandard, a.NBits)
	if err != nil {
		return nil, base.Errorf(spec.InvalidParams, "make_electrum_seed: %v", err)
	}
	return seed, nil
}

type ecCreateArgs struct {
	Passphrase  *string `rpc:"passphrase"`
	Password    *string `rpc:"password"`
	EncryptFile *bool   `rpc:"encrypt_file"`
	SeedType    *string `rpc:"seed_type"`
	WalletPath  *string `rpc:"wallet_path"`
}

// ecCreate is Electron Cash's create without the wallet file: a BIP39 seed
// (an Electrum-format one with seed_type electrum).
func (d *Daemon) ecCreate(ctx context.Context, _ *base.Call, a ecCreateArgs) (any, error) {
	if a.Passphrase != nil && *a.Passphrase != "" {
		return nil, errNoPassphrase
	}
	st := ""
	if a.SeedType != nil {
		st = *a.SeedType
	}
	var seed string
	var err error
	switch st {
	case "", "bip39":
		seed, err = keys.MakeElectronCashSeed(128)
	case "electrum", "standard":
		seed, err = keys.MakeSeed(ctx, keys.SeedTypeStandard, 132)
	default:
		return nil, base.Errorf(spec.InvalidParams, "create: unknown seed_type %q (bip39, electrum)", shorten(st))
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"seed": seed, "path": a.WalletPath, "msg": createMsg}, nil
}

type ecTargetArgs struct {
	Target json.RawMessage `rpc:"target"`
}

func (s *sendSide) ecRecommendedFee(context.Context, *base.Call, ecTargetArgs) (any, error) {
	return 0, nil
}

func (s *sendSide) ecGetFeeRate(context.Context, *base.Call, base.NoArgs) (any, error) {
	return s.conf.getLegacy("fee_per_kb"), nil
}

// ecSpendOpts are Electron Cash's payto options after the outputs, with
// walletd's from_coins and allow_high_fee.
type ecSpendOpts struct {
	Fee            Amount  `rpc:"fee"`
	FeeRate        Amount  `rpc:"feerate"`
	FromAddr       strList `rpc:"from_addr"`
	ChangeAddr     string  `rpc:"change_addr"`
	NoCheck        bool    `rpc:"nocheck"`
	Unsigned       bool    `rpc:"unsigned"`
	Password       *string `rpc:"password"`
	LockTime       *uint32 `rpc:"locktime"`
	OpReturn       *string `rpc:"op_return"`
	OpReturnRaw    *string `rpc:"op_return_raw"`
	AddTransaction bool    `rpc:"addtransaction"`
	FromCoins      strList `rpc:"from_coins"`
	AllowHighFee   bool    `rpc:"allow_high_fee"`
}

// spendOpts maps them to the shared ones (no RBF on Bitcoin Cash).
func (o ecSpendOpts) spendOpts() (spendOpts, error) {
	if o.OpReturn != nil || o.OpReturnRaw != nil {
		return spendOpts{}, base.Errorf(spec.InvalidParams, "op_return outputs are not supported by walletd")
	}
	no := false
	return spendOpts{Fee: o.Fee, FeeRate: o.FeeRate, FromAddr: o.FromAddr, FromCoins: o.FromCoins, ChangeAddr: o.ChangeAddr,
		NoCheck: o.NoCheck, Unsigned: o.Unsigned, RBF: &no, Password: o.Password, LockTime: o.LockTime,
		AddTransaction: o.AddTransaction, AllowHighFee: o.AllowHighFee}, nil
}

type ecPaytoArgs struct {
	Destination string `rpc:"destination,required"`
	Amount      Amount `rpc:"amount,required"`
	ecSpendOpts
}

func (s *sendSide) ecPayto(ctx context.Context, c *base.Call, a ecPaytoArgs) (any, error) {
	o, err := a.spendOpts()
	if err != nil {
		return nil, err
	}
	return s.pay(ctx, c, []wallet.Payment{{Address: a.Destination, Amount: wallet.Amount(a.Amount)}}, o)
}

type ecPaytomanyArgs struct {
	Outputs []payOutput `rpc:"outputs,required"`
	ecSpendOpts
}

func (s *sendSide) ecPaytomany(ctx context.Context, c *base.Call, a ecPaytomanyArgs) (any, error) {
	o, err := a.spendOpts()
	if err != nil {
		return nil, err
	}
	return s.paytomany(ctx, c, paytomanyArgs{Outputs: a.Outputs, spendOpts: o})
}

type ecBumpArgs struct {
	Tx         string          `rpc:"tx,required"`
	NewFeeRate json.RawMessage `rpc:"new_fee_rate"`
}

func (s *sendSide) ecBumpfee(context.Context, *base.Call, ecBumpArgs) (any, error) {
	return nil, wallet.ErrRBFUnsupported
}

// errExcessiveFee is Electron Cash's ExcessiveFee: more than 50 sat/byte.
var errExcessiveFee = fmt.Errorf("%w: Electron Cash refuses more than %d sat/byte (ExcessiveFee); pass allow_high_fee=true to pay it",
	errFeeTooHigh, bch.MaxFeeSatPerByte)

// ecCheckExcessive refuses a built transaction paying more than 50
// sat/byte, as Electron Cash's make_unsigned_transaction does.
func (s *sendSide) ecCheckExcessive(ctx context.Context, b *wallet.BuiltTx, allow bool) error {
	if allow {
		return nil
	}
	size := int64(s.d.engine.EstimateVSize(ctx, b.Tx, nil))
	if size > 0 && b.Fee > bch.MaxFeeSatPerByte*size {
		return errExcessiveFee
	}
	return nil
}

// ecUnsigned renders an incomplete transaction in Electron Cash's unsigned
// format: each unsigned input with the x_pubkey of the key that signs it
// and its value.
func ecUnsigned(b *wallet.BuiltTx) (string, error) {
	ins := make([]*bch.UnsignedInput, len(b.Tx.TxIn))
	for i, in := range b.Tx.TxIn {
		if len(in.SignatureScript) > 0 || i >= len(b.Inputs) || b.Inputs[i].Prev == nil {
			continue
		}
		o := b.Inputs[i]
		k := bch.XPubKey{PubKey: o.PubKey}
		switch {
		case o.Derived && o.Old:
			mpk, err := hex.DecodeString(o.MPK)
			if err != nil || len(mpk) != 64 {
				return "", fmt.Errorf("input %d: the wallet's old master public key is malformed", i)
			}
			k = bch.XPubKey{Old: mpk, Path: ecPath(o)}
		case o.Derived:
			// The 78-byte serialization: base58check without its checksum.
			full := base58.Decode(o.MPK)
			if _, _, err := base58.CheckDecode(o.MPK); err != nil || len(full) != 82 {
				return "", fmt.Errorf("input %d: the wallet's master public key is malformed", i)
			}
			k = bch.XPubKey{BIP32: full[:78], Path: ecPath(o)}
		case o.PubKey == nil:
			k = bch.XPubKey{Script: o.Prev.PkScript}
		}
		ins[i] = &bch.UnsignedInput{Value: o.Prev.Value, Key: k}
	}
	raw, err := bch.SerializeUnsigned(b.Tx, ins)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(raw), nil
}

func ecPath(o wallet.InputOrigin) []uint32 {
	c := uint32(0)
	if o.Change {
		c = 1
	}
	return []uint32{c, o.Index}
}

type ecSignArgs struct {
	Tx       string  `rpc:"tx,required"`
	Privkey  *string `rpc:"privkey"`
	Password *string `rpc:"password"`
	Schnorr  bool    `rpc:"schnorr"`
}

// ecDecode reads a transaction in hex: Electron Cash's unsigned format or
// a plain one.
func ecDecode(s string) (*wire.MsgTx, []*bch.UnsignedInput, error) {
	raw, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(raw) == 0 {
		return nil, nil, wallet.ErrInvalidTx
	}
	tx, ins, err := bch.ParseUnsigned(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", wallet.ErrInvalidTx, err)
	}
	return tx, ins, nil
}

// ecSignTransaction signs what the call's wallet can of tx: its unsigned
// inputs whose x_pubkey is one of the wallet's keys (its xpub or old mpk
// and a derivation, an imported key, an imported address), or, for a plain
// transaction, inputs spending the wallet's coins. The raw transaction
// comes back in hex when complete, else Electron Cash's unsigned format.
func (s *sendSide) ecSignTransaction(ctx context.Context, c *base.Call, a ecSignArgs) (any, error) {
	if a.Privkey != nil && *a.Privkey != "" {
		return nil, base.Errorf(spec.InvalidParams, "signtransaction with a privkey argument is not supported: name the wallet with the xpub argument")
	}
	tx, ins, err := ecDecode(a.Tx)
	if err != nil {
		return nil, err
	}
	if err := wallet.CheckSignInputs(len(tx.TxIn)); err != nil {
		return nil, err
	}
	w, err := s.d.open(ctx, c)
	if err != nil {
		return nil, err
	}
	mat := w.Material()
	prevs := make([]*wire.TxOut, len(tx.TxIn))
	for i, in := range ins {
		if in == nil {
			continue
		}
		script := s.ecScriptOf(mat, in.Key)
		if script != nil {
			prevs[i] = wire.NewTxOut(in.Value, script)
		}
	}
	plain := true
	for _, in := range ins {
		plain = plain && in == nil
	}
	if plain {
		for i, in := range tx.TxIn {
			if len(in.SignatureScript) == 0 {
				prevs[i] = s.d.prevOutOf(ctx, in.PreviousOutPoint)
			}
		}
	}
	complete, err := w.SignInputs(ctx, tx, prevs)
	if err != nil {
		return nil, err
	}
	if complete || plain {
		return wireHex(tx)
	}
	for i, in := range tx.TxIn {
		if len(in.SignatureScript) > 0 {
			ins[i] = nil
		}
	}
	raw, err := bch.SerializeUnsigned(tx, ins)
	if err != nil {
		return nil, err
	}
	return hex.EncodeToString(raw), nil
}

// ecScriptOf is the output script of the key an x_pubkey names, when it is
// the wallet's (nil otherwise).
func (s *sendSide) ecScriptOf(mat *keys.Material, k bch.XPubKey) []byte {
	switch {
	case (k.BIP32 != nil || k.Old != nil) && mat.Deterministic():
		if len(k.Path) != 2 || k.Path[0] > 1 {
			return nil
		}
		mine := false
		if k.Old != nil {
			mine = mat.Old() && strings.EqualFold(hex.EncodeToString(k.Old), mat.MasterPublicKey())
		} else {
			full := base58.Decode(mat.MasterPublicKey())
			mine = len(full) == 82 && string(full[:78]) == string(k.BIP32)
		}
		if !mine {
			return nil
		}
		key, err := mat.Derive(k.Path[0] == 1, k.Path[1])
		if err != nil {
			return nil
		}
		return key.PkScript
	case k.PubKey != nil:
		_, script, err := s.d.net.PubKeyAddress(params.P2PKH, k.PubKey)
		if err != nil {
			return nil
		}
		return script
	case k.Script != nil:
		return k.Script
	}
	return nil
}

func (s *sendSide) ecAddTransaction(ctx context.Context, c *base.Call, a txArg) (any, error) {
	tx, ins, err := ecDecode(a.Tx)
	if err != nil {
		return nil, err
	}
	for _, in := range ins {
		if in != nil {
			return nil, wallet.ErrIncomplete
		}
	}
	if _, err := s.d.open(ctx, c); err != nil {
		return nil, err
	}
	return nil, s.d.engine.AddTransaction(ctx, tx)
}

func (s *sendSide) ecGetTxHash(_ context.Context, _ *base.Call, a rawTxArgs) (any, error) {
	tx, _, err := ecDecode(a.RawTx)
	if err != nil {
		return nil, err
	}
	return tx.TxHash().String(), nil
}

// ecVin and ecVout are a transaction's inputs and outputs in a node's
// verbose JSON (getrawtransaction, blockchain.transaction.get verbose).
type (
	ecScriptSig struct {
		Asm string `json:"asm"`
		Hex string `json:"hex"`
	}
	ecVin struct {
		Coinbase  string       `json:"coinbase,omitempty"`
		TxID      string       `json:"txid,omitempty"`
		Vout      *uint32      `json:"vout,omitempty"`
		ScriptSig *ecScriptSig `json:"scriptSig,omitempty"`
		Sequence  uint32       `json:"sequence"`
	}
	ecScriptPubKey struct {
		Asm       string   `json:"asm"`
		Hex       string   `json:"hex"`
		ReqSigs   int      `json:"reqSigs,omitempty"`
		Type      string   `json:"type"`
		Addresses []string `json:"addresses,omitempty"`
	}
	ecVout struct {
		Value        json.RawMessage `json:"value"`
		N            int             `json:"n"`
		ScriptPubKey ecScriptPubKey  `json:"scriptPubKey"`
	}
	ecVerboseTx struct {
		TxID          string   `json:"txid"`
		Hash          string   `json:"hash"`
		Version       int32    `json:"version"`
		Size          int      `json:"size"`
		LockTime      uint32   `json:"locktime"`
		Vin           []ecVin  `json:"vin"`
		Vout          []ecVout `json:"vout"`
		Hex           string   `json:"hex"`
		Confirmations int64    `json:"confirmations"`
	}
)

// ecGetTransaction is Bitcart's BCH get_transaction: the node's verbose
// transaction JSON with confirmations (0 in the mempool).
func (d *Daemon) ecGetTransaction(ctx context.Context, _ *base.Call, a getTransactionArgs) (any, error) {
	info, err := d.nodeTransaction(ctx, a.TxHash)
	if err != nil {
		return nil, err
	}
	tx := info.Tx
	raw, err := wireHex(tx)
	if err != nil {
		return nil, err
	}
	out := ecVerboseTx{TxID: tx.TxHash().String(), Hash: tx.TxHash().String(), Version: tx.Version, Size: tx.SerializeSize(),
		LockTime: tx.LockTime, Hex: raw, Confirmations: info.Confirmations, Vin: []ecVin{}, Vout: []ecVout{}}
	for _, in := range tx.TxIn {
		if in.PreviousOutPoint.Hash == ([32]byte{}) && in.PreviousOutPoint.Index == wire.MaxPrevOutIndex {
			out.Vin = append(out.Vin, ecVin{Coinbase: hex.EncodeToString(in.SignatureScript), Sequence: in.Sequence})
			continue
		}
		n := in.PreviousOutPoint.Index
		asm, _ := txscript.DisasmString(in.SignatureScript)
		out.Vin = append(out.Vin, ecVin{TxID: in.PreviousOutPoint.Hash.String(), Vout: &n,
			ScriptSig: &ecScriptSig{Asm: asm, Hex: hex.EncodeToString(in.SignatureScript)}, Sequence: in.Sequence})
	}
	for i, o := range tx.TxOut {
		asm, _ := txscript.DisasmString(o.PkScript)
		spk := ecScriptPubKey{Asm: asm, Hex: hex.EncodeToString(o.PkScript), Type: "nonstandard"}
		switch {
		case txscript.IsPayToPubKeyHash(o.PkScript):
			spk.Type = "pubkeyhash"
		case txscript.IsPayToScriptHash(o.PkScript):
			spk.Type = "scripthash"
		case txscript.IsNullData(o.PkScript):
			spk.Type = "nulldata"
		}
		if c := d.net.CashAddr(); c != nil && spk.Type != "nulldata" {
			if full, err := c.Encode(o.PkScript); err == nil {
				spk.ReqSigs, spk.Addresses = 1, []string{full}
			}
		}
		out.Vout = append(out.Vout, ecVout{Value: json.RawMessage(FormatFixed(o.Value)), N: i, ScriptPubKey: spk})
	}
	return out, nil
}
