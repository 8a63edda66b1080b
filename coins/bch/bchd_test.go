package bch_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	btxscript "github.com/btcsuite/btcd/txscript/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/bch"
	"github.com/walletd/walletd/integration/harness"
)

// TestBchdAcceptsSignedTransactions proves on a real bchd (regtest) that
// what Signer makes is a valid Bitcoin Cash transaction: Schnorr and ECDSA
// spends of compressed and uncompressed P2PKH coins are accepted by
// sendrawtransaction and mined; a fee of exactly FeeForSize(MinRelayFeePerKB,
// EstimateSize) is enough and one satoshi less is refused (so the size
// estimate and the policy are bchd's); a Bitcoin-style signature (no
// SIGHASH_FORKID) is refused; and the chain survives a restart
// (--regtestnoreset).
func TestBchdAcceptsSignedTransactions(t *testing.T) {
	n := harness.StartBchd(t)
	kc, sc, _ := n.NewKey(false)
	ku, su, _ := n.NewKey(true)
	opC, _ := n.FundScript(sc, 1_000_000)
	opU, _ := n.FundScript(su, 2_000_000)
	n.Generate(1)
	for _, op := range []wire.OutPoint{opC, opU} {
		if c := n.Confirmations(op.Hash); c < 1 {
			t.Fatalf("funding %s has %d confirmations", op.Hash, c)
		}
	}

	// Schnorr (the default), two inputs, exact minimum fee.
	kd, sd, _ := n.NewKey(false)
	prevs := []*wire.TxOut{{Value: 1_000_000, PkScript: sc}, {Value: 2_000_000, PkScript: su}}
	build := func(fee int64) *wire.MsgTx {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&opC, nil, nil))
		tx.AddTxIn(wire.NewTxIn(&opU, nil, nil))
		tx.AddTxOut(wire.NewTxOut(3_000_000-fee, sd))
		return tx
	}
	s := bch.Signer{}
	size := s.EstimateSize(build(0), prevs, []int{33, 65})
	fee := bch.FeeForSize(bch.MinRelayFeePerKB, size)
	low := build(fee - 1)
	if err := s.SignInputs(low, prevs, []*btcec.PrivateKey{kc, ku}); err != nil {
		t.Fatal(err)
	}
	if low.SerializeSize() != size {
		t.Fatalf("signed size %d, estimated %d", low.SerializeSize(), size)
	}
	var rpcErr *harness.RPCError
	// bchd v0.22.2 tests a fee under the minimum relay fee through its
	// priority rule, whose refusal says so.
	if _, err := n.SendRaw(low); !errors.As(err, &rpcErr) || !strings.Contains(rpcErr.Message, "insufficient priority") {
		t.Fatalf("a fee one satoshi under the minimum was not refused for it: %v", err)
	}
	tx := build(fee)
	if err := s.SignInputs(tx, prevs, []*btcec.PrivateKey{kc, ku}); err != nil {
		t.Fatal(err)
	}
	txid, err := n.SendRaw(tx)
	if err != nil {
		t.Fatalf("bchd refused a Schnorr-signed transaction: %v", err)
	}
	if txid != tx.TxHash() || n.Confirmations(txid) != 0 {
		t.Fatalf("txid %s, want %s in the mempool", txid, tx.TxHash())
	}

	// A Bitcoin-style signature of the same output is refused.
	op := wire.OutPoint{Hash: txid, Index: 0}
	value := tx.TxOut[0].Value
	btc := wire.NewMsgTx(2)
	btc.AddTxIn(wire.NewTxIn(&op, nil, nil))
	btc.AddTxOut(wire.NewTxOut(value-1000, sd))
	sig, err := btxscript.SignatureScript(btc, 0, sd, btxscript.SigHashAll, kd, true)
	if err != nil {
		t.Fatal(err)
	}
	btc.TxIn[0].SignatureScript = sig
	if _, err := n.SendRaw(btc); !errors.As(err, &rpcErr) || !strings.Contains(rpcErr.Message, "forkID") {
		t.Fatalf("bchd did not refuse a signature without SIGHASH_FORKID for it: %v", err)
	}

	// ECDSA, spending the unconfirmed output.
	ecdsaTx := wire.NewMsgTx(2)
	ecdsaTx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	ecdsaTx.AddTxOut(wire.NewTxOut(0, sc))
	e := bch.Signer{Scheme: bch.ECDSA}
	ecdsaTx.TxOut[0].Value = value - bch.FeeForSize(bch.DefaultFeePerKB, e.EstimateSize(ecdsaTx, nil, nil))
	if err := e.SignInputs(ecdsaTx, []*wire.TxOut{{Value: value, PkScript: sd}}, []*btcec.PrivateKey{kd}); err != nil {
		t.Fatal(err)
	}
	etxid, err := n.SendRaw(ecdsaTx)
	if err != nil {
		t.Fatalf("bchd refused an ECDSA-signed transaction: %v", err)
	}

	n.Generate(1)
	height := n.Height()
	if c := n.Confirmations(txid); c != 1 {
		t.Errorf("Schnorr spend: %d confirmations, want 1", c)
	}
	if c := n.Confirmations(etxid); c != 1 {
		t.Errorf("ECDSA spend: %d confirmations, want 1", c)
	}

	// The chain (and what the signer spent) survives a restart.
	n.Restart()
	if h := n.Height(); h != height {
		t.Fatalf("height %d after restart, want %d", h, height)
	}
	if c := n.Confirmations(etxid); c != 1 {
		t.Errorf("after restart: %d confirmations, want 1", c)
	}
	// Funding keeps working after the restart (coinbases already spent are
	// skipped).
	opAfter, _ := n.FundScript(sd, 5000)
	n.Generate(1)
	if c := n.Confirmations(opAfter.Hash); c != 1 {
		t.Errorf("funding after restart: %d confirmations", c)
	}
}
