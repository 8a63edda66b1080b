package wallet_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// batchRecorder collects the calls of Config.PublishBatch.
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]wallet.Event
	single  int // calls of Config.Publish
}

func (r *batchRecorder) publishBatch(evs []wallet.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, append([]wallet.Event(nil), evs...))
}

func (r *batchRecorder) publish(wallet.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.single++
}

// TestPublishBatchGetsACommitWhole: with Config.PublishBatch set, each
// commit's events come in one call, in seq order (a mempool payment's
// alone, a block's verified_tx, paid new_payment and new_block together),
// and Publish is not called: a websocket hub then sends a block's burst to
// each client in few writes, without waiting for the rest of it.
func TestPublishBatchGetsACommitWhole(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &batchRecorder{}
	eng := startEngine(t, wallet.Config{Net: net, Store: st, Backend: fc, Publish: rec.publish,
		PublishBatch: rec.publishBatch}, st)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	req, err := w.AddRequest(ctx, 50_000_000, "", 900, false)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := net.PkScript(req.Address)
	snapshot := func() ([][]wallet.Event, int) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return append([][]wallet.Event(nil), rec.batches...), rec.single
	}
	// findBatch waits for a batch holding an event matching pred.
	findBatch := func(pred func(evBody) bool) []wallet.Event {
		t.Helper()
		var found []wallet.Event
		waitFor(t, func() bool {
			bs, _ := snapshot()
			for _, b := range bs {
				for _, ev := range b {
					if pred(bodyOf(ev)) {
						found = b
						return true
					}
				}
			}
			return false
		})
		return found
	}

	fc.mempoolAdd(payTx(script, 50_000_000, 1))
	findBatch(func(b evBody) bool { return b.Event == "new_payment" && b.Status == wallet.StatusUnconfirmed })
	ref := fc.mine()
	block := findBatch(func(b evBody) bool { return b.Event == "new_payment" && b.Status == wallet.StatusPaid })
	kinds := map[string]bool{}
	for _, ev := range block {
		kinds[bodyOf(ev).Event] = true
	}
	if !kinds["verified_tx"] || !kinds["new_block"] {
		t.Fatalf("the block's events came apart: one call had %v", kinds)
	}
	waitFor(t, func() bool { g, _ := w.GetRequest(ctx, req.ID); return g.Confirmations == 1 })
	_ = ref

	bs, single := snapshot()
	if single != 0 {
		t.Fatalf("Publish called %d times beside PublishBatch", single)
	}
	var last uint64
	for i, b := range bs {
		if len(b) == 0 {
			t.Fatalf("batch %d is empty", i)
		}
		for _, ev := range b {
			if ev.Seq != last+1 {
				t.Fatalf("batch %d: seq %d after %d", i, ev.Seq, last)
			}
			last = ev.Seq
		}
	}
}
