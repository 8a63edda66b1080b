package utxo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/psbt/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/spec"
)

// withTxs is the estimatesOnly stand-in that also serves transactions by
// id (unit tests only; the integration tests use a real node).
type withTxs struct {
	*estimatesOnly
	txs map[chainhash.Hash]*wire.MsgTx
}

func (b *withTxs) Transaction(_ context.Context, id chainhash.Hash) (*chain.TxInfo, error) {
	if tx, ok := b.txs[id]; ok {
		return &chain.TxInfo{Tx: tx}, nil
	}
	return nil, chain.ErrNotFound
}

// testKey is a regtest key with its Electrum export and output script.
type testKey struct {
	key    *btcec.PrivateKey
	export string
	script []byte
}

func newTestKey(t *testing.T, st params.ScriptType, compressed bool) testKey {
	t.Helper()
	regtest, _ := params.BTC("regtest")
	k, _ := btcec.NewPrivateKey()
	wif, _ := btcutil.NewWIF(k, regtest.Chain, compressed)
	pub := k.PubKey().SerializeUncompressed()
	if compressed {
		pub = k.PubKey().SerializeCompressed()
	}
	_, script, err := regtest.PubKeyAddress(st, pub)
	if err != nil {
		t.Fatal(err)
	}
	export := st.String() + ":" + wif.String()
	if st == params.P2PKH && !compressed {
		export = wif.String() // a plain WIF is p2pkh
	}
	return testKey{key: k, export: export, script: script}
}

// verifyAll runs btcd's script engine on every input of tx.
func verifyAll(t *testing.T, tx *wire.MsgTx, prevs map[wire.OutPoint]*wire.TxOut) {
	t.Helper()
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		prev := prevs[in.PreviousOutPoint]
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err == nil {
			err = vm.Execute()
		}
		if err != nil {
			t.Fatalf("input %d does not verify: %v", i, err)
		}
	}
}

func decodeHexTx(t *testing.T, s string) *wire.MsgTx {
	t.Helper()
	raw, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("not hex: %q", s)
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	return tx
}

