package integration

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// named builds the trailing named-arguments object of a call, with the
// wallet selector (Proc.Call is then given xpub "").
func named(key string, kv ...any) map[string]any {
	m := map[string]any{"xpub": key}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// rpcErr calls and returns the error reply, failing when there is none.
func rpcErr(t *testing.T, d *daemon.Proc, key, method string, params ...any) *daemon.RPCError {
	t.Helper()
	raw, err := d.Call(key, method, params...)
	if err == nil {
		t.Fatalf("%s: no error, result %s", method, raw)
	}
	var re *daemon.RPCError
	if !errors.As(err, &re) {
		t.Fatalf("%s: %v", method, err)
	}
	return re
}

// waitBalance waits until getbalance's confirmed (and unconfirmed, "" for
// absent) amounts are as given.
func waitBalance(t *testing.T, d *daemon.Proc, key, confirmed, unconfirmed string) {
	t.Helper()
	harness.WaitFor(t, 20*time.Second, "balance "+confirmed+"/"+unconfirmed, func() bool {
		var bal map[string]string
		raw, err := d.Call(key, "getbalance")
		return err == nil && json.Unmarshal(raw, &bal) == nil && bal["confirmed"] == confirmed && bal["unconfirmed"] == unconfirmed
	})
}

// decodeHexTx decodes a raw transaction.
func decodeHexTx(t *testing.T, s string) *wire.MsgTx {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("not hex: %q", s)
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return tx
}

func mustHash(t *testing.T, s string) chainhash.Hash {
	t.Helper()
	h, err := chainhash.NewHashFromStr(s)
	if err != nil {
		t.Fatalf("txid %q: %v", s, err)
	}
	return *h
}

// fundAndConfirm pays each amount to addrs[i] and mines one block.
func fundAndConfirm(t *testing.T, node *harness.Node, d *daemon.Proc, key string, addrs []string, sats []int64, confirmed string) {
	t.Helper()
	d.Must(nil, key, "getbalance") // load first: the payments are followed live
	for i, a := range addrs {
		node.Fund(a, sats[i])
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	waitBalance(t, d, key, confirmed, "")
}

var fixed8 = regexp.MustCompile(`^\d+\.\d{8}$`)

func parseSats(t *testing.T, s string) int64 {
	t.Helper()
	if !fixed8.MatchString(s) {
		t.Fatalf("%q is not an 8-decimal amount", s)
	}
	v, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestMerchantPayoutFlow: payto (not added) → get_tx_size →
// get_default_fee → broadcast → mempool → block → get_transaction shows the
// payment → get_used_fee; then the same from an xprv and a WIF wallet, and
// no file of the daemon nor its logs contains any of the secrets.
func TestMerchantPayoutFlow(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	fundAndConfirm(t, node, d, seed, []string{vw.Receiving[0], vw.Receiving[1]}, []int64{100_000_000, 70_000_000}, "1.70000000")
	dest := vectorWallet(t, "standard-account-xpub").Receiving[0]

	start := time.Now()
	var raw string
	d.Must(&raw, "", "payto", dest, "0.5", named(seed, "feerate", 2, "addtransaction", false))
	tx := decodeHexTx(t, raw)
	t.Logf("payto: %v", time.Since(start))
	var size int
	d.Must(&size, "", "get_tx_size", raw)
	vsize := (tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4
	if size != vsize {
		t.Fatalf("get_tx_size %d, real vsize %d", size, vsize)
	}
	var defFee string
	d.Must(&defFee, "", "get_default_fee", size)
	if parseSats(t, defFee) <= 0 {
		t.Fatalf("get_default_fee = %q", defFee)
	}
	// Not added: the wallet does not know it before the broadcast.
	if e := rpcErr(t, d, seed, "get_tx_status", tx.TxHash().String()); e.Code != -32002 {
		t.Fatalf("payto added the tx: %+v", e)
	}
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	if txid != tx.TxHash().String() {
		t.Fatalf("broadcast txid %s, tx %s", txid, tx.TxHash())
	}
	if !node.InMempool(mustHash(t, txid)) {
		t.Fatal("node does not have the payout in its mempool")
	}
	node.Generate(1)
	var got struct {
		Confirmations int64 `json:"confirmations"`
		Outputs       []struct {
			Address   string `json:"address"`
			ValueSats int64  `json:"value_sats"`
		} `json:"outputs"`
		Inputs []struct {
			NSequence uint32 `json:"nsequence"`
		} `json:"inputs"`
		LockTime uint32 `json:"locktime"`
	}
	harness.WaitFor(t, 10*time.Second, "payout confirmed", func() bool {
		raw, err := d.Call("", "get_transaction", txid)
		return err == nil && json.Unmarshal(raw, &got) == nil && got.Confirmations == 1
	})
	paid := false
	for _, o := range got.Outputs {
		paid = paid || o.Address == dest && o.ValueSats == 50_000_000
	}
	if !paid || got.Inputs[0].NSequence != 0xfffffffd || got.LockTime == 0 {
		t.Fatalf("get_transaction: %+v", got)
	}
	var used string
	d.Must(&used, seed, "get_used_fee", txid)
	fee := parseSats(t, used)
	if fee >= 10_000 || fee < int64(2*vsize) || fee > int64(2*vsize)+10 {
		t.Fatalf("get_used_fee %s for vsize %d at 2 sat/vB", used, vsize)
	}
	waitBalance(t, d, seed, formatSats(120_000_000-fee), "")
	t.Logf("payout flow: %v", time.Since(start))

	// The same from an account xprv and from a WIF list.
	xprv := vectorWallet(t, "p2wpkh-account-xprv")
	wifKey, _ := btcec.NewPrivateKey()
	wif, err := btcutil.NewWIF(wifKey, node.Params(), true)
	if err != nil {
		t.Fatal(err)
	}
	wifMaterial := "p2wpkh:" + wif.String()
	net, _ := params.BTC("regtest")
	wifAddr, _, _ := net.PubKeyAddress(params.P2WPKH, wifKey.PubKey().SerializeCompressed())
	fundAndConfirm(t, node, d, xprv.KeyMaterial, []string{xprv.Receiving[0]}, []int64{20_000_000}, "0.20000000")
	fundAndConfirm(t, node, d, wifMaterial, []string{wifAddr}, []int64{30_000_000}, "0.30000000")
	for _, key := range []string{xprv.KeyMaterial, wifMaterial} {
		d.Must(&raw, "", "payto", dest, "0.1", named(key, "feerate", 1))
		d.Must(&txid, "", "broadcast", raw)
		if !node.InMempool(mustHash(t, txid)) {
			t.Fatal("payout not in the mempool")
		}
	}
	// Message signing with the seed wallet.
	var sig string
	d.Must(&sig, "", "signmessage", vw.Receiving[0], "payout 42", named(seed))
	var ok bool
	d.Must(&ok, "", "verifymessage", vw.Receiving[0], sig, "payout 42")
	if !ok {
		t.Fatal("verifymessage false")
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())

	// No secret anywhere on disk or in the logs.
	bip32Seed, _ := hex.DecodeString(vw.BIP32SeedHex)
	master, err := hdkeychain.NewMaster(bip32Seed, node.Params())
	if err != nil {
		t.Fatal(err)
	}
	account, _ := master.Derive(hdkeychain.HardenedKeyStart)
	recv0, _ := account.Derive(0)
	recv0, _ = recv0.Derive(0)
	recv0Priv, _ := recv0.ECPrivKey()
	secrets := map[string][]byte{
		"seed phrase":          []byte(seed),
		"bip32 seed (hex)":     []byte(vw.BIP32SeedHex),
		"bip32 seed (raw)":     bip32Seed,
		"account tprv":         []byte(account.String()),
		"receiving[0] key":     recv0Priv.Serialize(),
		"receiving[0] key hex": []byte(hex.EncodeToString(recv0Priv.Serialize())),
		"vector vprv":          []byte(xprv.KeyMaterial),
		"WIF":                  []byte(wif.String()),
		"WIF key (raw)":        wifKey.Serialize(),
		"WIF key hex":          []byte(hex.EncodeToString(wifKey.Serialize())),
	}
	if !strings.HasPrefix(string(secrets["account tprv"]), "tprv") {
		t.Fatalf("account key %q", secrets["account tprv"])
	}
	assertNoSeedWords(t, d.DataDir, seed)
	var files int
	sawMPK := false
	err = filepath.WalkDir(d.DataDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		sawMPK = sawMPK || bytes.Contains(b, []byte(vw.MPK))
		for what, s := range secrets {
			if bytes.Contains(b, s) {
				t.Errorf("%s found in %s", what, path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 || !sawMPK {
		t.Fatalf("the grep sees nothing: %d files, public key found: %v", files, sawMPK)
	}
	logs := []byte(d.Logs())
	for what, s := range secrets {
		if bytes.Contains(logs, s) {
			t.Errorf("%s found in the logs", what)
		}
	}
}

func formatSats(v int64) string { return fmt.Sprintf("%d.%08d", v/100_000_000, v%100_000_000) }

// TestBatchMaxAndFees: paytomany with three outputs, insufficient funds,
// fee and feerate together, an exact absolute fee (added, then removed
// with removelocaltx), and sending everything with "!".
func TestBatchMaxAndFees(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xprv")
	key := vw.KeyMaterial
	fundAndConfirm(t, node, d, key, []string{vw.Receiving[0], vw.Receiving[1], vw.Receiving[2]},
		[]int64{40_000_000, 30_000_000, 30_000_000}, "1.00000000")
	other := vectorWallet(t, "standard-account-xpub")

	// Batch: three payments and change in one transaction.
	outputs := [][]any{{other.Receiving[0], "0.1"}, {other.Receiving[1], 0.2}, {other.Receiving[2], "0.05"}}
	var raw string
	d.Must(&raw, "", "paytomany", outputs, named(key, "feerate", 1))
	tx := decodeHexTx(t, raw)
	if len(tx.TxOut) != 4 {
		t.Fatalf("paytomany outputs: %d", len(tx.TxOut))
	}
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	if !node.InMempool(mustHash(t, txid)) {
		t.Fatal("batch not in the mempool")
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	for i, want := range []string{"0.10000000", "0.20000000", "0.05000000"} {
		var bal map[string]string
		d.Must(&bal, "", "getaddressbalance", other.Receiving[i])
		if bal["confirmed"] != want {
			t.Fatalf("output %d: %v", i, bal)
		}
	}

	// Errors.
	if e := rpcErr(t, d, "", "payto", other.Receiving[0], "100", named(key, "feerate", 1)); e.Code != -32006 {
		t.Fatalf("insufficient funds: %+v", e)
	}
	if e := rpcErr(t, d, "", "payto", other.Receiving[0], "0.1", named(key, "fee", 0.0001, "feerate", 2)); e.Code != -32602 {
		t.Fatalf("fee and feerate: %+v", e)
	}
	if e := rpcErr(t, d, "", "payto", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "0.1", named(key, "feerate", 1)); e.Code != -32004 {
		t.Fatalf("mainnet destination: %+v", e)
	}

	// An absolute fee is paid exactly; addtransaction shows it at once.
	d.Must(&raw, "", "payto", other.Receiving[3], "0.01", named(key, "fee", 0.0001, "addtransaction", true))
	tx = decodeHexTx(t, raw)
	txid = tx.TxHash().String()
	var used string
	d.Must(&used, key, "get_used_fee", txid)
	if used != "0.00010000" {
		t.Fatalf("fee=0.0001 paid %s", used)
	}
	var st map[string]int64
	d.Must(&st, key, "get_tx_status", txid)
	// It was never broadcast: removelocaltx takes it back out.
	d.Must(nil, key, "removelocaltx", txid)
	if e := rpcErr(t, d, key, "get_tx_status", txid); e.Code != -32002 {
		t.Fatalf("removed tx still there: %+v", e)
	}
	var bal map[string]string
	d.Must(&bal, key, "getbalance")
	before := bal["confirmed"]
	if _, has := bal["unconfirmed"]; has {
		t.Fatalf("balance after removelocaltx: %v", bal)
	}
	// A broadcast one is not local.
	d.Must(&raw, "", "payto", other.Receiving[3], "0.01", named(key, "feerate", 1))
	d.Must(&txid, "", "broadcast", raw)
	if e := rpcErr(t, d, key, "removelocaltx", txid); e.Code != -32602 {
		t.Fatalf("removelocaltx of a broadcast tx: %+v", e)
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())

	// Everything: one output, no change, the wallet is empty after a block.
	d.Must(&raw, "", "payto", other.Receiving[4], "!", named(key, "feerate", 1))
	tx = decodeHexTx(t, raw)
	if len(tx.TxOut) != 1 {
		t.Fatalf("send-everything outputs: %d", len(tx.TxOut))
	}
	d.Must(&txid, "", "broadcast", raw)
	node.Generate(1)
	waitSynced(t, d, node.Height())
	waitBalance(t, d, key, "0.00000000", "")
	d.Must(&used, key, "get_used_fee", txid)
	if b := parseSats(t, before); tx.TxOut[0].Value+parseSats(t, used) >= b {
		t.Fatalf("send-everything: %d + fee %s from %s", tx.TxOut[0].Value, used, before)
	}
	// Lightning is off.
	for _, m := range []string{"nodeid", "list_channels", "list_peers"} {
		if e := rpcErr(t, d, key, m); e.Code != -32011 {
			t.Fatalf("%s: %+v", m, e)
		}
	}
}

// TestWatchOnlyPSBTSignedBySeed: the watch-only wallet (the seed's vpub)
// makes an unsigned PSBT; the seed wallet signs it; the node accepts it.
func TestWatchOnlyPSBTSignedBySeed(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	fundAndConfirm(t, node, d, vw.MPK, []string{vw.Receiving[2], vw.Receiving[3]}, []int64{30_000_000, 30_000_000}, "0.60000000")
	dest := vectorWallet(t, "p2wpkh-account-xpub").Receiving[0]
	var p string
	d.Must(&p, "", "payto", dest, "0.4", named(vw.MPK, "feerate", 2))
	if !strings.HasPrefix(p, "cHNidP8") {
		t.Fatalf("watch-only payto is not a PSBT: %.40s", p)
	}
	var size int
	d.Must(&size, "", "get_tx_size", p)
	// The watch-only selector cannot sign, even after the seed is loaded.
	d.Must(nil, vw.KeyMaterial, "getbalance")
	var same string
	d.Must(&same, "", "signtransaction", p, named(vw.MPK))
	if same != p {
		t.Fatal("the xpub selector signed")
	}
	var p2 string
	d.Must(&p2, "", "payto", dest, "0.4", named(vw.MPK, "feerate", 2))
	if !strings.HasPrefix(p2, "cHNidP8") {
		t.Fatal("the xpub selector got a signed payto once the seed was loaded")
	}
	var raw string
	d.Must(&raw, "", "signtransaction", p, named(vw.KeyMaterial))
	tx := decodeHexTx(t, raw)
	vsize := (tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4
	if size < vsize || size > vsize+4 {
		t.Fatalf("PSBT size estimate %d, signed vsize %d", size, vsize)
	}
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	if !node.InMempool(mustHash(t, txid)) {
		t.Fatal("signed PSBT not accepted")
	}
	// An incomplete PSBT cannot be broadcast.
	if e := rpcErr(t, d, "", "broadcast", p2); e.Code != -32602 {
		t.Fatalf("broadcast of an unsigned PSBT: %+v", e)
	}
}

// TestBumpFeeReplacesPayout: an unconfirmed payout is replaced by bumpfee's
// transaction; the node takes the replacement and drops the original.
func TestBumpFeeReplacesPayout(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	fundAndConfirm(t, node, d, seed, []string{vw.Receiving[0]}, []int64{50_000_000}, "0.50000000")
	dest := vectorWallet(t, "standard-account-xpub").Receiving[0]
	var raw string
	d.Must(&raw, "", "payto", dest, "0.3", named(seed, "feerate", 1))
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	old := mustHash(t, txid)
	var oldFee string
	d.Must(&oldFee, seed, "get_used_fee", txid)
	var bumped string
	d.Must(&bumped, "", "bumpfee", raw, 5, named(seed))
	tx := decodeHexTx(t, bumped)
	newID, err := node.SendRaw(tx)
	if err != nil {
		t.Fatalf("node refused the replacement: %v", err)
	}
	if !node.InMempool(newID) || node.InMempool(old) {
		t.Fatal("replacement not in the mempool, or original still there")
	}
	harness.WaitFor(t, 10*time.Second, "replacement seen", func() bool {
		_, err := d.Call(seed, "get_tx_status", newID.String())
		return err == nil
	})
	var newFee string
	d.Must(&newFee, seed, "get_used_fee", newID.String())
	// The replaced payout leaves the wallet: its change is not counted
	// twice and its status is unknown.
	if _, err := d.Call(seed, "get_tx_status", txid); err == nil {
		t.Fatal("the replaced payout is still a wallet transaction")
	}
	vsize := (tx.SerializeSizeStripped()*3 + tx.SerializeSize() + 3) / 4
	var bal map[string]string
	d.Must(&bal, seed, "getbalance")
	wantUnconf := "-" + formatSats(30_000_000+parseSats(t, newFee))
	if bal["confirmed"] != "0.50000000" || bal["unconfirmed"] != wantUnconf {
		t.Fatalf("balance after bump %v, want confirmed 0.5 and unconfirmed %s", bal, wantUnconf)
	}
	if parseSats(t, newFee) < int64(5*vsize) || parseSats(t, newFee) <= parseSats(t, oldFee) {
		t.Fatalf("bumped fee %s (old %s) for vsize %d", newFee, oldFee, vsize)
	}
	// A lower rate is refused; a broadcast failure names the node's reason.
	if e := rpcErr(t, d, "", "bumpfee", bumped, 2, named(seed)); e.Code != -32602 {
		t.Fatalf("bumpfee lower: %+v", e)
	}
	if e := rpcErr(t, d, "", "broadcast", raw); !strings.Contains(e.Message, "rejected") || len(e.Message) < 40 {
		t.Fatalf("broadcast of the replaced tx: %+v", e)
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	var st map[string]int64
	d.Must(&st, seed, "get_tx_status", newID.String())
	if st["confirmations"] != 1 {
		t.Fatalf("replacement status %v", st)
	}
}

// TestImmatureCoinbaseNotSpent: a coinbase paying the wallet is unmatured
// and never selected until the block that makes it mature.
func TestImmatureCoinbaseNotSpent(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	fundAndConfirm(t, node, d, seed, []string{vw.Receiving[0]}, []int64{10_000_000}, "0.10000000")
	net, _ := params.BTC("regtest")
	script, err := net.PkScript(vw.Receiving[1])
	if err != nil {
		t.Fatal(err)
	}
	cbHeight := mineCoinbase(t, node, script, 100_000_000)
	waitSynced(t, d, cbHeight)
	harness.WaitFor(t, 10*time.Second, "unmatured balance", func() bool {
		var bal map[string]string
		raw, err := d.Call(seed, "getbalance")
		return err == nil && json.Unmarshal(raw, &bal) == nil && bal["unmatured"] == "1.00000000"
	})
	dest := vectorWallet(t, "p2wpkh-account-xpub").Receiving[0]
	if e := rpcErr(t, d, "", "payto", dest, "0.5", named(seed, "feerate", 1)); e.Code != -32006 {
		t.Fatalf("immature coinbase spent: %+v", e)
	}
	var raw string
	d.Must(&raw, "", "payto", dest, "!", named(seed, "feerate", 1))
	if tx := decodeHexTx(t, raw); len(tx.TxIn) != 1 {
		t.Fatalf("send-everything spends %d inputs", len(tx.TxIn))
	}
	// Spendable in block cbHeight+100, i.e. once the tip is cbHeight+99.
	node.Generate(98)
	waitSynced(t, d, node.Height())
	if e := rpcErr(t, d, "", "payto", dest, "0.5", named(seed, "feerate", 1)); e.Code != -32006 {
		t.Fatalf("coinbase spent one block early: %+v", e)
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	d.Must(&raw, "", "payto", dest, "0.5", named(seed, "feerate", 1))
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	if !node.InMempool(mustHash(t, txid)) {
		t.Fatal("matured coinbase spend not accepted")
	}
}

// mineCoinbase builds, solves and submits a block on the node's tip whose
// coinbase pays value to pkScript, and returns its height.
func mineCoinbase(t *testing.T, node *harness.Node, pkScript []byte, value int64) int32 {
	t.Helper()
	prevHash := node.BestHash()
	prev := node.Block(prevHash)
	height := node.Height() + 1
	sigScript, err := txscript.NewScriptBuilder().AddInt64(int64(height)).AddData([]byte("walletd test")).Script()
	if err != nil {
		t.Fatal(err)
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: wire.MaxPrevOutIndex}, SignatureScript: sigScript,
		Sequence: wire.MaxTxInSequenceNum})
	cb.AddTxOut(wire.NewTxOut(value, pkScript))
	ts := prev.Header.Timestamp.Add(time.Second)
	if now := time.Now().Truncate(time.Second); now.After(ts) {
		ts = now
	}
	hdr := wire.BlockHeader{Version: 0x20000000, PrevBlock: prevHash, MerkleRoot: cb.TxHash(), Timestamp: ts,
		Bits: prev.Header.Bits}
	target := compactToBig(hdr.Bits)
	for nonce := uint32(0); ; nonce++ {
		hdr.Nonce = nonce
		h := hdr.BlockHash()
		if hashToBig(h).Cmp(target) <= 0 {
			break
		}
		if nonce == 1<<24 {
			t.Fatal("cannot solve a regtest block")
		}
	}
	blk := wire.MsgBlock{Header: hdr, Transactions: []*wire.MsgTx{cb}}
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := node.Call(ctx, "submitblock", hex.EncodeToString(buf.Bytes()))
	if err != nil || string(res) != "null" {
		t.Fatalf("submitblock: %s %v", res, err)
	}
	node.WaitForHeight(height)
	return height
}

func compactToBig(c uint32) *big.Int {
	mantissa := int64(c & 0x007fffff)
	exp := uint(c >> 24)
	var n *big.Int
	if exp <= 3 {
		n = big.NewInt(mantissa >> (8 * (3 - exp)))
	} else {
		n = new(big.Int).Lsh(big.NewInt(mantissa), 8*(exp-3))
	}
	if c&0x00800000 != 0 {
		n.Neg(n)
	}
	return n
}

func hashToBig(h chainhash.Hash) *big.Int {
	var be [32]byte
	for i := range h {
		be[31-i] = h[i]
	}
	return new(big.Int).SetBytes(be[:])
}
