package wallet

import "context"

// Store is the durable state the engine needs: an ordered key-value store
// with named buckets and atomic read-write transactions. The engine owns
// the record layout (see records.go); a Store only keeps bytes. Everything
// written in one Update commits together or not at all, and is durable once
// Update returns nil. ctx is checked before a transaction starts; one that
// started runs to its end (so the engine never leaves half of a change).
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(KV) error) error
	// Update runs fn in a read-write transaction; an error from fn rolls
	// everything back.
	Update(ctx context.Context, fn func(KV) error) error
	// Batch is Update for small independent writes: concurrent Batch calls
	// may share one commit (one fsync). fn may run more than once, so it
	// must change nothing but kv (and variables it resets on each run).
	Batch(ctx context.Context, fn func(KV) error) error
	// Close flushes and releases the store.
	Close() error
}

// KV is the view of a Store inside a transaction. Buckets are created on
// first write. Byte slices returned by Get and passed to Scan callbacks are
// valid only inside the transaction.
type KV interface {
	// Get returns the value of key, or nil if absent.
	Get(bucket string, key []byte) []byte
	// Put sets key to val.
	Put(bucket string, key, val []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(bucket string, key []byte) error
	// Scan calls fn for every key with prefix, in key order, starting at
	// the first key ≥ start (start nil: from the prefix). fn returning
	// ErrStopScan ends the scan without error.
	Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error
	// ScanReverse is Scan in descending key order over the keys with prefix.
	ScanReverse(bucket string, prefix []byte, fn func(k, v []byte) error) error
	// NextSequence returns the bucket's next sequence number: strictly
	// increasing and durable with the transaction. A number handed out in
	// a transaction that rolled back is never handed out again by the same
	// Store value (a restart may reuse it: nothing that rolled back was
	// ever visible).
	NextSequence(bucket string) (uint64, error)
}

// ErrStopScan ends a Scan early without error.
var ErrStopScan = stopScan{}

type stopScan struct{}

func (stopScan) Error() string { return "stop scan" }

// kvs pairs a transaction on the durable store with one on the volatile
// store (nil when the engine has none): each wallet's records go to the
// store its wallet lives in, chain-wide state (cursor, blocks, global
// events, the event sequence) to the durable one.
type kvs struct {
	e    *Engine
	disk KV
	mem  KV
}

// of returns the transaction holding wallet w's records.
func (s kvs) of(w string) KV {
	if s.mem != nil && s.e.isDiskless(w) {
		return s.mem
	}
	return s.disk
}

// all returns the open transactions.
func (s kvs) all() []KV {
	if s.mem == nil {
		return []KV{s.disk}
	}
	return []KV{s.disk, s.mem}
}

// update runs fn in a read-write transaction on both stores; an error from
// fn rolls both back. The volatile transaction is the outer one: it commits
// only after the durable one did (and a memory commit cannot fail), so a
// failed disk commit leaves neither store changed.
func (e *Engine) update(ctx context.Context, fn func(kvs) error) error {
	if e.cfg.Volatile == nil {
		return e.cfg.Store.Update(ctx, func(disk KV) error { return fn(kvs{e: e, disk: disk}) })
	}
	return e.cfg.Volatile.Update(ctx, func(mem KV) error {
		return e.cfg.Store.Update(ctx, func(disk KV) error {
			return fn(kvs{e: e, disk: disk, mem: mem})
		})
	})
}

// view runs fn in read-only transactions on both stores, taken in the same
// order as update (volatile first), so that a reader never holds a durable
// read transaction while it waits for the volatile store.
func (e *Engine) view(ctx context.Context, fn func(kvs) error) error {
	if e.cfg.Volatile == nil {
		return e.cfg.Store.View(ctx, func(disk KV) error { return fn(kvs{e: e, disk: disk}) })
	}
	return e.cfg.Volatile.View(ctx, func(mem KV) error {
		return e.cfg.Store.View(ctx, func(disk KV) error {
			return fn(kvs{e: e, disk: disk, mem: mem})
		})
	})
}

// store returns the store holding the wallet's records.
func (w *Wallet) store() Store { return w.e.storeOf(w.t) }
