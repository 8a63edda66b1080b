package wallet

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
)

// Answers of the read-hot calls (getbalance, get_request) kept in memory.
//
// A wallet's balance and the requests a client reads are cached with the
// generation of the wallet's records they were read at. Every read-write
// transaction goes through a notingStore, which notes the wallets whose
// records in the cached buckets it writes and, once the transaction has
// returned (committed or rolled back), bumps their generation: a cached
// answer is used only while its generation is current. A reader takes the
// generation before it opens its read transaction, so what it caches is
// never newer-looking than what it read, and a commit is never hidden
// once the call that made it (or the events it publishes) returned.
//
// Generations are kept per stripe of wallet numbers (a fixed array, no
// memory per wallet): two wallets of one stripe invalidate each other,
// which costs a re-read, never a stale answer.

// genStripes is the number of generation stripes (a power of two).
const genStripes = 4096

// generations are the record generations, by wallet-number stripe.
type generations [genStripes]atomic.Uint64

// of returns the current generation of wallet num's records.
func (g *generations) of(num uint32) uint64 { return g[num&(genStripes-1)].Load() }

// bump invalidates what was cached of wallet num.
func (g *generations) bump(num uint32) { g[num&(genStripes-1)].Add(1) }

// cachedBuckets are the wallet-keyed buckets (num|… keys) whose records
// the cached answers are made of.
func cachedBucket(b string) bool {
	switch b {
	case bUTXOs, bReqs, bWalletTxs:
		return true
	}
	return false
}

// notingStore is a Store whose read-write transactions bump the
// generations of the wallets whose cached records they write.
type notingStore struct {
	Store
	gens *generations
}

// noting wraps s (nil stays nil).
func (e *Engine) noting(s Store) Store {
	if s == nil {
		return nil
	}
	return notingStore{Store: s, gens: e.gens}
}

func (s notingStore) Update(ctx context.Context, fn func(KV) error) error {
	n := &notingKV{}
	err := s.Store.Update(ctx, func(kv KV) error { n.KV = kv; return fn(n) })
	n.bump(s.gens)
	return err
}

func (s notingStore) Batch(ctx context.Context, fn func(KV) error) error {
	n := &notingKV{}
	err := s.Store.Batch(ctx, func(kv KV) error { n.KV = kv; return fn(n) })
	n.bump(s.gens)
	return err
}

// notingKV notes the wallets whose cached records a transaction writes.
// A function that runs more than once (Batch) only adds to the notes:
// bumping a wallet that did not change costs a re-read, nothing else.
type notingKV struct {
	KV
	nums []uint32
}

func (n *notingKV) note(bucket string, key []byte) {
	if len(key) < numLen || !cachedBucket(bucket) {
		return
	}
	num := binary.BigEndian.Uint32(key)
	if l := len(n.nums); l == 0 || n.nums[l-1] != num {
		n.nums = append(n.nums, num)
	}
}

func (n *notingKV) Put(bucket string, key, val []byte) error {
	n.note(bucket, key)
	return n.KV.Put(bucket, key, val)
}

func (n *notingKV) Delete(bucket string, key []byte) error {
	n.note(bucket, key)
	return n.KV.Delete(bucket, key)
}

func (n *notingKV) bump(g *generations) {
	for _, num := range n.nums {
		g.bump(num)
	}
}

// balanceCache is a wallet's balance as computed at a generation, valid
// for the tips in [lo, hi): the tip only decides coinbase maturity, so a
// wallet without coinbase outputs has one balance at every tip, and one
// with some keeps it until the tip crosses a maturity boundary (up, or
// down in a reorg that changed none of its records).
type balanceCache struct {
	gen    uint64
	lo, hi int32
	b      Balance
}

// holds reports whether the cached balance is the balance at tip.
func (c *balanceCache) holds(tip int32) bool { return tip >= c.lo && tip < c.hi }

// bound narrows [lo, hi) to the tips at which u, counted at tip, counts
// the same way: a coinbase output is immature below tip
// Height+CoinbaseMaturity-1 (Balance.add) and mature from it.
func (c *balanceCache) bound(u utxoRecord, tip int32) {
	if u.Token || !u.Coinbase || u.Height <= 0 {
		return
	}
	m := u.Height + CoinbaseMaturity - 1
	if tip < m {
		c.hi = min(c.hi, m)
	} else {
		c.lo = max(c.lo, m)
	}
}

// requestCache is a request's record and payments as read at a generation
// (evaluated on every call: its status depends on the tip and the clock).
type requestCache struct {
	gen  uint64
	r    Request
	pays []payment
}

// requestCaches bounds the cached requests: 16 shards of at most
// requestShardMax entries, a full shard is emptied (a cache miss only
// costs a store read). At most 8,192 requests, a few MB, whatever the
// number of wallets.
const (
	requestShards   = 16
	requestShardMax = 512
)

type requestKey struct {
	num uint32
	key string // the id or address the call named
}

type requestShard struct {
	mu sync.Mutex
	m  map[requestKey]*requestCache
}

type requestCaches [requestShards]requestShard

func (c *requestCaches) shard(num uint32) *requestShard { return &c[num%requestShards] }

func (c *requestCaches) get(num uint32, key string) *requestCache {
	s := c.shard(num)
	s.mu.Lock()
	rc := s.m[requestKey{num, key}]
	s.mu.Unlock()
	return rc
}

func (c *requestCaches) put(num uint32, key string, rc *requestCache) {
	s := c.shard(num)
	s.mu.Lock()
	if s.m == nil || len(s.m) >= requestShardMax {
		s.m = make(map[requestKey]*requestCache)
	}
	s.m[requestKey{num, key}] = rc
	s.mu.Unlock()
}
