package wallet_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// coinScanStore counts the scans of the coin records ("u") its
// transactions make.
type coinScanStore struct {
	wallet.Store
	scans atomic.Int64
}

func (s *coinScanStore) View(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.View(ctx, func(kv wallet.KV) error { return fn(coinScanKV{kv, s}) })
}

func (s *coinScanStore) Update(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.Update(ctx, func(kv wallet.KV) error { return fn(coinScanKV{kv, s}) })
}

func (s *coinScanStore) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.Batch(ctx, func(kv wallet.KV) error { return fn(coinScanKV{kv, s}) })
}

type coinScanKV struct {
	wallet.KV
	s *coinScanStore
}

func (k coinScanKV) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	if bucket == "u" {
		k.s.scans.Add(1)
	}
	return k.KV.Scan(bucket, prefix, start, fn)
}

// TestRequestAddressSkipsPaidReadsCoinsOnlyWhenNeeded: add_request still
// skips an address that was paid without a request and those that have
// one, but reads the wallet's coins only when it meets an address without
// a request, and not at all once every revealed address is taken (a
// merchant's forced requests: before, every add_request read all of the
// wallet's coins, one per paid request, so a request cost more with each
// sale).
func TestRequestAddressSkipsPaidReadsCoinsOnlyWhenNeeded(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	net, _ := params.BTC("regtest")
	cs := &coinScanStore{Store: st}
	rec := &recorder{}
	eng := startEngine(t, wallet.Config{Net: net, Store: cs, Backend: fc, Publish: rec.publish}, st)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	// Address 1 is paid without a request.
	paid, _ := net.PkScript(vw.Receiving[1])
	seen := 0
	fc.mempoolAdd(payTx(paid, 5_000, 7))
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_transaction" })

	next, _ := w.Counters()
	want := []uint32{0}
	for i := uint32(2); i < next; i++ {
		want = append(want, i)
	}
	for i, idx := range want {
		before := cs.scans.Load()
		r, err := w.AddRequest(ctx, 1_000, "", 0, false)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if r.Index != idx || int(idx) < len(vw.Receiving) && r.Address != vw.Receiving[idx] {
			t.Fatalf("request %d on address %d (%s), want %d (address 1 is paid, the others taken in order)", i, r.Index, r.Address, idx)
		}
		if n := cs.scans.Load() - before; n > 1 {
			t.Fatalf("request %d read the coins %d times", i, n)
		}
	}
	if _, err := w.AddRequest(ctx, 1_000, "", 0, false); !errors.Is(err, wallet.ErrGapLimit) {
		t.Fatalf("every revealed address taken, not forced: %v, want ErrGapLimit", err)
	}
	for i := 0; i < 5; i++ {
		before := cs.scans.Load()
		r, err := w.AddRequest(ctx, 1_000, "", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Index < next {
			t.Fatalf("forced request %d on revealed address %d", i, r.Index)
		}
		if n := cs.scans.Load() - before; n != 0 {
			t.Fatalf("forced request %d past the revealed addresses read the coins %d times", i, n)
		}
	}
}

// walletPutStore counts the writes to the wallet records ("w") made in
// its Batch transactions (add_request's).
type walletPutStore struct {
	wallet.Store
	puts atomic.Int64
}

func (s *walletPutStore) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.Batch(ctx, func(kv wallet.KV) error { return fn(walletPutKV{kv, s}) })
}

type walletPutKV struct {
	wallet.KV
	s *walletPutStore
}

func (k walletPutKV) Put(bucket string, key, val []byte) error {
	if bucket == "w" {
		k.s.puts.Add(1)
	}
	return k.KV.Put(bucket, key, val)
}

// TestForcedRevealKeepsItsCounterBesideTheRequests: a forced request that
// reveals the next address derived ahead no longer rewrites the wallet's
// record (a second path of B-tree pages in its commit): the counter is
// kept beside the wallet's requests, and after a restart the wallet
// reveals from where it stopped (no address handed out twice, the
// revealed ones all taken).
func TestForcedRevealKeepsItsCounterBesideTheRequests(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	fc.mine()
	path := filepath.Join(t.TempDir(), "w.db")
	open := func() (*wallet.Engine, *walletPutStore, func()) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ws := &walletPutStore{Store: st}
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: ws, Backend: fc, SyncTimeout: 5 * time.Second,
			PollingCap: wallet.DefaultPollingCap})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return eng, ws, func() { eng.Close(); _ = st.Close() }
	}
	eng, ws, closeEng := open()
	key := regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial
	w, err := eng.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := w.Counters()
	used := map[string]bool{}
	for i := uint32(0); i < next; i++ {
		r, err := w.AddRequest(ctx, 1_000, "", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		used[r.Address] = true
	}
	const forced = 5
	for i := uint32(0); i < forced; i++ {
		before := ws.puts.Load()
		r, err := w.AddRequest(ctx, 1_000, "", 0, true)
		if err != nil {
			t.Fatal(err)
		}
		if r.Index != next+i || used[r.Address] {
			t.Fatalf("forced request %d on address %d (%s), want %d, not used before", i, r.Index, r.Address, next+i)
		}
		used[r.Address] = true
		if n := ws.puts.Load() - before; n != 0 {
			t.Fatalf("forced request %d rewrote the wallet record %d times", i, n)
		}
	}
	if err := eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	closeEng()

	eng, _, closeEng = open()
	defer closeEng()
	if err := eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	w, err = eng.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := w.Counters(); got != next+forced {
		t.Fatalf("after a restart %d receiving addresses revealed, want %d", got, next+forced)
	}
	if _, err := w.AddRequest(ctx, 1_000, "", 0, false); !errors.Is(err, wallet.ErrGapLimit) {
		t.Fatalf("after a restart, every revealed address taken, not forced: %v, want ErrGapLimit", err)
	}
	r, err := w.AddRequest(ctx, 1_000, "", 0, true)
	if err != nil {
		t.Fatal(err)
	}
	if r.Index != next+forced || used[r.Address] {
		t.Fatalf("after a restart a forced request on address %d (%s), want %d, not used before", r.Index, r.Address, next+forced)
	}
}