// TestSignTransactionWithPrivkey: a raw transaction spending a p2wpkh and
// an uncompressed p2pkh output (prevouts looked up on the backend) is
// signed input by input: one key gives a PSBT with that input finalized,
// the other key on that PSBT completes it (raw hex), and the signatures
// verify; Electrum (python3-electrum) completes the half-signed PSBT too.
// A key of another address signs nothing; bad keys are -32602 without
// echoing the key.
func TestSignTransactionWithPrivkey(t *testing.T) {
	a := newTestKey(t, params.P2WPKH, true)
	b := newTestKey(t, params.P2PKH, false)
	funding := wire.NewMsgTx(2)
	funding.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{9}}, nil, nil))
	funding.AddTxOut(wire.NewTxOut(70_000, a.script))
	funding.AddTxOut(wire.NewTxOut(80_000, b.script))
	fid := funding.TxHash()
	backend := &withTxs{estimatesOnly: &estimatesOnly{}, txs: map[chainhash.Hash]*wire.MsgTx{fid: funding}}
	c := newDaemonWith(t, "regtest", backend)

	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fid, Index: 0}, nil, nil))
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fid, Index: 1}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(140_000, a.script))
	var buf bytes.Buffer
	_ = spend.Serialize(&buf)
	raw := hex.EncodeToString(buf.Bytes())

	other := newTestKey(t, params.P2WPKH, true)
	var untouched string
	c.result(&untouched, "signtransaction_with_privkey", raw, other.export)
	p, err := psbt.NewFromRawBytes(strings.NewReader(untouched), true)
	if err != nil {
		t.Fatalf("unsigned result %q: %v", untouched, err)
	}
	if len(p.Inputs[0].FinalScriptWitness) > 0 || len(p.Inputs[1].FinalScriptSig) > 0 {
		t.Fatal("a key of another address signed an input")
	}

	var half string
	c.result(&half, "signtransaction_with_privkey", raw, []string{a.export})
	p, err = psbt.NewFromRawBytes(strings.NewReader(half), true)
	if err != nil {
		t.Fatalf("half-signed result %q: %v", half, err)
	}
	if len(p.Inputs[0].FinalScriptWitness) == 0 || len(p.Inputs[1].FinalScriptSig) > 0 ||
		p.Inputs[1].NonWitnessUtxo == nil || p.Inputs[1].NonWitnessUtxo.TxHash() != fid {
		t.Fatalf("half-signed PSBT: input 0 final %x, input 1 final %x", p.Inputs[0].FinalScriptWitness, p.Inputs[1].FinalScriptSig)
	}
	// Electrum itself reads the half-signed PSBT and completes it.
	out, err := exec.Command("/usr/bin/python3", "-c", `
import sys, asyncio, tempfile
from electrum import constants
constants.set_regtest()
from electrum.commands import Commands
from electrum.simple_config import SimpleConfig
c = Commands(config=SimpleConfig({'electrum_path': tempfile.mkdtemp()}))
print(asyncio.run(c.signtransaction_with_privkey(sys.argv[1], sys.argv[2])))`, half, b.export).Output()
	if err != nil {
		t.Fatalf("python3-electrum: %v", err)
	}
	verifyAll(t, decodeHexTx(t, strings.TrimSpace(string(out))), map[wire.OutPoint]*wire.TxOut{
		{Hash: fid, Index: 0}: funding.TxOut[0], {Hash: fid, Index: 1}: funding.TxOut[1]})
	var full string
	c.result(&full, "signtransaction_with_privkey", half, b.export)
	tx := decodeHexTx(t, full)
	verifyAll(t, tx, map[wire.OutPoint]*wire.TxOut{
		{Hash: fid, Index: 0}: funding.TxOut[0], {Hash: fid, Index: 1}: funding.TxOut[1]})

	// Both keys at once on the raw transaction: complete in one call.
	var once string
	c.result(&once, "signtransaction_with_privkey", raw, []string{b.export, a.export})
	verifyAll(t, decodeHexTx(t, once), map[wire.OutPoint]*wire.TxOut{
		{Hash: fid, Index: 0}: funding.TxOut[0], {Hash: fid, Index: 1}: funding.TxOut[1]})

	for _, bad := range []any{"p2wpkh:" + strings.Repeat("K", 52), "p2sh:" + a.export[len("p2wpkh:"):], "p2wpkh:" + b.export,
		[]string{}, 7, strings.Repeat("x", 30)} {
		r := c.call("signtransaction_with_privkey", raw, bad)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) {
			t.Errorf("privkey %v: %+v", bad, r.Error)
			continue
		}
		if s, ok := bad.(string); ok && len(s) > 20 && strings.Contains(r.Error.Message, s[len(s)-20:]) {
			t.Errorf("the error echoes the key: %s", r.Error.Message)
		}
	}
	if code := c.errCode("signtransaction_with_privkey", "zz", a.export); code != int(spec.InvalidParams) {
		t.Errorf("bad tx: %d", code)
	}
}

