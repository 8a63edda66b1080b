package wallet_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"
)

// TestCoinbaseReconnectedAnnouncedOnce: a coinbase paying a wallet loses
// its records when its block is disconnected (a coinbase cannot return to
// the mempool), while its new_transaction stays logged; when a block mines
// it again, it is verified again but not announced as new a second time.
func TestCoinbaseReconnectedAnnouncedOnce(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	w, err := ev.eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	as, err := w.Addresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2, 3}, nil))
	cb.AddTxOut(wire.NewTxOut(50_000_000, as[0].PkScript))
	id := cb.TxHash().String()
	from := 0
	fc.mine(cb)
	ev.rec.waitEvent(t, &from, func(b evBody) bool { return b.Event == "verified_tx" && b.Tx == id })
	fc.reorg(1)
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Unmatured == 0 })
	fc.mine() // the disconnected block's transactions, the coinbase among them
	ev.rec.waitEvent(t, &from, func(b evBody) bool { return b.Event == "verified_tx" && b.Tx == id })
	news := 0
	for _, e := range ev.rec.snapshot() {
		if b := bodyOf(e); b.Event == "new_transaction" && b.Tx == id {
			news++
		}
	}
	if news != 1 {
		t.Fatalf("the coinbase was announced as new %d times, want once", news)
	}
}
