package wallet_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/wallet"
)

// TestBlockPayingManyWalletsExtendsTheirGaps: a block paying receiving
// address 4 and change address 1 of 24 wallets extends each wallet's gap
// limits with its own keys, indexed and watched: every wallet
// then lists 25 receiving and 12 change addresses, each the key its
// account derives at that index, the indexes match the store, and a
// payment to the last new receiving address is credited.
func TestBlockPayingManyWalletsExtendsTheirGaps(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	var ws []*wallet.Wallet
	var pays []*wire.MsgTx
	for i := 0; i < 24; i++ {
		w, err := ev.eng.Open(ctx, benchXpub(t, i))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
		recv, err := w.Material().Derive(false, 4)
		if err != nil {
			t.Fatal(err)
		}
		change, err := w.Material().Derive(true, 1)
		if err != nil {
			t.Fatal(err)
		}
		tx := payTx(recv.PkScript, 10_000, byte(i))
		tx.AddTxOut(wire.NewTxOut(5_000, change.PkScript))
		pays = append(pays, tx)
	}
	fc.mine(pays...)
	for i, w := range ws {
		waitFor(t, func() bool {
			as, err := w.Addresses(ctx)
			return err == nil && len(as) == 25+12
		})
		as, err := w.Addresses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range as {
			k, err := w.Material().Derive(a.Change, a.Index)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(k.PkScript, a.PkScript) || k.Address != a.Address {
				t.Fatalf("wallet %d: address %v/%d is %s, its key's is %s", i, a.Change, a.Index, a.Address, k.Address)
			}
		}
	}
	if err := ev.eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	last, err := ws[23].Material().Derive(false, 24)
	if err != nil {
		t.Fatal(err)
	}
	fc.mine(payTx(last.PkScript, 7_000, 99))
	waitFor(t, func() bool {
		b, err := ws[23].Balance(ctx)
		return err == nil && b.Confirmed == 10_000+5_000+7_000
	})
}
