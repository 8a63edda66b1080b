package corerpc

import (
	"encoding/binary"
	"hash/maphash"
	"slices"
	"sync"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// DefaultSummaryCache is the default memory bound of the block summaries
// (Config.SummaryCache).
const DefaultSummaryCache = 64 << 20

// blockSummary is a block reduced to what a History scan needs to decide
// whether to read it again: 64-bit keyed hashes of its output scripts and of
// the outpoints its inputs spend, sorted. A false match only costs a read.
type blockSummary struct {
	outs []uint64
	ins  []uint64
}

func (s *blockSummary) size() int64 { return int64(8*(len(s.outs)+len(s.ins)) + 64) }

// summaries caches the summary of every block the backend read whole, up to
// a memory bound (the oldest are dropped first), so that scanning the same
// blocks again for other scripts reads only those that may hold them. On a
// node without block filters this turns the second and later backfills into
// in-memory lookups.
type summaries struct {
	seed maphash.Seed

	mu    sync.Mutex
	max   int64
	used  int64
	m     map[chainhash.Hash]*blockSummary
	order []chainhash.Hash
}

func newSummaries(max int64) *summaries {
	return &summaries{seed: maphash.MakeSeed(), max: max, m: map[chainhash.Hash]*blockSummary{}}
}

func (c *summaries) scriptKey(s []byte) uint64 { return maphash.Bytes(c.seed, s) }

func (c *summaries) outpointKey(op wire.OutPoint) uint64 {
	var b [36]byte
	copy(b[:], op.Hash[:])
	binary.LittleEndian.PutUint32(b[32:], op.Index)
	return maphash.Bytes(c.seed, b[:])
}

// add records the summary of a block read whole.
func (c *summaries) add(hash chainhash.Hash, txs []*wire.MsgTx) {
	if c.max <= 0 {
		return
	}
	s := &blockSummary{}
	for _, tx := range txs {
		for _, in := range tx.TxIn {
			s.ins = append(s.ins, c.outpointKey(in.PreviousOutPoint))
		}
		for _, out := range tx.TxOut {
			s.outs = append(s.outs, c.scriptKey(out.PkScript))
		}
	}
	slices.Sort(s.outs)
	slices.Sort(s.ins)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[hash]; ok {
		return
	}
	c.m[hash] = s
	c.order = append(c.order, hash)
	c.used += s.size()
	for c.used > c.max && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		if o, ok := c.m[old]; ok {
			c.used -= o.size()
			delete(c.m, old)
		}
	}
}

// mayMatch reports whether the block may pay one of scripts (their keys) or
// spend one of outpoints (their keys); known is false when the block has no
// summary (it must be read).
func (c *summaries) mayMatch(hash chainhash.Hash, scripts, outpoints []uint64) (match, known bool) {
	c.mu.Lock()
	s, ok := c.m[hash]
	c.mu.Unlock()
	if !ok {
		return false, false
	}
	for _, k := range scripts {
		if _, found := slices.BinarySearch(s.outs, k); found {
			return true, true
		}
	}
	for _, k := range outpoints {
		if _, found := slices.BinarySearch(s.ins, k); found {
			return true, true
		}
	}
	return false, true
}
