// Package memstore is a wallet.Store that lives in memory only: the engine
// keeps diskless wallets (the xpub selector's diskless: true) here, so that
// nothing about them reaches the disk. Transactions are atomic (an error
// undoes every write of the Update) and serialized; readers see committed
// state.
package memstore

import (
	"bytes"
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/walletd/walletd/coins/wallet"
)

// Store is an in-memory wallet.Store. The zero value is not usable; call New.
type Store struct {
	mu      sync.RWMutex
	buckets map[string]map[string][]byte
	seqs    map[string]uint64
}

// New returns an empty store.
func New() *Store {
	return &Store{buckets: map[string]map[string][]byte{}, seqs: map[string]uint64{}}
}

// View runs fn with a shared lock.
func (s *Store) View(ctx context.Context, fn func(wallet.KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&kv{s: s})
}

// Update runs fn exclusively; if fn fails every write it made is undone.
func (s *Store) Update(ctx context.Context, fn func(wallet.KV) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &kv{s: s, write: true}
	if err := fn(t); err != nil {
		t.rollback()
		return err
	}
	return nil
}

// Batch is Update: memory commits cost nothing to share.
func (s *Store) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Update(ctx, fn)
}

// Close drops everything.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buckets = map[string]map[string][]byte{}
	return nil
}

type undo struct {
	bucket, key string
	prev        []byte
	existed     bool
}

type kv struct {
	s     *Store
	write bool
	log   []undo
}

var errReadOnly = errors.New("memstore: write in a read-only transaction")

func (k *kv) rollback() {
	for i := len(k.log) - 1; i >= 0; i-- {
		u := k.log[i]
		b := k.s.buckets[u.bucket]
		if u.existed {
			b[u.key] = u.prev
		} else {
			delete(b, u.key)
		}
	}
}

func (k *kv) Get(bucket string, key []byte) []byte {
	return k.s.buckets[bucket][string(key)]
}

func (k *kv) record(bucket, key string) {
	prev, existed := k.s.buckets[bucket][key]
	k.log = append(k.log, undo{bucket: bucket, key: key, prev: prev, existed: existed})
}

func (k *kv) Put(bucket string, key, val []byte) error {
	if !k.write {
		return errReadOnly
	}
	b := k.s.buckets[bucket]
	if b == nil {
		b = map[string][]byte{}
		k.s.buckets[bucket] = b
	}
	k.record(bucket, string(key))
	// Never nil, even for an empty value: Get tells an empty value from
	// an absent key.
	b[string(key)] = append(make([]byte, 0, len(val)), val...)
	return nil
}

func (k *kv) Delete(bucket string, key []byte) error {
	if !k.write {
		return errReadOnly
	}
	if _, ok := k.s.buckets[bucket][string(key)]; !ok {
		return nil
	}
	k.record(bucket, string(key))
	delete(k.s.buckets[bucket], string(key))
	return nil
}

// keys returns the bucket's keys with prefix, sorted.
func (k *kv) keys(bucket string, prefix []byte) []string {
	var out []string
	for key := range k.s.buckets[bucket] {
		if bytes.HasPrefix([]byte(key), prefix) {
			out = append(out, key)
		}
	}
	sort.Strings(out)
	return out
}

func (k *kv) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	for _, key := range k.keys(bucket, prefix) {
		if start != nil && key < string(start) {
			continue
		}
		v, ok := k.s.buckets[bucket][key]
		if !ok {
			continue // deleted by fn during the scan
		}
		if err := fn([]byte(key), v); err != nil {
			if errors.Is(err, wallet.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

func (k *kv) ScanReverse(bucket string, prefix []byte, fn func(k, v []byte) error) error {
	keys := k.keys(bucket, prefix)
	for i := len(keys) - 1; i >= 0; i-- {
		v, ok := k.s.buckets[bucket][keys[i]]
		if !ok {
			continue
		}
		if err := fn([]byte(keys[i]), v); err != nil {
			if errors.Is(err, wallet.ErrStopScan) {
				return nil
			}
			return err
		}
	}
	return nil
}

// NextSequence is not undone by a rollback: a number is never handed out
// twice.
func (k *kv) NextSequence(bucket string) (uint64, error) {
	if !k.write {
		return 0, errReadOnly
	}
	k.s.seqs[bucket]++
	return k.s.seqs[bucket], nil
}