// TestSweep: every unspent, mature output of the keys (found through the
// backend's history) goes to the destination, less the fee at the given
// rate on the signed size; spent outputs (in a block or the mempool) and
// immature coinbase are left out; imax caps the inputs; the transaction is
// signed, BIP125-replaceable and BIP69-sorted. Errors: no coins, fee above
// the total, fee and feerate together, bad keys.
func TestSweep(t *testing.T) {
	a := newTestKey(t, params.P2WPKH, true)
	b := newTestKey(t, params.P2PKH, false) // uncompressed: 32 more bytes the fee must pay for
	fund := wire.NewMsgTx(2)
	fund.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{7}}, nil, nil))
	fund.AddTxOut(wire.NewTxOut(100_000, a.script))
	fund.AddTxOut(wire.NewTxOut(200_000, b.script))
	fund.AddTxOut(wire.NewTxOut(300_000, a.script)) // spent in the mempool below
	fund.AddTxOut(wire.NewTxOut(400_000, a.script)) // spent in a block below
	fid := fund.TxHash()
	spender := func(idx uint32) *wire.MsgTx {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fid, Index: idx}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(1_000, []byte{txscript.OP_TRUE}))
		return tx
	}
	coinbase := wire.NewMsgTx(2)
	coinbase.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2}, nil))
	coinbase.AddTxOut(wire.NewTxOut(5_000_000_000, a.script))
	h := chainhash.Hash{3}
	backend := &estimatesOnly{history: []chain.TxInfo{
		{Tx: fund, BlockHash: &h, Height: 10},
		{Tx: spender(2)},
		{Tx: spender(3), BlockHash: &h, Height: 11},
		{Tx: coinbase, BlockHash: &h, Height: 12},
	}}
	c := newDaemonWith(t, "regtest", backend)
	dest := "bcrt1qttft7vh7w3er2akkpr4lu78z2ptdhgfxf739xf"
	keys := a.export + " " + b.export

	var raw string
	c.result(&raw, "sweep", keys, dest, nil, 2)
	tx := decodeHexTx(t, raw)
	if len(tx.TxIn) != 2 || len(tx.TxOut) != 1 {
		t.Fatalf("sweep: %d inputs, %d outputs; want the 2 unspent mature coins to 1 output", len(tx.TxIn), len(tx.TxOut))
	}
	prevs := map[wire.OutPoint]*wire.TxOut{{Hash: fid, Index: 0}: fund.TxOut[0], {Hash: fid, Index: 1}: fund.TxOut[1]}
	for _, in := range tx.TxIn {
		if prevs[in.PreviousOutPoint] == nil {
			t.Fatalf("sweep spends %v", in.PreviousOutPoint)
		}
		if in.Sequence != 0xfffffffd {
			t.Fatalf("nsequence %x, want BIP125's", in.Sequence)
		}
	}
	if tx.TxIn[0].PreviousOutPoint.Index != 0 {
		t.Fatal("inputs are not BIP69-sorted")
	}
	verifyAll(t, tx, prevs)
	fee := 300_000 - tx.TxOut[0].Value
	vsize := int64(btcutilTxVSize(tx))
	// 2 sat/vB on the estimated signed size: within a few vbytes of the real one.
	if fee < 2*(vsize-2) || fee > 2*(vsize+4) {
		t.Fatalf("fee %d for %d vbytes at 2 sat/vB", fee, vsize)
	}
	if tx.LockTime != 0 {
		t.Fatalf("locktime %d before any sync", tx.LockTime)
	}

	var one string
	c.result(&one, "sweep", keys, dest, "0.00001", nil, false, 1)
	if tx := decodeHexTx(t, one); len(tx.TxIn) != 1 || tx.TxOut[0].Value != 100_000-1_000 {
		t.Fatalf("imax=1, fee 1000 sat: %d inputs paying %d", len(tx.TxIn), tx.TxOut[0].Value)
	}

	nobody := newTestKey(t, params.P2WPKH, true)
	for name, call := range map[string][]any{
		"no coins":      {nobody.export, dest, nil, 2},
		"fee too large": {a.export, dest, "0.01", nil, false, 100, true},
	} {
		if code := c.errCode("sweep", call...); code != int(spec.NotEnoughFunds) {
			t.Errorf("%s: %d, want NotEnoughFunds", name, code)
		}
	}
	for name, call := range map[string][]any{
		"fee and feerate": {keys, dest, "0.0001", 2},
		"bad key":         {"p2wpkh:" + strings.Repeat("L", 52), dest, nil, 2},
		"imax 0":          {keys, dest, nil, 2, false, 0},
		"empty":           {"  ", dest, nil, 2},
	} {
		if code := c.errCode("sweep", call...); code != int(spec.InvalidParams) {
			t.Errorf("%s: %d, want InvalidParams", name, code)
		}
	}
	if code := c.errCode("sweep", keys, "notanaddress", nil, 2); code != int(spec.InvalidAddress) {
		t.Errorf("bad destination: %d", code)
	}
	// The fee cap applies as in payto.
	if code := c.errCode("sweep", keys, dest, "0.2"); code != int(spec.InvalidParams) {
		t.Errorf("fee above BTC_MAX_TX_FEE: %d", code)
	}
}

func btcutilTxVSize(tx *wire.MsgTx) int {
	return (int(tx.SerializeSizeStripped())*3 + tx.SerializeSize() + 3) / 4
}

