package utxo

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/spec"
)

// TestSerializeSignsTemplate: Electrum's serialize template is built,
// BIP69-sorted and signed with the keys it carries (p2wpkh, p2pkh and
// p2wpkh-p2sh inputs), and the signatures verify under btcd's script
// engine; deserialize reads it back. A template missing a key gives an
// unsigned PSBT.
func TestSerializeSignsTemplate(t *testing.T) {
	c := newDaemon(t, "regtest")
	regtest, _ := params.BTC("regtest")
	type input struct {
		st    params.ScriptType
		value int64
	}
	ins := []input{{params.P2WPKH, 50_000}, {params.P2PKH, 60_000}, {params.P2WPKHP2SH, 70_000}}
	var tplIns []map[string]any
	prevs := map[wire.OutPoint]*wire.TxOut{}
	for i, in := range ins {
		k, _ := btcec.NewPrivateKey()
		wif, _ := btcutil.NewWIF(k, regtest.Chain, true)
		_, script, err := regtest.PubKeyAddress(in.st, k.PubKey().SerializeCompressed())
		if err != nil {
			t.Fatal(err)
		}
		hash := strings.Repeat(string("0123456789abcdef"[i]), 64)
		tplIns = append(tplIns, map[string]any{"prevout_hash": hash, "prevout_n": i, "value_sats": in.value,
			"privkey": in.st.String() + ":" + wif.String()})
		op, _ := parseCoins(strList{hash + ":" + string(rune('0'+i))})
		prevs[op[0]] = wire.NewTxOut(in.value, script)
	}
	tpl := map[string]any{"inputs": tplIns, "outputs": []map[string]any{
		{"address": "bcrt1qttft7vh7w3er2akkpr4lu78z2ptdhgfxf739xf", "value_sats": 100_000},
		{"address": "bcrt1qx4y7d5wt9cn585cqyxc7899khtz2dsl0qnufkz", "value_sats": 70_000}}, "locktime": 7}
	// As the SDK sends it: the template, then the named arguments object
	// (an object last is always the named arguments).
	none := map[string]any{}
	var raw string
	c.result(&raw, "serialize", tpl, none)
	b, err := hex.DecodeString(raw)
	if err != nil {
		t.Fatalf("serialize = %q", raw)
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	fetcher := txscript.NewMultiPrevOutFetcher(prevs)
	hashes := txscript.NewTxSigHashes(tx, fetcher)
	for i, in := range tx.TxIn {
		prev := prevs[in.PreviousOutPoint]
		vm, err := txscript.NewEngine(prev.PkScript, tx, i, txscript.StandardVerifyFlags, nil, hashes, prev.Value, fetcher)
		if err != nil {
			t.Fatal(err)
		}
		if err := vm.Execute(); err != nil {
			t.Fatalf("input %d does not verify: %v", i, err)
		}
	}
	if tx.LockTime != 7 || tx.TxOut[0].Value != 70_000 || tx.TxIn[0].Sequence != 0xfffffffe {
		t.Fatalf("tx: locktime %d, outputs not BIP69-sorted or nsequence %x", tx.LockTime, tx.TxIn[0].Sequence)
	}
	var des txJSON
	c.result(&des, "deserialize", raw)
	if len(des.Inputs) != 3 || des.Inputs[0].Witness == nil || des.LockTime != 7 {
		t.Fatalf("deserialize = %+v", des)
	}
	delete(tplIns[1], "privkey")
	var psbt string
	c.result(&psbt, "serialize", tpl, none)
	if !strings.HasPrefix(psbt, "cHNidP8") {
		t.Fatalf("serialize without every key = %q, want a PSBT", psbt)
	}
	for _, bad := range []any{"junk", map[string]any{"inputs": []any{}, "outputs": []any{}},
		map[string]any{"inputs": []map[string]any{{"prevout_hash": strings.Repeat("a", 64), "prevout_n": 0}},
			"outputs": []map[string]any{{"address": "bcrt1qttft7vh7w3er2akkpr4lu78z2ptdhgfxf739xf", "value_sats": 1}}}} {
		if code := c.errCode("serialize", bad, none); code != int(spec.InvalidParams) {
			t.Errorf("serialize(%v): %d", bad, code)
		}
	}
}

// TestXkeyCommands: convert_xkey swaps version bytes both ways and
// getfingerprint is BIP32's fingerprint (test vector 1 of BIP32).
func TestXkeyCommands(t *testing.T) {
	c := newDaemon(t, "mainnet")
	const xprv = "xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi"
	const xpub = "xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8"
	const child = "xpub68Gmy5EdvgibQVfPdqkBBCHxA5htiqg55crXYuXoQRKfDBFA1WEjWgP6LHhwBZeNK1VTsfTFUHCdrfp1bgwQ9xv5ski8PX9rL2dZXvgGDnw"
	var fp any
	c.result(&fp, "getfingerprint", xprv)
	if fp != "3442193e" {
		t.Fatalf("getfingerprint(m xprv) = %v", fp)
	}
	c.result(&fp, "getfingerprint", xpub)
	if fp != "3442193e" {
		t.Fatalf("getfingerprint(m xpub) = %v", fp)
	}
	c.result(&fp, "getfingerprint", child) // m/0'
	if fp != "3442193e" {
		t.Fatalf("getfingerprint(m/0') = %v", fp)
	}
	var z, back string
	c.result(&z, "convert_xkey", xpub, "p2wpkh")
	c.result(&back, "convert_xkey", z, "standard")
	if !strings.HasPrefix(z, "zpub") || back != xpub {
		t.Fatalf("convert_xkey: %s, back %s", z, back)
	}
	c.result(&z, "convert_xkey", xprv, "p2wpkh-p2sh")
	if !strings.HasPrefix(z, "yprv") {
		t.Fatalf("convert_xkey(xprv, p2wpkh-p2sh) = %s", z)
	}
	for _, bad := range [][]any{{xpub, "p2tr"}, {"xpubjunk", "standard"}, {xpub[:len(xpub)-1] + "9", "standard"}} {
		if code := c.errCode("convert_xkey", bad...); code != int(spec.InvalidParams) {
			t.Errorf("convert_xkey(%v): %d", bad, code)
		}
	}
}
