package wallet_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// BenchmarkCalls measures the engine's side of the daemon's hottest calls
// on loaded wallets (100 wallets, 2 requests each, a bbolt store): Balance
// (getbalance), GetRequest (get_request) and AddRequest (add_request; the
// store skips fsync here, so this is the engine's CPU and bbolt's work,
// not the disk: the load tool measures the durable call).
func BenchmarkCalls(b *testing.B) {
	ctx := context.Background()
	net, err := params.BTC("regtest")
	if err != nil {
		b.Fatal(err)
	}
	st, err := boltstore.OpenWith(filepath.Join(b.TempDir(), "w.db"), boltstore.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	fc := newFakeChain()
	bc := &benchChain{fakeChain: fc, tip: fc.blocks[0].BlockRef, tipCalled: make(chan struct{}, 1)}
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: bc, SyncTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { eng.Close(); _ = st.Close() })
	<-bc.tipCalled
	const n = 100
	ws := make([]*wallet.Wallet, n)
	ids := make([]string, 0, 2*n)
	for i := range ws {
		if ws[i], err = eng.Open(ctx, benchXpub(b, i)); err != nil {
			b.Fatal(err)
		}
		for range 2 {
			r, err := ws[i].AddRequest(ctx, 50_000, "bench", 3600, false)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
	}
	b.Run("getbalance", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := ws[i%n].Balance(ctx); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("get_request", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := ws[(i%len(ids))/2].GetRequest(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("add_request", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := ws[i%n].AddRequest(ctx, 50_000, "bench", 3600, true); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
