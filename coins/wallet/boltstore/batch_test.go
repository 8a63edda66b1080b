package boltstore

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/wallet"
)

// TestBatchGroupsConcurrentWriters: 8 writers looping on Batch share
// commits (a group commit), instead of one commit each or alternating
// groups of one and seven.
func TestBatchGroupsConcurrentWriters(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				var k [8]byte
				binary.BigEndian.PutUint64(k[:], uint64(w*each+i))
				if err := s.Batch(context.Background(), func(kv wallet.KV) error { return kv.Put("b", k[:], k[:]) }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	calls, groups := writers*each, s.groups.Load()
	t.Logf("%d calls in %d commits: %.1f per commit", calls, groups, float64(calls)/float64(groups))
	if float64(calls)/float64(groups) < 6 {
		t.Errorf("%d calls took %d commits: writers do not share them", calls, groups)
	}
	n := 0
	_ = s.View(context.Background(), func(kv wallet.KV) error {
		return kv.Scan("b", nil, nil, func(_, _ []byte) error { n++; return nil })
	})
	if n != calls {
		t.Fatalf("%d records, want %d", n, calls)
	}
}

// BenchmarkBatchThink is BenchmarkBatchParallel with 8 writers that each
// take 300µs between a commit and their next call, as a daemon's callers
// do (the reply, the client's next request, its decoding): whether the
// group commit gathers them into one commit or splits them into groups
// that alternate.
func BenchmarkBatchThink(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	val := make([]byte, 300)
	var next atomic.Uint64
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if err := s.Batch(ctx, func(kv wallet.KV) error { return kv.Put("b", binary.BigEndian.AppendUint64(nil, i), val) }); err != nil {
				b.Error(err)
				return
			}
			time.Sleep(300 * time.Microsecond)
		}
	})
	b.ReportMetric(float64(b.N)/float64(s.groups.Load()), "calls/commit")
}
