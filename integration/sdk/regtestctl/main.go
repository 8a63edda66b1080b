// Command regtestctl is walletd's stand-in for the bitcoin-cli calls of the
// Bitcart SDK's tests/regtest/regtest.sh, driving a btcd regtest node: the
// same commands (startup, newblock, newblocks, generate, newaddress, newtx)
// with the same effects. btcd has no generatetoaddress, so blocks paying a
// given address are built here from the node's getblocktemplate (its
// mempool included), solved (regtest difficulty) and submitted.
//
// The node is named by the environment: REGTEST_RPC (host:port, plain
// HTTP), REGTEST_USER, REGTEST_PASS.
package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "regtestctl:", err)
		os.Exit(1)
	}
}

const usage = "syntax: startup|newblock|newblocks|generate|newaddress|newtx"

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	c := client{url: "http://" + os.Getenv("REGTEST_RPC"), user: os.Getenv("REGTEST_USER"), pass: os.Getenv("REGTEST_PASS")}
	arg := func(i int) (string, error) {
		if len(args) <= i {
			return "", fmt.Errorf("%s: missing argument %d", args[0], i)
		}
		return args[i], nil
	}
	count := func(i int) (int, error) {
		s, err := arg(i)
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 10_000 {
			return 0, fmt.Errorf("%s: bad block count %q", args[0], s)
		}
		return n, nil
	}
	print := func(hashes []string) error {
		b, _ := json.MarshalIndent(hashes, "", "  ")
		_, err := fmt.Fprintln(out, string(b))
		return err
	}
	switch args[0] {
	case "startup": // startup N ADDR: N blocks to ADDR, then 151 to a fresh address
		n, err := count(1)
		if err != nil {
			return err
		}
		addr, err := arg(2)
		if err != nil {
			return err
		}
		hashes, err := c.generateTo(n, addr)
		if err != nil {
			return err
		}
		if err := print(hashes); err != nil {
			return err
		}
		hashes, err = c.generateTo(151, newAddress())
		if err != nil {
			return err
		}
		return print(hashes)
	case "newblock", "newblocks": // newblocks N
		n := 1
		if args[0] == "newblocks" {
			var err error
			if n, err = count(1); err != nil {
				return err
			}
		}
		hashes, err := c.generateTo(n, newAddress())
		if err != nil {
			return err
		}
		return print(hashes)
	case "generate": // generate N ADDR
		n, err := count(1)
		if err != nil {
			return err
		}
		addr, err := arg(2)
		if err != nil {
			return err
		}
		hashes, err := c.generateTo(n, addr)
		if err != nil {
			return err
		}
		return print(hashes)
	case "newaddress":
		_, err := fmt.Fprintln(out, newAddress())
		return err
	case "newtx": // newtx ADDR: one block to ADDR; prints its coinbase txid
		addr, err := arg(1)
		if err != nil {
			return err
		}
		txid, err := c.mine(addr)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(out, txid.coinbase)
		return err
	}
	return errors.New(usage)
}

// newAddress returns a fresh p2wpkh regtest address whose key is dropped
// (bitcoin-cli getnewaddress, without a wallet to keep it).
func newAddress() string {
	k, err := btcec.NewPrivateKey()
	if err != nil {
		panic(err)
	}
	a, err := address.NewAddressWitnessPubKeyHash(address.Hash160(k.PubKey().SerializeCompressed()), &chaincfg.RegressionNetParams)
	if err != nil {
		panic(err)
	}
	return a.EncodeAddress()
}

// client is a minimal JSON-RPC client of btcd over HTTP POST.
type client struct {
	url, user, pass string
}

