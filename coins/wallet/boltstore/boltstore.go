// Package boltstore is the embedded wallet.Store on bbolt: one file per coin
// and network, atomic transactions, fsync on commit.
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/walletd/walletd/coins/wallet"
)

// Store is a wallet.Store in one bbolt file.
type Store struct {
	db *bolt.DB
	// issued is the highest sequence number handed out per bucket, so a
	// number given in a transaction that rolled back (bbolt rolls the
	// bucket's sequence back with it) is never given again.
	seqMu  sync.Mutex
	issued map[string]uint64

	// Group commit of Batch calls: queued calls wait while a commit is
	// running, then share the next one (see Batch).
	batchMu  sync.Mutex
	queue    []batchCall
	draining bool
	groups   atomic.Int64 // group commits made (for tests)
}

type batchCall struct {
	fn   func(*bolt.Tx) error
	done chan error
}

// Open opens (creating if needed) the store file at path, creating its
// directory with mode 0700. It fails after a timeout if another process
// holds the file.
func Open(path string) (*Store, error) { return OpenWith(path, Options{}) }

// Options adjust a store; the zero value is what the daemon uses.
type Options struct {
	// NoSync skips the fsync of each commit: a crash may lose or corrupt
	// the file. Only for tools that write a store in bulk and call Sync
	// at the end (the load tool's offline wallets); never for a daemon.
	NoSync bool
}

// initialMmapSize is the address space mapped for the file from the start
// (not memory: only the pages the file holds are ever touched). bbolt
// remaps the file whenever it outgrows its mapping (at each doubling from
// 32 KiB), and a remap, made inside the commit that grew the file, waits
// for every open read transaction and holds off every new one: each
// getbalance stalled for the commit's fsyncs (34 ms for a block of 200
// payments, BENCHMARKS.md "RPC latency during a websocket burst"). With
// 1 GiB mapped, a store remaps only past 1 GiB. Windows would grow the file
// itself to this size, and 32-bit processes lack the address space: both
// keep bbolt's default.
var initialMmapSize = func() int {
	if runtime.GOOS == "windows" || bits.UintSize < 64 {
		return 0
	}
	return 1 << 30
}()

// OpenWith is Open with options.
func OpenWith(path string, o Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, FreelistType: bolt.FreelistMapType,
		InitialMmapSize: initialMmapSize})
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	db.NoSync = o.NoSync
	return &Store{db: db, issued: map[string]uint64{}}, nil
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(wallet.KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(func(tx *bolt.Tx) error { return fn(&kv{tx: tx, s: s}) })
}

// Update runs fn in a read-write transaction committed with fsync.
func (s *Store) Update(ctx context.Context, fn func(wallet.KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&kv{tx: tx, s: s}) })
}

// Batch runs fn in a read-write transaction that concurrent Batch calls
// share: a group commit. A call that finds no commit running starts one at
// once (no waiting for company); calls arriving while it runs queue, and
// all of them share the next transaction and its fsync. So a lone writer
// pays one commit, and n concurrent writers about one commit per round
// instead of n. fn may run more than once: when one call of a group fails,
// the group is rolled back, run again without it, and the failed call runs
// alone (its error is then its own).
func (s *Store) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := batchCall{fn: func(tx *bolt.Tx) error { return fn(&kv{tx: tx, s: s}) }, done: make(chan error, 1)}
	s.batchMu.Lock()
	s.queue = append(s.queue, c)
	start := !s.draining
	s.draining = true
	s.batchMu.Unlock()
	if start {
		go s.drain()
	}
	err := <-c.done
	if err == errSolo {
		err = s.db.Update(c.fn)
	}
	return err
}

// errSolo tells a Batch caller to run its function alone.
var errSolo = errors.New("boltstore: run alone")

// drain commits the queued Batch calls, a group per transaction, until
// none is left.
func (s *Store) drain() {
	last := 0              // size of the previous group
	var took time.Duration // how long its commit took
	for {
		s.gather(last, took)
		s.batchMu.Lock()
		calls := s.queue
		s.queue = nil
		if len(calls) == 0 {
			s.draining = false
			s.batchMu.Unlock()
			return
		}
		s.batchMu.Unlock()
		last = len(calls)
		s.groups.Add(1)
		t0 := time.Now()
		for len(calls) > 0 {
			failed := -1
			err := s.db.Update(func(tx *bolt.Tx) error {
				for i, c := range calls {
					if err := safely(c.fn, tx); err != nil {
						failed = i
						return err
					}
				}
				return nil
			})
			if failed >= 0 {
				calls[failed].done <- errSolo
				calls = append(calls[:failed:failed], calls[failed+1:]...)
				continue
			}
			for _, c := range calls {
				c.done <- err
			}
			break
		}
		took = time.Since(t0)
	}
}

