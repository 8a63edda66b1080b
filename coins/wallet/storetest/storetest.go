// Package storetest is the conformance suite every wallet.Store passes:
// reads see committed writes, failed updates leave nothing behind, scans
// are ordered and bounded by prefix, sequences strictly increase and are
// never reused, even after a rollback.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/walletd/walletd/coins/wallet"
)

// Run runs the suite against stores made by open (a fresh empty one each).
func Run(t *testing.T, open func(t *testing.T) wallet.Store) {
	ctx := context.Background()
	t.Run("PutGetDelete", func(t *testing.T) {
		s := open(t)
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			if kv.Get("b", []byte("k")) != nil {
				return errors.New("empty store has k")
			}
			if err := kv.Put("b", []byte("k"), []byte("v1")); err != nil {
				return err
			}
			if string(kv.Get("b", []byte("k"))) != "v1" {
				return errors.New("own write not visible")
			}
			if err := kv.Put("b", []byte("empty"), []byte{}); err != nil {
				return err
			}
			return kv.Delete("b", []byte("absent"))
		}))
		must(t, s.View(ctx, func(kv wallet.KV) error {
			if v := kv.Get("b", []byte("empty")); v == nil || len(v) != 0 {
				return fmt.Errorf("an empty value reads as %v, not as present and empty", v)
			}
			return nil
		}))
		must(t, s.View(ctx, func(kv wallet.KV) error {
			if string(kv.Get("b", []byte("k"))) != "v1" || kv.Get("other", []byte("k")) != nil {
				return errors.New("committed write not visible, or leaked into another bucket")
			}
			return nil
		}))
		must(t, s.Update(ctx, func(kv wallet.KV) error { return kv.Delete("b", []byte("k")) }))
		must(t, s.View(ctx, func(kv wallet.KV) error {
			if kv.Get("b", []byte("k")) != nil {
				return errors.New("deleted key still there")
			}
			return nil
		}))
	})
	t.Run("FailedUpdateRollsBack", func(t *testing.T) {
		s := open(t)
		must(t, s.Update(ctx, func(kv wallet.KV) error { return kv.Put("b", []byte("keep"), []byte("1")) }))
		var seq1 uint64
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			var err error
			seq1, err = kv.NextSequence("seq")
			return err
		}))
		boom := errors.New("boom")
		var rolledBack uint64
		err := s.Update(ctx, func(kv wallet.KV) error {
			_ = kv.Put("b", []byte("new"), []byte("x"))
			_ = kv.Put("b", []byte("keep"), []byte("changed"))
			_ = kv.Delete("b", []byte("keep"))
			var err error
			if rolledBack, err = kv.NextSequence("seq"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("update error %v", err)
		}
		must(t, s.View(ctx, func(kv wallet.KV) error {
			if kv.Get("b", []byte("new")) != nil || string(kv.Get("b", []byte("keep"))) != "1" {
				return errors.New("a failed update left changes")
			}
			return nil
		}))
		// A number handed out by the rolled-back transaction is never
		// handed out again.
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			seq2, err := kv.NextSequence("seq")
			if err == nil && (seq2 <= seq1 || seq2 <= rolledBack) {
				err = fmt.Errorf("sequence %d after %d committed and %d rolled back", seq2, seq1, rolledBack)
			}
			return err
		}))
	})
	t.Run("ScanOrderPrefixStart", func(t *testing.T) {
		s := open(t)
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			for _, k := range []string{"a1", "b3", "b1", "b2", "c1", "b", "ba"} {
				if err := kv.Put("b", []byte(k), []byte("v"+k)); err != nil {
					return err
				}
			}
			return nil
		}))
		must(t, s.View(ctx, func(kv wallet.KV) error {
			var got []string
			_ = kv.Scan("b", []byte("b"), nil, func(k, v []byte) error {
				got = append(got, string(k))
				return nil
			})
			if fmt.Sprint(got) != "[b b1 b2 b3 ba]" {
				return fmt.Errorf("scan b: %v", got)
			}
			got = nil
			_ = kv.Scan("b", []byte("b"), []byte("b2"), func(k, v []byte) error {
				got = append(got, string(k))
				if string(k) == "b3" {
					return wallet.ErrStopScan
				}
				return nil
			})
			if fmt.Sprint(got) != "[b2 b3]" {
				return fmt.Errorf("scan from b2, stop at b3: %v", got)
			}
			got = nil
			_ = kv.ScanReverse("b", []byte("b"), func(k, v []byte) error {
				got = append(got, string(k))
				return nil
			})
			if fmt.Sprint(got) != "[ba b3 b2 b1 b]" {
				return fmt.Errorf("reverse scan b: %v", got)
			}
			got = nil
			_ = kv.Scan("b", nil, nil, func(k, v []byte) error {
				got = append(got, string(k))
				return nil
			})
			if len(got) != 7 || got[0] != "a1" || got[6] != "c1" {
				return fmt.Errorf("full scan: %v", got)
			}
			boom := errors.New("stop")
			if err := kv.Scan("b", nil, nil, func(k, v []byte) error { return boom }); !errors.Is(err, boom) {
				return fmt.Errorf("scan did not return the callback's error: %v", err)
			}
			return nil
		}))
	})
	t.Run("ConcurrentBatches", func(t *testing.T) {
		s := open(t)
		var wg sync.WaitGroup
		errs := make([]error, 40)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.Batch(ctx, func(kv wallet.KV) error {
					if i == 7 {
						return errors.New("member 7 fails")
					}
					return kv.Put("b", []byte(fmt.Sprintf("k%02d", i)), []byte("v"))
				})
			}()
		}
		wg.Wait()
		must(t, s.View(ctx, func(kv wallet.KV) error {
			for i, err := range errs {
				has := kv.Get("b", []byte(fmt.Sprintf("k%02d", i))) != nil
				if (i == 7) != (err != nil) || has == (i == 7) {
					return fmt.Errorf("batch member %d: err %v, committed %v", i, err, has)
				}
			}
			return nil
		}))
	})
	t.Run("GetsBetweenWritesAndInsideScans", func(t *testing.T) {
		// Gets interleaved with Puts, Deletes and a Scan of the same
		// bucket in one transaction, over enough keys to span many pages:
		// each Get sees the transaction's latest value, absent keys
		// (between and beyond the stored ones) read nil, and a Get inside
		// a Scan's callback does not move the scan.
		s := open(t)
		const n = 3000
		k := func(i int) []byte { return fmt.Appendf(nil, "k%05d", i) }
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			for i := 0; i < n; i += 2 {
				if err := kv.Put("b", k(i), fmt.Appendf(nil, "v%d", i)); err != nil {
					return err
				}
				if got := kv.Get("b", k(i)); string(got) != fmt.Sprintf("v%d", i) {
					return fmt.Errorf("get after put %d: %q", i, got)
				}
				if got := kv.Get("b", k(i+1)); got != nil {
					return fmt.Errorf("absent key %d: %q", i+1, got)
				}
			}
			return nil
		}))
		must(t, s.Update(ctx, func(kv wallet.KV) error {
			for i := 0; i < n; i += 2 {
				if got := kv.Get("b", k(i)); string(got) != fmt.Sprintf("v%d", i) {
					return fmt.Errorf("get %d: %q", i, got)
				}
				if i%4 == 0 {
					if err := kv.Delete("b", k(i)); err != nil {
						return err
					}
					if got := kv.Get("b", k(i)); got != nil {
						return fmt.Errorf("get after delete %d: %q", i, got)
					}
				} else if err := kv.Put("b", k(i), []byte("w")); err != nil {
					return err
				}
			}
			if got := kv.Get("b", []byte("z")); got != nil {
				return fmt.Errorf("key past the end: %q", got)
			}
			if got := kv.Get("none", k(2)); got != nil {
				return fmt.Errorf("absent bucket: %q", got)
			}
			seen := 0
			if err := kv.Scan("b", []byte("k"), nil, func(key, v []byte) error {
				if want := fmt.Sprintf("k%05d", 4*seen+2); string(key) != want || string(v) != "w" {
					return fmt.Errorf("scan step %d: %q=%q, want %s=w", seen, key, v, want)
				}
				if got := kv.Get("b", k(n-2)); string(got) != "w" {
					return fmt.Errorf("get inside scan: %q", got)
				}
				seen++
				return nil
			}); err != nil {
				return err
			}
			if seen != n/4 {
				return fmt.Errorf("scan saw %d keys, want %d", seen, n/4)
			}
			return nil
		}))
	})
	t.Run("ReadOnlyView", func(t *testing.T) {
		s := open(t)
		err := s.View(ctx, func(kv wallet.KV) error { return kv.Put("b", []byte("k"), []byte("v")) })
		if err == nil {
			t.Fatal("a write in View succeeded")
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
