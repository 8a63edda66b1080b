package wallet

import (
	"context"
	"testing"

	"github.com/walletd/walletd/coins/params"
)

// countingStore counts write transactions and the deletes of the biggest.
type countingStore struct {
	Store
	updates, maxDeletes int
}

type countingKV struct {
	KV
	deletes *int
}

func (k countingKV) Delete(b string, key []byte) error { *k.deletes++; return k.KV.Delete(b, key) }

func (s *countingStore) Update(ctx context.Context, fn func(KV) error) error {
	s.updates++
	n := 0
	err := s.Store.Update(ctx, func(kv KV) error { return fn(countingKV{kv, &n}) })
	s.maxDeletes = max(s.maxDeletes, n)
	return err
}

// newTestEngine is an engine over st without a backend.
func newTestEngine(t *testing.T, st Store, cfg Config) *Engine {
	t.Helper()
	net, _ := params.BTC("regtest")
	cfg.Net, cfg.Store = net, st
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestPruneInBoundedBatches: pruning 2,500 events beyond the retention
// deletes them in transactions of at most pruneChunk events (their global
// index entries too), keeping the newest.
func TestPruneInBoundedBatches(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: newMapStore()}
	e := newTestEngine(t, st, Config{EventRetention: 10})
	for i := 0; i < 25; i++ {
		if err := e.update(ctx, func(s kvs) error {
			for j := 0; j < 100; j++ {
				if _, err := e.logEvent(s, "", EventRecord{Kind: EventBlock, Height: int32(i*100 + j)}); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	st.updates, st.maxDeletes = 0, 0
	if err := e.pruneEvents(ctx); err != nil {
		t.Fatal(err)
	}
	if st.updates < 3 || st.maxDeletes > 2*pruneChunk {
		t.Fatalf("pruned in %d transactions, the biggest deleting %d keys", st.updates, st.maxDeletes)
	}
	evs, err := e.EventsAfter(ctx, 0, 10_000)
	if err != nil || len(evs) != 10 || evs[9].Seq != 2500 {
		t.Fatalf("kept %d events (%v)", len(evs), err)
	}
	n := 0
	_ = st.View(ctx, func(kv KV) error {
		return kv.Scan(bGEvents, nil, nil, func(_, _ []byte) error { n++; return nil })
	})
	if n != 10 {
		t.Fatalf("%d global index entries left, want 10", n)
	}
}
