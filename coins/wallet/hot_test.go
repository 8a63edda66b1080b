package wallet_test

import (
	"context"
	"errors"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// countingStore counts the read transactions that getbalance and
// get_request open (Wallet.Balance, Wallet.GetRequest), not the engine's
// own background reads (a gap extension after a payment, the worker's
// rescan), which may fall in any window the test measures.
type countingStore struct {
	wallet.Store
	views atomic.Int64
}

func (s *countingStore) View(ctx context.Context, fn func(wallet.KV) error) error {
	if calledByHotRead() {
		s.views.Add(1)
	}
	return s.Store.View(ctx, fn)
}

// calledByHotRead reports whether Wallet.Balance or Wallet.GetRequest is
// on the caller's stack.
func calledByHotRead() bool {
	pcs := make([]uintptr, 32)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	for {
		f, more := frames.Next()
		if strings.HasSuffix(f.Function, "wallet.(*Wallet).Balance") || strings.HasSuffix(f.Function, "wallet.(*Wallet).GetRequest") {
			return true
		}
		if !more {
			return false
		}
	}
}

// TestHotReadsFromMemory: once read, a loaded wallet's balance and a
// request are answered without a store read until the wallet's records
// change; every change (a mempool payment, its confirmation, a block that
// only moves the tip, a reorg, a deletion) is visible to the first call
// made after the event announcing it, as it was when every call read the
// store.
func TestHotReadsFromMemory(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	var cs *countingStore
	fc, rec, w := hotEngine(t, func(st wallet.Store) wallet.Store { cs = &countingStore{Store: st}; return cs })
	req, err := w.AddRequest(ctx, 50_000_000, "", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want wallet.Balance, status int, sent, confs int64) {
		t.Helper()
		b, err := w.Balance(ctx)
		if err != nil || b != want {
			t.Fatalf("%s: balance %+v, %v; want %+v", step, b, err, want)
		}
		for _, k := range []string{req.ID, req.Address} {
			r, err := w.GetRequest(ctx, k)
			if err != nil || r.Status != status || r.Sent != sent || r.Confirmations != confs {
				t.Fatalf("%s: get_request(%s) %+v, %v; want status %d, sent %d, %d confirmations", step, k, r, err, status, sent, confs)
			}
		}
	}
	cached := func(step string) {
		t.Helper()
		before := cs.views.Load()
		for range 10 {
			if _, err := w.Balance(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := w.GetRequest(ctx, req.ID); err != nil {
				t.Fatal(err)
			}
		}
		if n := cs.views.Load() - before; n != 0 {
			t.Fatalf("%s: %d store reads for 10 getbalance and 10 get_request of unchanged records", step, n)
		}
	}
	check("new", wallet.Balance{}, wallet.StatusUnpaid, 0, 0)
	cached("new")

	script, _ := net.PkScript(req.Address)
	seen := 0
	fc.mempoolAdd(payTx(script, 50_000_000, 1))
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	check("in the mempool", wallet.Balance{Unconfirmed: 50_000_000}, wallet.StatusUnconfirmed, 50_000_000, 0)
	cached("in the mempool")

	ref := fc.mine()
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	check("mined", wallet.Balance{Confirmed: 50_000_000}, wallet.StatusPaid, 50_000_000, 1)
	cached("mined")

	// A block without the wallet's transactions changes no record of it,
	// only the tip: the confirmations follow.
	ref = fc.mine()
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_block" && b.Height == ref.Height })
	before := cs.views.Load()
	check("one more block", wallet.Balance{Confirmed: 50_000_000}, wallet.StatusPaid, 50_000_000, 2)
	if n := cs.views.Load() - before; n != 0 {
		t.Fatalf("one more block: %d store reads for the first calls after a block that changed no record of the wallet", n)
	}

	fc.reorg(2)
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	check("reorged", wallet.Balance{Unconfirmed: 50_000_000}, wallet.StatusUnconfirmed, 50_000_000, 0)

	if ok, err := w.DeleteRequest(ctx, req.ID); err != nil || !ok {
		t.Fatalf("delete_request: %v, %v", ok, err)
	}
	if _, err := w.GetRequest(ctx, req.ID); !errors.Is(err, wallet.ErrRequestNotFound) {
		t.Fatalf("get_request after delete_request: %v", err)
	}
}

// gatedStore holds the first read-write transaction after on is set, once it has returned,
// until the test lets it go: a commit (its fsync) that takes as long as
// the test wants, with the engine's locks held as they are then.
type gatedStore struct {
	wallet.Store
	gate chan chan struct{} // nil: no gate; else a commit sends its release channel
	on   atomic.Bool
}

func (s *gatedStore) hold() {
	if s.on.CompareAndSwap(true, false) { // the first commit after on only
		release := make(chan struct{})
		s.gate <- release
		<-release
	}
}

func (s *gatedStore) Update(ctx context.Context, fn func(wallet.KV) error) error {
	err := s.Store.Update(ctx, fn)
	s.hold()
	return err
}

func (s *gatedStore) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	err := s.Store.Batch(ctx, fn)
	s.hold()
	return err
}

// TestReadsDoNotWaitForABlockCommit: while a block paying the wallet is
// being committed (its transaction held open as a slow fsync would),
// getbalance and get_request of the wallet answer (with what was
// committed before), and once the commit is done they show the block.
func TestReadsDoNotWaitForABlockCommit(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	var gs *gatedStore
	fc, rec, w := hotEngine(t, func(st wallet.Store) wallet.Store {
		gs = &gatedStore{Store: st, gate: make(chan chan struct{})}
		return gs
	})
	req, err := w.AddRequest(ctx, 10_000, "", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := net.PkScript(req.Address)
	if _, err := w.Balance(ctx); err != nil { // cached before the block
		t.Fatal(err)
	}
	gs.on.Store(true)
	fc.mine(payTx(script, 10_000, 7))
	var release chan struct{}
	select {
	case release = <-gs.gate:
	case <-time.After(5 * time.Second):
		t.Fatal("the block was not committed")
	}
	var once sync.Once
	let := func() { once.Do(func() { close(release) }) }
	defer let()
	readCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := w.Balance(readCtx)
		if err == nil {
			_, err = w.GetRequest(readCtx, req.ID)
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("getbalance / get_request waited for the block's commit")
	}
	let()
	seen := 0
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b, err := w.Balance(ctx); err != nil || b.Confirmed != 10_000 {
		t.Fatalf("balance after the block: %+v, %v", b, err)
	}
	if r, err := w.GetRequest(ctx, req.ID); err != nil || r.Status != wallet.StatusPaid {
		t.Fatalf("get_request after the block: %+v, %v", r, err)
	}
}

// hotEngine starts an engine on a fake chain over a bbolt store wrapped by
// wrap, and opens the p2wpkh vector wallet in it.
func hotEngine(t *testing.T, wrap func(wallet.Store) wallet.Store) (*fakeChain, *recorder, *wallet.Wallet) {
	t.Helper()
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeChain()
	fc.mine()
	rec := &recorder{}
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: wrap(st), Backend: fc, Publish: rec.publish,
		SyncTimeout: 5 * time.Second, PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); _ = st.Close() })
	w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	return fc, rec, w
}

