package boltstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) wallet.Store {
		s, err := Open(filepath.Join(t.TempDir(), "w.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// A commit that grows the file past what is mapped must not wait for open
// read transactions (bbolt's remap takes its mmap lock for writing): an
// RPC reading while a block is committed would stall for the commit.
func TestGrowingCommitDoesNotWaitForReaders(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	reading, release := make(chan struct{}), make(chan struct{})
	viewDone := make(chan error, 1)
	go func() {
		viewDone <- s.View(ctx, func(wallet.KV) error {
			close(reading)
			<-release
			return nil
		})
	}()
	<-reading
	// 8 MiB of values: past several of bbolt's mapping doublings.
	committed := make(chan error, 1)
	go func() {
		committed <- s.Update(ctx, func(kv wallet.KV) error {
			v := make([]byte, 64<<10)
			for i := 0; i < 128; i++ {
				if err := kv.Put("grow", []byte{byte(i >> 8), byte(i)}, v); err != nil {
					return err
				}
			}
			return nil
		})
	}()
	select {
	case err := <-committed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		close(release)
		t.Fatal("a commit that grew the file waited for an open read transaction")
	}
	close(release)
	if err := <-viewDone; err != nil {
		t.Fatal(err)
	}
}

// TestMiddleInsertBucketPagesHalfFull: a bucket the engine inserts into in
// the middle (wallet.MiddleInsertBucket: each wallet's request rows) gets
// its split pages packed at half, the others at 90% (their keys grow at
// the end): pages half full split again only after several inserts, and
// each write of one copies fewer rows.
func TestMiddleInsertBucketPagesHalfFull(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	middle := ""
	for _, b := range []string{"q", "r", "ra", "u", "w", "a"} {
		if wallet.MiddleInsertBucket(b) {
			middle = b
		}
	}
	if middle == "" {
		t.Fatal("the engine names no bucket it inserts into in the middle")
	}
	// The first transaction creates the buckets; the second finds them
	// (a Get first, as a block's writes do, then the write).
	for _, tx := range []string{"creating", "finding"} {
		if err := s.db.Update(func(btx *bolt.Tx) error {
			k := &kv{tx: btx, s: s}
			for _, c := range []struct {
				name string
				want float64
			}{{middle, middleFillPercent}, {"u", fillPercent}} {
				_ = k.Get(c.name, []byte("x"))
				b, err := k.bucket(c.name)
				if err != nil {
					return err
				}
				if b.FillPercent != c.want {
					t.Errorf("%s bucket %s: packs split pages at %v, want %v", tx, c.name, b.FillPercent, c.want)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
}
