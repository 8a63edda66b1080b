package wallet_test

import (
	"context"
	"os"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/wallet"
)

// The store fixtures of testdata/ are written by running storeScenario
// with the engine of the revision whose schema they keep:
//
//	WALLETD_WRITE_STORE_FIXTURE=$PWD/coins/wallet/testdata/store-v1-cdf8c0e.db \
//	  go test -run TestWriteStoreFixture ./coins/wallet/
//
// (store-v1-cdf8c0e.db: at cdf8c0e, schema 1; store-v2-6485000.db: main at
// 6485000, schema 2; store-v3-5ca9503.db: main at 5ca9503, schema 3,
// compacted; store-v4-db4005c.db: main at db4005c, schema 4, compacted;
// store-v5-3cd536b.db: main at 3cd536b, schema 5, compacted).
// The migration tests replay the same
// scenario with the current engine on a new store and compare.

// fixtureWallets are the scenario's wallets: two account xpubs and an
// imported address list.
type fixtureWallets struct {
	a, b, c *wallet.Wallet
}

// fixtureKeys are the key strings of the scenario's wallets.
func fixtureKeys(t *testing.T) (a, b, c string) {
	imported := regtestWallet(t, "p2wpkh-p2sh-account-xpub")
	return regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial, regtestWallet(t, "standard-account-xpub").KeyMaterial,
		imported.Receiving[0] + " " + imported.Receiving[1]
}

// storeScenario drives ev's engine through every kind of record a store
// holds: wallets (deterministic and imported), requests paid in a block,
// paid in the mempool, unpaid, expired; a coin spent in a later block with
// change; labels, frozen addresses and coins, a changed gap limit, a
// get_updates cursor. The chain is ev.chain, mined from height 1; the
// same calls make the same chain and records.
func storeScenario(t *testing.T, ev *env) fixtureWallets {
	t.Helper()
	ctx := context.Background()
	ka, kb, kc := fixtureKeys(t)
	var fw fixtureWallets
	var err error
	if fw.a, err = ev.eng.Open(ctx, ka); err != nil {
		t.Fatal(err)
	}
	if fw.b, err = ev.eng.Open(ctx, kb); err != nil {
		t.Fatal(err)
	}
	if fw.c, err = ev.eng.Open(ctx, kc); err != nil {
		t.Fatal(err)
	}
	r1, err := fw.a.AddRequest(ctx, 50_000, "fixture & co", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err = fw.a.AddRequest(ctx, 70_000, "expires", 3600, false); err != nil {
		t.Fatal(err)
	}
	r3, err := fw.a.AddRequest(ctx, 20_000, "mempool", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := fw.c.AddRequest(ctx, 10_000, "imported", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	status := func(w *wallet.Wallet, id string, want int) {
		t.Helper()
		waitFor(t, func() bool {
			v, err := w.GetRequest(ctx, id)
			return err == nil && v.Status == want
		})
	}
	tx1 := payTx(r1.PkScript, 50_000, 1)
	ev.chain.mine(tx1) // height 2
	status(fw.a, r1.ID, wallet.StatusPaid)
	ev.chain.mempoolAdd(payTx(r3.PkScript, 20_000, 2))
	status(fw.a, r3.ID, wallet.StatusUnconfirmed)
	// A spends r1's coin: 30,000 to B, 19,000 of change.
	addrsA, err := fw.a.Addresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	addrsB, err := fw.b.Addresses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var change []byte
	for _, a := range addrsA {
		if a.Change && a.Index == 0 {
			change = a.PkScript
		}
	}
	tx3 := wire.NewMsgTx(2)
	tx3.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: tx1.TxHash(), Index: 0}, nil, nil))
	tx3.AddTxOut(wire.NewTxOut(30_000, addrsB[0].PkScript))
	tx3.AddTxOut(wire.NewTxOut(19_000, change))
	ev.chain.mine(tx3) // height 3
	waitFor(t, func() bool {
		b, _ := fw.b.Balance(ctx)
		return b.Confirmed == 30_000
	})
	ev.chain.mine(payTx(rc.PkScript, 10_000, 3)) // height 4
	status(fw.c, rc.ID, wallet.StatusPaid)
	if _, err := fw.a.SetLabel(ctx, r1.Address, "first invoice"); err != nil {
		t.Fatal(err)
	}
	if _, err := fw.a.SetLabel(ctx, tx1.TxHash().String(), "paid by a customer"); err != nil {
		t.Fatal(err)
	}
	if ok, err := fw.a.SetAddressesFrozen(ctx, []string{addrsA[5].Address}, true); err != nil || !ok {
		t.Fatalf("freeze address: %v %v", ok, err)
	}
	if err := fw.a.SetCoinsFrozen(ctx, []wire.OutPoint{{Hash: tx3.TxHash(), Index: 1}}, true); err != nil {
		t.Fatal(err)
	}
	if ok, err := fw.a.SetGapLimit(ctx, 25); err != nil || !ok {
		t.Fatalf("gap limit: %v %v", ok, err)
	}
	if _, err := fw.a.Updates(ctx); err != nil {
		t.Fatal(err)
	}
	return fw
}

// TestWriteStoreFixture writes the scenario's store to
// $WALLETD_WRITE_STORE_FIXTURE (see above); without it, it does nothing.
func TestWriteStoreFixture(t *testing.T) {
	path := os.Getenv("WALLETD_WRITE_STORE_FIXTURE")
	if path == "" {
		t.Skip("set WALLETD_WRITE_STORE_FIXTURE to the file to write")
	}
	_ = os.Remove(path)
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, path, fc)
	storeScenario(t, ev)
	ev.close()
}
