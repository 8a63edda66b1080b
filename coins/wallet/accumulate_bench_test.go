package wallet_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// BenchmarkAddRequestAccumulating is issue 13's "flat as requests
// accumulate" for the engine and the store alone: 100 loaded wallets are
// given 30 forced requests each (untimed: past their first gap), then 32
// callers make forced add_request calls (as the load tool's) until each
// wallet has 200 more (each runs out of its derived addresses ten times,
// so the derivations ahead run throughout), and the mean wall time per
// call of the first and of the last 2,000 calls are reported
// (first-µs/call, last-µs/call, last/first; -v logs every 2,000). The store skips fsync: this is the engine's and bbolt's
// work (request records, page splits, the freelist, derivations), which
// grows if either per-call cost grows with the requests already stored.
func BenchmarkAddRequestAccumulating(b *testing.B) {
	const (
		wallets = 100
		perW    = 200
		callers = 32
		window  = 2000
		warm    = 30
	)
	ctx := context.Background()
	net, err := params.BTC("regtest")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		b.StopTimer()
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
		<-bc.tipCalled
		ws := make([]*wallet.Wallet, wallets)
		for i := range ws {
			if ws[i], err = eng.Open(ctx, benchXpub(b, i)); err != nil {
				b.Fatal(err)
			}
			// Past the first gap: from here on every request reveals an
			// address derived ahead, and derives one more on average
			// (the untimed first 20 need no derivation: 24 µs a call
			// against ~65 µs after them, on this machine).
			for range warm {
				if _, err := ws[i].AddRequest(ctx, 50_000, "bench", 3600, true); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.StartTimer()
		n := wallets * perW
		done := make([]time.Duration, 0, n)
		var mu sync.Mutex
		work := make(chan int)
		var wg sync.WaitGroup
		var first error
		t0 := time.Now()
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range work {
					_, err := ws[i%wallets].AddRequest(ctx, 50_000, "bench", 3600, true)
					mu.Lock()
					if err != nil && first == nil {
						first = err
					}
					done = append(done, time.Since(t0))
					mu.Unlock()
				}
			}()
		}
		for i := range n {
			work <- i
		}
		close(work)
		wg.Wait()
		b.StopTimer()
		if first != nil {
			b.Fatal(first)
		}
		perCall := func(from, to time.Duration) float64 { return float64(to-from) / window / 1e3 }
		firstUS := perCall(0, done[window-1])
		lastUS := perCall(done[n-window-1], done[n-1])
		b.ReportMetric(firstUS, "first-µs/call")
		b.ReportMetric(lastUS, "last-µs/call")
		b.ReportMetric(lastUS/firstUS, "last/first")
		for k := window; k <= n; k += window {
			b.Logf("requests %5d-%5d: %.1f µs/call", k-window, k, perCall(done[max(0, k-window-1)], done[k-1]))
		}
		eng.Close()
		_ = st.Close()
		b.StartTimer()
	}
}
