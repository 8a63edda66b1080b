package wallet_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
	"github.com/walletd/walletd/coins/wallet/memstore"
)

// TestBlockWritesOneUpdatesRowPerWallet: a block paying two requests of a
// durable wallet and one of a diskless wallet logs six events of the first
// and three of the second in one commit, and writes one get_updates index
// row for each wallet (schema 7; one row per event before). get_updates
// drains exactly the wallet's logged events with the global ones, in seq
// order; a durable open of the diskless wallet moves its events with it
// (get_updates then drains them from the durable store); a wallet forgotten
// (a closed diskless wallet) leaves none of its events in the log.
func TestBlockWritesOneUpdatesRowPerWallet(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	vol := memstore.New()
	fc := newFakeChain()
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Volatile: vol, Backend: fc,
		PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { eng.Close(); _ = st.Close() }()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	other := regtestWallet(t, "standard-account-xpub")
	dw, err := eng.OpenWith(ctx, other.KeyMaterial, wallet.OpenOptions{Diskless: true})
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := w.AddRequest(ctx, 1000, "", 0, false)
	r2, _ := w.AddRequest(ctx, 2000, "", 0, false)
	r3, _ := dw.AddRequest(ctx, 3000, "", 0, false)
	s1, _ := net.PkScript(r1.Address)
	s2, _ := net.PkScript(r2.Address)
	s3, _ := net.PkScript(r3.Address)
	fc.mine(payTx(s1, 1000, 1), payTx(s2, 2000, 2), payTx(s3, 3000, 3))
	waitFor(t, func() bool {
		g1, _ := w.GetRequest(ctx, r1.ID)
		g2, _ := w.GetRequest(ctx, r2.ID)
		g3, _ := dw.GetRequest(ctx, r3.ID)
		return g1.Status == wallet.StatusPaid && g2.Status == wallet.StatusPaid && g3.Status == wallet.StatusPaid
	})

	all, err := eng.EventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	logged := func(id string) []uint64 {
		var seqs []uint64
		for _, ev := range all {
			if ev.WalletID == id {
				seqs = append(seqs, ev.Seq)
			}
		}
		return seqs
	}
	rows := func(s wallet.Store, id string) [][]uint64 {
		var rows [][]uint64
		if err := s.View(ctx, func(kv wallet.KV) error {
			var err error
			rows, err = wallet.WalletEventRows(kv, id)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rows
	}
	if got, want := rows(st, w.ID), [][]uint64{logged(w.ID)}; len(want[0]) != 6 || !reflect.DeepEqual(got, want) {
		t.Errorf("durable wallet's get_updates rows %v, want one row of its 6 events %v", got, want)
	}
	if got, want := rows(vol, dw.ID), [][]uint64{logged(dw.ID)}; len(want[0]) != 3 || !reflect.DeepEqual(got, want) {
		t.Errorf("diskless wallet's get_updates rows %v, want one row of its 3 events %v", got, want)
	}
	if got := rows(st, dw.ID); len(got) != 0 {
		t.Errorf("the durable store has get_updates rows of the diskless wallet: %v", got)
	}

	// get_updates drains the wallet's events and the global ones, in order.
	drain := func(w *wallet.Wallet) []string {
		ups, err := w.Updates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, 0, len(ups))
		for _, u := range ups {
			out = append(out, fmt.Sprintf("%d %+v", u.Seq, u.Record))
		}
		return out
	}
	expected := func(id string) []string {
		var out []string
		for _, ev := range all {
			if ev.WalletID == id || ev.WalletID == "" {
				out = append(out, fmt.Sprintf("%d %+v", ev.Seq, ev.Record))
			}
		}
		return out
	}
	if got, want := drain(w), expected(w.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("get_updates of the durable wallet:\n got %v\nwant %v", got, want)
	}
	if got := drain(w); len(got) != 0 {
		t.Errorf("second drain: %v", got)
	}

	// A durable open moves the diskless wallet's events and its row.
	pw, err := eng.Open(ctx, other.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rows(st, pw.ID), [][]uint64{logged(pw.ID)}; !reflect.DeepEqual(got, want) {
		t.Errorf("promoted wallet's get_updates rows %v, want %v", got, want)
	}
	if got, want := drain(pw), expected(pw.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("get_updates of the promoted wallet:\n got %v\nwant %v", got, want)
	}

	// A forgotten wallet's events leave the log with its rows: a diskless
	// wallet paid in a block (its events in one row), then closed.
	third := regtestWallet(t, "electrum-segwit-seed")
	tw, err := eng.OpenWith(ctx, third.KeyMaterial, wallet.OpenOptions{Diskless: true})
	if err != nil {
		t.Fatal(err)
	}
	r4, _ := tw.AddRequest(ctx, 4000, "", 0, false)
	r5, _ := tw.AddRequest(ctx, 5000, "", 0, false)
	s4, _ := net.PkScript(r4.Address)
	s5, _ := net.PkScript(r5.Address)
	fc.mine(payTx(s4, 4000, 4), payTx(s5, 5000, 5))
	waitFor(t, func() bool {
		g4, _ := tw.GetRequest(ctx, r4.ID)
		g5, _ := tw.GetRequest(ctx, r5.ID)
		return g4.Status == wallet.StatusPaid && g5.Status == wallet.StatusPaid
	})
	if got := rows(vol, tw.ID); len(got) != 1 || len(got[0]) != 6 {
		t.Fatalf("the third wallet's get_updates rows %v, want one row of 6 events", got)
	}
	if !eng.CloseWallet(third.KeyMaterial) {
		t.Fatal("close_wallet of the diskless wallet")
	}
	waitFor(t, func() bool {
		evs, err := eng.EventsAfter(ctx, 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.WalletID == tw.ID {
				return false
			}
		}
		return len(rows(vol, tw.ID)) == 0
	})
}

// TestBlockExtendsEachWalletByItsOwnGapLimit: one block pays the first
// receiving address of two wallets, one with a stored gap limit of 25 and
// one with the default: each is extended past the paid address by its own
// gap limit (the extension reads every paid wallet's gap limit in one
// transaction).
func TestBlockExtendsEachWalletByItsOwnGapLimit(t *testing.T) {
	ctx := context.Background()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), newFakeChain())
	wide, err := ev.eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ev.eng.Open(ctx, regtestWallet(t, "standard-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := wide.SetGapLimit(ctx, 25); err != nil || !ok {
		t.Fatalf("set gap limit: %v %v", ok, err)
	}
	receiving := func(w *wallet.Wallet) (n int, first []byte) {
		addrs, err := w.Addresses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if !a.Change {
				if n == 0 {
					first = a.PkScript
				}
				n++
			}
		}
		return n, first
	}
	_, s1 := receiving(wide)
	_, s2 := receiving(plain)
	ev.chain.mine(payTx(s1, 1000, 1), payTx(s2, 2000, 2))
	waitFor(t, func() bool {
		n1, _ := receiving(wide)
		n2, _ := receiving(plain)
		return n1 >= 26 && n2 >= wallet.GapReceiving+1
	})
	if n, _ := receiving(wide); n != 26 {
		t.Errorf("wallet with gap limit 25: %d receiving addresses, want 26", n)
	}
	if n, _ := receiving(plain); n != wallet.GapReceiving+1 {
		t.Errorf("wallet with the default gap limit: %d receiving addresses, want %d", n, wallet.GapReceiving+1)
	}
}