// gather waits a little for the callers of the previous group (just
// woken) to queue their next call, so that they share the next commit
// rather than alternate between a group of one and a group of the rest:
// until as many calls as last are queued, or a quarter of the previous
// commit's time (at most maxGather) has passed.
func (s *Store) gather(last int, took time.Duration) {
	if last <= 1 {
		return
	}
	deadline := time.Now().Add(min(took/4, maxGather))
	for spins := 0; s.queued() < last; spins++ {
		if spins < 4 {
			runtime.Gosched()
			continue
		}
		if !time.Now().Before(deadline) {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// maxGather bounds gather's wait.
const maxGather = 500 * time.Microsecond

func (s *Store) queued() int {
	s.batchMu.Lock()
	defer s.batchMu.Unlock()
	return len(s.queue)
}

// safely runs fn, turning a panic into an error (the caller reruns fn
// alone, where the panic is its own).
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("boltstore: panic in a batched transaction: %v", p)
		}
	}()
	return fn(tx)
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Sync flushes the file to disk (what every commit does unless NoSync).
func (s *Store) Sync() error { return s.db.Sync() }

type kv struct {
	tx *bolt.Tx
	s  *Store
	// open are the buckets this transaction used, each with a cursor
	// for Get: a bucket is looked up in the root once, and a Get seeks
	// with a cursor whose stack is reused (bbolt's Bucket.Get makes a
	// cursor, and grows its stack, on every call). A block applying
	// 2,000 payments makes ~17 Gets and Puts per payment.
	open []openBucket
}

// openBucket is a bucket a transaction used and the cursor its Gets seek
// with (never used to iterate, so a Get inside a Scan's callback does not
// move the scan's own cursor).
type openBucket struct {
	name string
	b    *bolt.Bucket
	get  *bolt.Cursor
}

// lookup returns bucket name (nil when it does not exist).
func (k *kv) lookup(name string) *openBucket {
	for i := range k.open {
		if k.open[i].name == name {
			return &k.open[i]
		}
	}
	b := k.tx.Bucket([]byte(name))
	if b == nil {
		return nil
	}
	if k.tx.Writable() {
		b.FillPercent = fillFor(name)
	}
	k.open = append(k.open, openBucket{name: name, b: b})
	return &k.open[len(k.open)-1]
}

func (k *kv) Get(bucket string, key []byte) []byte {
	ob := k.lookup(bucket)
	if ob == nil {
		return nil
	}
	if ob.get == nil {
		ob.get = ob.b.Cursor()
	}
	// Seek lands on key when it exists (it moves past the end of a page
	// only when key is beyond the page's last key).
	if got, v := ob.get.Seek(key); bytes.Equal(got, key) {
		return v
	}
	return nil
}

// fillPercent is how full bbolt packs a page it splits (its default is
// 50%). The engine's keys mostly grow at the end of their buckets (wallet
// numbers, heights and sequence numbers are given in order), where a split
// page is never written again: packed at 50% the file would be twice the
// size of its records, and all of it mapped into memory.
const fillPercent = 0.9

// middleFillPercent is how full bbolt packs a split page of a bucket the
// engine inserts into in the middle (wallet.MiddleInsertBucket).
const middleFillPercent = 0.5

// fillFor is how full bbolt packs a split page of bucket name.
func fillFor(name string) float64 {
	if wallet.MiddleInsertBucket(name) {
		return middleFillPercent
	}
	return fillPercent
}

func (k *kv) bucket(name string) (*bolt.Bucket, error) {
	if ob := k.lookup(name); ob != nil {
		return ob.b, nil
	}
	b, err := k.tx.CreateBucketIfNotExists([]byte(name))
	if err == nil {
		b.FillPercent = fillFor(name)
	}
	return b, err
}

func (k *kv) Put(bucket string, key, val []byte) error {
	b, err := k.bucket(bucket)
	if err != nil {
		return err
	}
	return b.Put(key, val)
}

func (k *kv) Delete(bucket string, key []byte) error {
	ob := k.lookup(bucket)
	if ob == nil {
		return nil
	}
	return ob.b.Delete(key)
}

func (k *kv) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	ob := k.lookup(bucket)
	if ob == nil {
		return nil
	}
	c := ob.b.Cursor()
	seek := prefix
	if start != nil && bytes.Compare(start, prefix) > 0 {
		seek = start
	}
	for key, v := c.Seek(seek); key != nil && bytes.HasPrefix(key, prefix); key, v = c.Next() {
		if err := fn(key, v); err != nil {
			if errors.Is(err, wallet.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (k *kv) ScanReverse(bucket string, prefix []byte, fn func(k, v []byte) error) error {
	ob := k.lookup(bucket)
	if ob == nil {
		return nil
	}
	c := ob.b.Cursor()
	var key, v []byte
	if end := prefixEnd(prefix); end == nil {
		key, v = c.Last()
	} else if key, _ = c.Seek(end); key == nil {
		key, v = c.Last()
	} else {
		key, v = c.Prev()
	}
	for ; key != nil && bytes.HasPrefix(key, prefix); key, v = c.Prev() {
		if err := fn(key, v); err != nil {
			if errors.Is(err, wallet.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

// prefixEnd returns the smallest key greater than every key with prefix,
// or nil if there is none (prefix empty or all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// NextSequence is the bucket's bbolt sequence, moved past any number this
// Store handed out in a transaction that rolled back.
func (k *kv) NextSequence(bucket string) (uint64, error) {
	b, err := k.bucket(bucket)
	if err != nil {
		return 0, err
	}
	v, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	k.s.seqMu.Lock()
	defer k.s.seqMu.Unlock()
	if last := k.s.issued[bucket]; v <= last {
		v = last + 1
		if err := b.SetSequence(v); err != nil {
			return 0, err
		}
	}
	k.s.issued[bucket] = v
	return v, nil
}
