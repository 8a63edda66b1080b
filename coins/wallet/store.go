package wallet

import "context"

// Store is the durable state the engine needs: an ordered key-value store
// with named buckets and atomic read-write transactions. The engine owns
// the record layout (see records.go); a Store only keeps bytes. Everything
// written in one Update commits together or not at all, and is durable once
// Update returns nil.
type Store interface {
	// View runs fn in a read-only transaction with a consistent snapshot.
	View(ctx context.Context, fn func(KV) error) error
	// Update runs fn in a read-write transaction; an error from fn rolls
	// everything back.
	Update(ctx context.Context, fn func(KV) error) error
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
	// increasing, never reused, durable with the transaction.
	NextSequence(bucket string) (uint64, error)
}

// ErrStopScan ends a Scan early without error.
var ErrStopScan = stopScan{}

type stopScan struct{}

func (stopScan) Error() string { return "stop scan" }
