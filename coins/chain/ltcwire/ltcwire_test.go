package ltcwire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// The fixtures come from Debian's litecoind 0.21.2.1 on regtest after MWEB
// activation (height 432): block 432 holds a peg-in transaction (witness and
// MWEB data) and the first HogEx followed by its MWEB block; block_pegout's
// HogEx pays an MWEB peg-out of 0.1 LTC to a canonical address; tx_mwebonly is
// an MWEB-to-MWEB transaction from the mempool. The expected txids are the
// node's (getblock verbosity 1, sendtoaddress).

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	s, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(s)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func txids(txs []*wire.MsgTx) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		out[i] = tx.TxHash().String()
	}
	return out
}

func TestBlockWithPegInAndHogEx(t *testing.T) {
	b, err := DecodeBlock(fixture(t, "block432.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Hash().String(); got != "06f8198cb6f9b96add8da66c308e4d3595d6fb5dc05dbc24b97fbac366bf9ef7" {
		t.Fatalf("block hash %s", got)
	}
	want := []string{
		"406ae135bad966a192af37456574e9818d0130725508845bc387cc6b89c9d8d3", // coinbase
		"ac93f4d5207fa2f8e3962ff758ca2317457366b2f65137bdee5bd2cda436e13c", // peg-in
		"c6e87ff88774c0c366710ab51a9362dd7f0318cbe8c495c1b51469b0809912ed", // HogEx
	}
	if got := txids(b.Txs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("txids %v, want %v", got, want)
	}
	if !b.HasMWEB {
		t.Fatal("HasMWEB false")
	}
	pegin := b.Txs[1]
	if len(pegin.TxIn) != 1 || len(pegin.TxIn[0].Witness) != 2 || len(pegin.TxOut) != 1 {
		t.Fatalf("peg-in tx shape: %d ins, %d witness items, %d outs", len(pegin.TxIn), len(pegin.TxIn[0].Witness), len(pegin.TxOut))
	}
	// The peg-in output is a witness v9 program (OP_9 <32 bytes>).
	if s := pegin.TxOut[0].PkScript; len(s) != 34 || s[0] != 0x59 || s[1] != 32 {
		t.Fatalf("peg-in script %x", s)
	}
}

func TestHogExPaysPegOut(t *testing.T) {
	b, err := DecodeBlock(fixture(t, "block_pegout.hex"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"e047a4a7e9f0696ad2f2d64730989d2c6d09365c9f661d4b5b80a6e4c4bac116",
		"da6f2cc70c7f9501f7eff5c30dca420b676f2ab0c1dc454a53bdbaaa0463666c",
	}
	if got := txids(b.Txs); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("txids %v, want %v", got, want)
	}
	hog := b.Txs[1]
	if len(hog.TxOut) != 2 || hog.TxOut[1].Value != 10_000_000 {
		t.Fatalf("HogEx outputs %+v", hog.TxOut)
	}
	// rltc1q3kmpkjuk8musfjv5rv36v5u6v072xt67hranz4
	if got := hex.EncodeToString(hog.TxOut[1].PkScript); got != "00148db61b4b963ef904c9941b23a6539a63fca32f5e" {
		t.Fatalf("peg-out script %s", got)
	}
}

func TestMempoolTransactions(t *testing.T) {
	tx, err := DecodeTx(fixture(t, "tx_pegin.hex"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tx.TxHash().String(); got != "ac93f4d5207fa2f8e3962ff758ca2317457366b2f65137bdee5bd2cda436e13c" {
		t.Fatalf("peg-in txid %s", got)
	}
	if _, err := DecodeTx(fixture(t, "tx_mwebonly.hex")); !errors.Is(err, ErrMWEBOnly) {
		t.Fatalf("MWEB-only tx: %v, want ErrMWEBOnly", err)
	}
}

// TestBitcoinUnchanged: transactions and blocks without MWEB data decode
// exactly as btcd's wire decodes them.
func TestBitcoinUnchanged(t *testing.T) {
	legacy := wire.NewMsgTx(1)
	legacy.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{1}, Index: 3}, []byte{0x51}, nil))
	legacy.AddTxOut(wire.NewTxOut(5000, []byte{0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}))
	witness := legacy.Copy()
	witness.TxIn[0].Witness = wire.TxWitness{{1, 2, 3}, {4}}
	witness.LockTime = 77
	for _, tx := range []*wire.MsgTx{legacy, witness} {
		var buf bytes.Buffer
		if err := tx.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := DecodeTx(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		var again bytes.Buffer
		_ = got.Serialize(&again)
		if !bytes.Equal(again.Bytes(), buf.Bytes()) || got.WitnessHash() != tx.WitnessHash() {
			t.Fatal("round trip differs")
		}
	}
	blk := wire.NewMsgBlock(wire.NewBlockHeader(1, &chainhash.Hash{9}, &chainhash.Hash{8}, 0x207fffff, 5))
	_ = blk.AddTransaction(legacy)
	_ = blk.AddTransaction(witness)
	var buf bytes.Buffer
	if err := blk.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	b, err := DecodeBlock(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if b.Hash() != blk.BlockHash() || len(b.Txs) != 2 || b.HasMWEB ||
		b.Txs[0].TxHash() != legacy.TxHash() || b.Txs[1].WitnessHash() != witness.WitnessHash() {
		t.Fatalf("block decoded differently: %v", txids(b.Txs))
	}
	if _, err := DecodeBlock(append(buf.Bytes(), 0)); err == nil {
		t.Fatal("trailing byte after a block without MWEB accepted")
	}
	if _, err := DecodeTx(append(bytesOf(t, legacy), 0)); err == nil {
		t.Fatal("trailing byte after a transaction accepted")
	}
}

func bytesOf(t *testing.T, tx *wire.MsgTx) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestTruncatedNeverPanics: every prefix of the fixtures fails cleanly.
func TestTruncatedNeverPanics(t *testing.T) {
	for _, name := range []string{"block432.hex", "block_pegout.hex"} {
		raw := fixture(t, name)
		for n := 0; n < len(raw); n += 7 {
			if _, err := DecodeBlock(raw[:n]); err == nil {
				t.Fatalf("%s truncated to %d bytes decoded", name, n)
			}
		}
	}
	for _, name := range []string{"tx_pegin.hex", "tx_mwebonly.hex"} {
		raw := fixture(t, name)
		for n := 0; n < len(raw); n += 5 {
			if _, err := DecodeTx(raw[:n]); err == nil || errors.Is(err, ErrMWEBOnly) {
				t.Fatalf("%s truncated to %d bytes: %v", name, n, err)
			}
		}
	}
}

func TestCoreVarInt(t *testing.T) {
	// serialize.h: 0 → 00, 127 → 7f, 128 → 80 00, 255 → 80 7f, 16383 →
	// fe 7f, 16384 → ff 00, 16511 → ff 7f, 65535 → 82 fe 7f.
	cases := map[string]uint64{"00": 0, "7f": 127, "8000": 128, "807f": 255, "fe7f": 16383,
		"ff00": 16384, "ff7f": 16511, "82fe7f": 65535}
	for h, want := range cases {
		b, _ := hex.DecodeString(h)
		got, err := readCoreVarInt(bytes.NewReader(b))
		if err != nil || got != want {
			t.Errorf("VARINT %s = %d, %v; want %d", h, got, err, want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	for _, name := range []string{"block432.hex", "block_pegout.hex", "tx_pegin.hex", "tx_mwebonly.hex"} {
		s, _ := os.ReadFile(filepath.Join("testdata", name))
		b, _ := hex.DecodeString(strings.TrimSpace(string(s)))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = DecodeBlock(raw)
		_, _ = DecodeTx(raw)
	})
}