// TestCachedBalanceFollowsCoinbaseMaturity: a cached balance holding a
// coinbase output is recomputed when the tip crosses its maturity, up (the
// block that makes it spendable) and down (a reorg that removes only a
// later, empty block, changing none of the wallet's records), and not on
// the blocks in between.
func TestCachedBalanceFollowsCoinbaseMaturity(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	var cs *countingStore
	fc, rec, w := hotEngine(t, func(st wallet.Store) wallet.Store { cs = &countingStore{Store: st}; return cs })
	addr, err := w.UnusedAddress(ctx)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := net.PkScript(addr)
	cb := wire.NewMsgTx(1)
	cb.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{1, 2, 3}, nil))
	cb.AddTxOut(wire.NewTxOut(50_000_000, script))
	seen := 0
	mined := fc.mine(cb)
	tipAt := func(h int32) {
		t.Helper()
		rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_block" && b.Height == h })
	}
	tipAt(mined.Height)
	balance := func(step string, want wallet.Balance, reads int64) {
		t.Helper()
		before := cs.views.Load()
		b, err := w.Balance(ctx)
		if err != nil || b != want {
			t.Fatalf("%s: balance %+v, %v; want %+v", step, b, err, want)
		}
		if n := cs.views.Load() - before; n != reads {
			t.Fatalf("%s: %d store reads, want %d", step, n, reads)
		}
	}
	immature, mature := wallet.Balance{Unmatured: 50_000_000}, wallet.Balance{Confirmed: 50_000_000}
	balance("mined", immature, 1)
	// Mature at tip mined+CoinbaseMaturity-1 (the next block is the 100th
	// on top of it).
	last := mined.Height + wallet.CoinbaseMaturity - 1
	for h := mined.Height + 1; h < last; h++ {
		tipAt(fc.mine().Height)
	}
	balance("one block early", immature, 0)
	tipAt(fc.mine().Height)
	balance("mature", mature, 1)
	tipAt(fc.mine().Height)
	balance("one block more", mature, 0)
	// Two blocks down: the tip is one below maturity again, and no record
	// of the wallet changed.
	fc.reorg(2)
	waitFor(t, func() bool { b, err := w.Balance(ctx); return err == nil && b == immature })
}