// TestCreatemultisigMatchesElectrum: the address and redeem script are
// Electrum's own (python3-electrum's multisig_script and hash160_to_p2sh,
// keys in the order given); bad arguments are -32602.
func TestCreatemultisigMatchesElectrum(t *testing.T) {
	c := newDaemon(t, "mainnet")
	var pubs []string
	for i := 0; i < 3; i++ {
		k, _ := btcec.NewPrivateKey()
		pubs = append(pubs, hex.EncodeToString(k.PubKey().SerializeCompressed()))
	}
	var got map[string]string
	c.result(&got, "createmultisig", 2, pubs)
	arg, _ := json.Marshal(pubs)
	out, err := exec.Command("/usr/bin/python3", "-c", `
import sys, json
from electrum import bitcoin
from electrum.transaction import multisig_script
from electrum.crypto import hash_160
s = multisig_script(json.loads(sys.argv[1]), 2)
s = s if isinstance(s, str) else s.hex()
print(json.dumps({"address": bitcoin.hash160_to_p2sh(hash_160(bytes.fromhex(s))), "redeemScript": s}))`, string(arg)).Output()
	if err != nil {
		t.Fatalf("python3-electrum: %v", err)
	}
	var want map[string]string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	if got["address"] != want["address"] || got["redeemScript"] != want["redeemScript"] {
		t.Fatalf("createmultisig = %v, Electrum says %v", got, want)
	}
	for name, call := range map[string][]any{
		"num 0":     {0, pubs},
		"num > n":   {4, pubs},
		"not hex":   {1, []string{"zz"}},
		"not a key": {1, []string{"02" + strings.Repeat("00", 32)}},
		"16 keys":   {1, append(append(append(append(append([]string{}, pubs...), pubs...), pubs...), pubs...), append(pubs, pubs...)...)},
		"not list":  {1, 5},
	} {
		if code := c.errCode("createmultisig", call...); code != int(spec.InvalidParams) {
			t.Errorf("%s: %d", name, code)
		}
	}
}

// TestEncryptForElectrum: what encrypt answers, python3-electrum decrypts
// with the private key; a bad pubkey is -32602.
func TestEncryptForElectrum(t *testing.T) {
	c := newDaemon(t, "mainnet")
	k, _ := btcec.NewPrivateKey()
	var enc string
	c.result(&enc, "encrypt", hex.EncodeToString(k.PubKey().SerializeCompressed()), "pay 0.1 BTC ✓")
	out, err := exec.Command("/usr/bin/python3", "-c", `
import sys
from electrum import ecc
print(ecc.ECPrivkey(bytes.fromhex(sys.argv[1])).decrypt_message(sys.argv[2]).decode())`,
		hex.EncodeToString(k.Serialize()), enc).Output()
	if err != nil {
		t.Fatalf("python3-electrum: %v", err)
	}
	if strings.TrimSpace(string(out)) != "pay 0.1 BTC ✓" {
		t.Fatalf("Electrum decrypted %q", out)
	}
	for _, bad := range []string{"zz", "", "02" + strings.Repeat("00", 32)} {
		if code := c.errCode("encrypt", bad, "x"); code != int(spec.InvalidParams) {
			t.Errorf("encrypt(%q): %d", bad, code)
		}
	}
}

// TestNetworkMethodsNeedElectrumBackend: on a node backend getservers and
// getmerkle answer the catalogued BackendUnsupportedError naming the
// backend to use; getmerkle's arguments are checked first.
func TestNetworkMethodsNeedElectrumBackend(t *testing.T) {
	c := newDaemonWith(t, "regtest", &estimatesOnly{})
	r := c.call("getservers")
	if r.Error == nil || r.Error.Code != int(spec.BackendUnsupported) || !strings.Contains(r.Error.Message, "BTC_SERVER") {
		t.Fatalf("getservers: %+v", r.Error)
	}
	if code := c.errCode("getmerkle", strings.Repeat("ab", 32), 5); code != int(spec.BackendUnsupported) {
		t.Fatalf("getmerkle: %d", code)
	}
	if code := c.errCode("getmerkle", "nothex", 5); code != int(spec.InvalidTxHash) {
		t.Fatalf("getmerkle bad txid: %d", code)
	}
	if code := c.errCode("getmerkle", strings.Repeat("ab", 32), -1); code != int(spec.InvalidParams) {
		t.Fatalf("getmerkle bad height: %d", code)
	}
}