func (c client) call(out any, method string, params ...any) error {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequest("POST", c.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.pass)
	hc := http.Client{Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		return fmt.Errorf("%s: reply %.200q: %w", method, raw, err)
	}
	if r.Error != nil {
		return fmt.Errorf("%s: %d %s", method, r.Error.Code, r.Error.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

// generateTo mines n blocks whose coinbase pays addr (generatetoaddress).
func (c client) generateTo(n int, addr string) ([]string, error) {
	hashes := []string{}
	for i := 0; i < n; i++ {
		b, err := c.mine(addr)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, b.hash)
	}
	return hashes, nil
}

type mined struct {
	hash, coinbase string
}

// template is the part of getblocktemplate's reply a block needs.
type template struct {
	Bits         string `json:"bits"`
	CurTime      int64  `json:"curtime"`
	MinTime      int64  `json:"mintime"`
	Height       int64  `json:"height"`
	PreviousHash string `json:"previousblockhash"`
	Version      int32  `json:"version"`
	Transactions []struct {
		Data string `json:"data"`
	} `json:"transactions"`
	CoinbaseValue            *int64 `json:"coinbasevalue"`
	DefaultWitnessCommitment string `json:"default_witness_commitment"`
}

// mine builds, solves and submits one block paying its coinbase to addr,
// with the node's template transactions.
func (c client) mine(addr string) (mined, error) {
	dest, err := address.DecodeAddress(addr, &chaincfg.RegressionNetParams)
	if err != nil {
		return mined{}, fmt.Errorf("address %q: %w", addr, err)
	}
	pkScript, err := txscript.PayToAddrScript(dest)
	if err != nil {
		return mined{}, err
	}
	var tpl template
	if err := c.call(&tpl, "getblocktemplate", map[string]any{"capabilities": []string{"coinbasevalue"}, "rules": []string{"segwit"}}); err != nil {
		return mined{}, err
	}
	if tpl.CoinbaseValue == nil {
		return mined{}, errors.New("getblocktemplate: no coinbasevalue")
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	sigScript, err := txscript.NewScriptBuilder().AddInt64(tpl.Height).AddData(nonce[:]).Script()
	if err != nil {
		return mined{}, err
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: sigScript,
		Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(*tpl.CoinbaseValue, pkScript))
	if tpl.DefaultWitnessCommitment != "" {
		commitment, err := hex.DecodeString(tpl.DefaultWitnessCommitment)
		if err != nil {
			return mined{}, err
		}
		// btcd answers the bare 32-byte commitment (Bitcoin Core the
		// whole script): make it the BIP141 output script.
		if len(commitment) == 32 {
			commitment = append([]byte{txscript.OP_RETURN, txscript.OP_DATA_36, 0xaa, 0x21, 0xa9, 0xed}, commitment...)
		}
		cb.AddTxOut(wire.NewTxOut(0, commitment))
		cb.TxIn[0].Witness = wire.TxWitness{make([]byte, 32)}
	}
	txs := []*wire.MsgTx{cb}
	for _, t := range tpl.Transactions {
		raw, err := hex.DecodeString(t.Data)
		if err != nil {
			return mined{}, err
		}
		tx := wire.NewMsgTx(0)
		if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
			return mined{}, err
		}
		txs = append(txs, tx)
	}
	prev, err := chainhash.NewHashFromStr(tpl.PreviousHash)
	if err != nil {
		return mined{}, err
	}
	bits, err := strconv.ParseUint(tpl.Bits, 16, 32)
	if err != nil {
		return mined{}, err
	}
	block := wire.MsgBlock{Header: wire.BlockHeader{Version: tpl.Version, PrevBlock: *prev, MerkleRoot: merkleRoot(txs),
		Timestamp: time.Unix(max(tpl.CurTime, tpl.MinTime), 0), Bits: uint32(bits)}, Transactions: txs}
	target := compactToBig(uint32(bits))
	for {
		h := block.Header.BlockHash()
		if hashToBig(h).Cmp(target) <= 0 {
			break
		}
		block.Header.Nonce++
		if block.Header.Nonce == 0 {
			return mined{}, errors.New("no nonce solves the block")
		}
	}
	var buf bytes.Buffer
	if err := block.Serialize(&buf); err != nil {
		return mined{}, err
	}
	var reject *string
	if err := c.call(&reject, "submitblock", hex.EncodeToString(buf.Bytes())); err != nil {
		return mined{}, err
	}
	if reject != nil {
		return mined{}, fmt.Errorf("submitblock: rejected: %s", *reject)
	}
	return mined{hash: block.Header.BlockHash().String(), coinbase: cb.TxHash().String()}, nil
}

// merkleRoot is the block merkle root of txs (their txids).
func merkleRoot(txs []*wire.MsgTx) chainhash.Hash {
	level := make([]chainhash.Hash, len(txs))
	for i, tx := range txs {
		level[i] = tx.TxHash()
	}
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		next := make([]chainhash.Hash, len(level)/2)
		for i := range next {
			next[i] = chainhash.DoubleHashH(append(level[2*i][:], level[2*i+1][:]...))
		}
		level = next
	}
	return level[0]
}

// compactToBig expands a header's compact difficulty target.
func compactToBig(compact uint32) *big.Int {
	mantissa := int64(compact & 0x007fffff)
	exp := uint(compact >> 24)
	n := big.NewInt(mantissa)
	if exp <= 3 {
		n.Rsh(n, 8*(3-exp))
	} else {
		n.Lsh(n, 8*(exp-3))
	}
	if compact&0x00800000 != 0 {
		n.Neg(n)
	}
	return n
}

// hashToBig reads a block hash as the number it is compared with.
func hashToBig(h chainhash.Hash) *big.Int {
	var rev [32]byte
	for i := range h {
		rev[31-i] = h[i]
	}
	return new(big.Int).SetBytes(rev[:])
}
