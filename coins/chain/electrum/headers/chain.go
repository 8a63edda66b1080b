package headers

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// DefaultKeep is the number of recent headers a Chain keeps in full: two
// retarget periods (the difficulty rules look one back) and a margin for
// reorganisations.
const DefaultKeep = 2*ChunkSize + 200

// oldChunks is how many verified chunks below the kept window are cached.
const oldChunks = 8

type entry struct {
	hdr  wire.BlockHeader
	hash chainhash.Hash
}

// Chain is a verified chain of headers from an anchor to the tip. It keeps
// the last Keep headers in full and, below them, the hash of the last block
// of every retarget period (Electrum's checkpoints, then its own), so that
// any older header can be verified from its chunk (VerifyOldChunk). It is
// safe for concurrent use.
type Chain struct {
	rules *Rules
	keep  int32
	// verified counts the headers whose bits and proof of work were
	// checked.
	verified atomic.Int64

	mu     sync.RWMutex
	base   int32   // height of hdrs[0]; -1 before Init
	hdrs   []entry // base .. tip
	ends   map[int32]chainhash.Hash
	old    map[int32][]entry // verified chunks below base, by index
	oldUse []int32           // old's keys, least recently used first
}

// NewChain returns an empty chain for rules; keep (DefaultKeep when < 1)
// bounds the headers kept in full. Init anchors it.
func NewChain(rules *Rules, keep int) *Chain {
	k := int32(keep)
	if min := 2*rules.interval() + 2; k < min {
		k = max(int32(DefaultKeep), min)
	}
	c := &Chain{rules: rules, keep: k, base: -1, ends: map[int32]chainhash.Hash{}, old: map[int32][]entry{}}
	for i, h := range rules.Checkpoints {
		c.ends[int32(i)] = h
	}
	return c
}

// Verified returns how many headers Extend has checked (their bits and
// proof of work) since the chain was made; headers taken on trust from an
// anchor or a snapshot are not counted.
func (c *Chain) Verified() int64 { return c.verified.Load() }

// Rules returns the chain's rules.
func (c *Chain) Rules() *Rules { return c.rules }

// AnchorRange returns the heights Init needs: from the block before the
// anchor's retarget period (the difficulty rules measure from it) to the
// anchor.
func (c *Chain) AnchorRange() (from, to int32) {
	a := c.rules.Anchor()
	from = a.Height/ChunkSize*ChunkSize - 1
	return max(from, 0), a.Height
}

// Anchored reports whether Init succeeded.
func (c *Chain) Anchored() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.base >= 0
}

// Init anchors the chain with the headers of AnchorRange, which must link
// to one another and end at the anchor (the genesis block or the last
// checkpoint); they are trusted through the anchor's hash. Init on an
// anchored chain is a no-op.
func (c *Chain) Init(hdrs []wire.BlockHeader) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base >= 0 {
		return nil
	}
	from, to := c.AnchorRange()
	if len(hdrs) != int(to-from+1) {
		return fmt.Errorf("%w: anchor needs %d headers, got %d", ErrInvalid, to-from+1, len(hdrs))
	}
	es := make([]entry, len(hdrs))
	for i := range hdrs {
		es[i] = entry{hdr: hdrs[i], hash: hdrs[i].BlockHash()}
		if i > 0 && hdrs[i].PrevBlock != es[i-1].hash {
			return fmt.Errorf("%w: anchor headers do not link at height %d", ErrInvalid, from+int32(i))
		}
	}
	if a := c.rules.Anchor(); es[len(es)-1].hash != a.Hash {
		return fmt.Errorf("%w: %s block %d is %v, not the checkpoint %v", ErrInvalid, c.rules.Name,
			a.Height, es[len(es)-1].hash, a.Hash)
	}
	c.base, c.hdrs = from, es
	return nil
}

// Tip returns the verified tip (false before Init).
func (c *Chain) Tip() (chain.BlockRef, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.base < 0 {
		return chain.BlockRef{}, false
	}
	return c.refLocked(c.base + int32(len(c.hdrs)) - 1), true
}

// Height returns the verified tip's height (-1 before Init).
func (c *Chain) Height() int32 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.base < 0 {
		return -1
	}
	return c.base + int32(len(c.hdrs)) - 1
}

func (c *Chain) refLocked(h int32) chain.BlockRef {
	e := &c.hdrs[h-c.base]
	return chain.BlockRef{Height: h, Hash: e.hash, Prev: e.hdr.PrevBlock, Time: e.hdr.Timestamp}
}

// At returns the block at height h of the verified chain, if it is in the
// kept window or in a verified old chunk (see VerifyOldChunk).
func (c *Chain) At(h int32) (chain.BlockRef, wire.BlockHeader, error) {
	c.mu.Lock() // old-chunk use order changes
	defer c.mu.Unlock()
	if c.base >= 0 && h >= c.base && h < c.base+int32(len(c.hdrs)) {
		return c.refLocked(h), c.hdrs[h-c.base].hdr, nil
	}
	if c.base >= 0 && h >= 0 && h < c.base {
		if es, ok := c.old[h/ChunkSize]; ok {
			c.touchOld(h / ChunkSize)
			e := &es[h%ChunkSize]
			return chain.BlockRef{Height: h, Hash: e.hash, Prev: e.hdr.PrevBlock, Time: e.hdr.Timestamp}, e.hdr, nil
		}
	}
	return chain.BlockRef{}, wire.BlockHeader{}, fmt.Errorf("%w: %d", ErrUnknownHeight, h)
}

// HeightOf returns the height of hash in the kept window or in a cached
// old chunk.
func (c *Chain) HeightOf(hash chainhash.Hash) (int32, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for i := len(c.hdrs) - 1; i >= 0; i-- {
		if c.hdrs[i].hash == hash {
			return c.base + int32(i), true
		}
	}
	for idx, es := range c.old {
		for i := range es {
			if es[i].hash == hash {
				return idx*ChunkSize + int32(i), true
			}
		}
	}
	return 0, false
}

// OldChunk returns the chunk (start height and count) that must be fetched
// and passed to VerifyOldChunk to verify height h below the kept window;
// ok is false when h is in the window or above the tip, or when no verified
// hash ends its chunk.
func (c *Chain) OldChunk(h int32) (start, count int32, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.base < 0 || h < 0 || h >= c.base {
		return 0, 0, false
	}
	if _, ok := c.endLocked(h / ChunkSize); !ok {
		return 0, 0, false
	}
	return h / ChunkSize * ChunkSize, ChunkSize, true
}

// endLocked returns the verified hash of the last block of chunk idx: kept
// when the chunk was pruned (or a checkpoint), or in the window.
func (c *Chain) endLocked(idx int32) (chainhash.Hash, bool) {
	if h, ok := c.ends[idx]; ok {
		return h, true
	}
	end := (idx+1)*ChunkSize - 1
	if c.base >= 0 && end >= c.base && end < c.base+int32(len(c.hdrs)) {
		return c.hdrs[end-c.base].hash, true
	}
	return chainhash.Hash{}, false
}

// VerifyOldChunk checks a chunk fetched for OldChunk: its headers link and
// the last one hashes to the verified end of the chunk. The chunk is then
// served by At (a few chunks are cached).
func (c *Chain) VerifyOldChunk(start int32, hdrs []wire.BlockHeader) error {
	if start%ChunkSize != 0 || len(hdrs) != ChunkSize {
		return fmt.Errorf("%w: chunk at %d has %d headers", ErrInvalid, start, len(hdrs))
	}
	es := make([]entry, len(hdrs))
	for i := range hdrs {
		es[i] = entry{hdr: hdrs[i], hash: hdrs[i].BlockHash()}
		if i > 0 && hdrs[i].PrevBlock != es[i-1].hash {
			return fmt.Errorf("%w: chunk headers do not link at height %d", ErrInvalid, start+int32(i))
		}
	}
	idx := start / ChunkSize
	c.mu.Lock()
	defer c.mu.Unlock()
	end, ok := c.endLocked(idx)
	if !ok {
		return fmt.Errorf("%w: no verified end for chunk %d", ErrUnknownHeight, idx)
	}
	if es[len(es)-1].hash != end {
		return fmt.Errorf("%w: chunk %d does not end at its verified hash", ErrInvalid, idx)
	}
	if _, ok := c.old[idx]; !ok {
		c.old[idx] = es
		c.oldUse = append(c.oldUse, idx)
		if len(c.oldUse) > oldChunks {
			delete(c.old, c.oldUse[0])
			c.oldUse = c.oldUse[1:]
		}
	}
	c.touchOld(idx)
	return nil
}

func (c *Chain) touchOld(idx int32) {
	for i, x := range c.oldUse {
		if x == idx {
			copy(c.oldUse[i:], c.oldUse[i+1:])
			c.oldUse[len(c.oldUse)-1] = idx
			return
		}
	}
}

// Extend verifies hdrs, which must be consecutive headers starting at
// height start, and makes them the chain's tip. Leading headers the chain
// already has are skipped. If the rest forks from the chain (start at or
// below the tip), the chain's blocks from the fork point up are replaced;
// they are returned as disconnected, highest first. The server's branch is
// followed whatever its length: the server decides the best chain; what is
// checked is that every header is valid.
//
// Errors: ErrDisconnected when the first new header does not attach at
// start-1 (or start is beyond the tip+1), ErrInvalid for anything no honest
// server sends (see ErrInvalid) — the chain is then unchanged.
func (c *Chain) Extend(start int32, hdrs []wire.BlockHeader) ([]chain.BlockRef, error) {
	if len(hdrs) == 0 {
		return nil, nil
	}
	es := make([]entry, len(hdrs))
	for i := range hdrs {
		es[i] = entry{hdr: hdrs[i], hash: hdrs[i].BlockHash()}
		if i > 0 && hdrs[i].PrevBlock != es[i-1].hash {
			return nil, fmt.Errorf("%w: headers do not link at height %d", ErrInvalid, start+int32(i))
		}
	}
	pows := c.powHashes(hdrs)

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base < 0 {
		return nil, fmt.Errorf("%w: chain not anchored", ErrDisconnected)
	}
	tip := c.base + int32(len(c.hdrs)) - 1
	// Skip what the chain already has.
	for len(es) > 0 && start <= tip && start >= c.base && c.hdrs[start-c.base].hash == es[0].hash {
		start++
		es, pows = es[1:], pows[1:]
	}
	if len(es) == 0 {
		return nil, nil
	}
	if start > tip+1 {
		return nil, fmt.Errorf("%w: header at %d above tip %d", ErrDisconnected, start, tip)
	}
	anchor := c.rules.Anchor().Height
	if start <= anchor {
		return nil, fmt.Errorf("%w: fork at %d below the anchor %d", ErrInvalid, start, anchor)
	}
	if start <= c.base {
		return nil, fmt.Errorf("%w: fork at %d deeper than the %d kept headers", ErrInvalid, start, c.keep)
	}
	if es[0].hdr.PrevBlock != c.hdrs[start-1-c.base].hash {
		return nil, fmt.Errorf("%w: header at %d does not extend block %d", ErrDisconnected, start, start-1)
	}
	v := &view{c: c, start: start, extra: es}
	cc := chainCtx{c.rules}
	for i := range es {
		h := start + int32(i)
		prev := v.node(h - 1)
		if prev == nil {
			return nil, fmt.Errorf("%w: no parent for header %d", ErrInvalid, h)
		}
		if err := blockchain.CheckBlockHeaderContext(&es[i].hdr, prev, blockchain.BFNone, cc, true); err != nil {
			return nil, fmt.Errorf("%w: %s header %d: %v", ErrInvalid, c.rules.Name, h, err)
		}
		if err := c.rules.checkPow(&es[i].hdr, pows[i]); err != nil {
			return nil, fmt.Errorf("%s header %d: %w", c.rules.Name, h, err)
		}
	}
	c.verified.Add(int64(len(es)))
	var gone []chain.BlockRef
	for h := tip; h >= start; h-- {
		gone = append(gone, c.refLocked(h))
	}
	c.hdrs = append(c.hdrs[:start-c.base], es...)
	c.pruneLocked()
	return gone, nil
}

// Truncate drops the blocks above height (the server's chain went back
// without a replacement yet) and returns them, highest first. A height
// below the anchor is ErrInvalid.
func (c *Chain) Truncate(height int32) ([]chain.BlockRef, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base < 0 {
		return nil, fmt.Errorf("%w: chain not anchored", ErrDisconnected)
	}
	if height < c.rules.Anchor().Height || height < c.base {
		return nil, fmt.Errorf("%w: rollback to %d below the anchor", ErrInvalid, height)
	}
	tip := c.base + int32(len(c.hdrs)) - 1
	var gone []chain.BlockRef
	for h := tip; h > height; h-- {
		gone = append(gone, c.refLocked(h))
	}
	c.hdrs = c.hdrs[:height-c.base+1]
	return gone, nil
}

// pruneLocked drops full headers below the kept window, remembering the
// hash that ends each dropped retarget period.
func (c *Chain) pruneLocked() {
	extra := int32(len(c.hdrs)) - c.keep
	if extra < ChunkSize {
		return // prune in chunks: rare, cheap copies
	}
	for i := int32(0); i < extra; i++ {
		h := c.base + i
		if (h+1)%ChunkSize == 0 {
			c.ends[h/ChunkSize] = c.hdrs[i].hash
		}
	}
	c.hdrs = append([]entry(nil), c.hdrs[extra:]...)
	c.base += extra
}

// powHashes computes the proof-of-work hashes of hdrs, in parallel when the
// function is expensive (scrypt) and the batch large.
func (c *Chain) powHashes(hdrs []wire.BlockHeader) []chainhash.Hash {
	out := make([]chainhash.Hash, len(hdrs))
	workers := runtime.GOMAXPROCS(0)
	if len(hdrs) < 64 || workers < 2 {
		for i := range hdrs {
			out[i] = c.rules.Pow(&hdrs[i])
		}
		return out
	}
	var wg sync.WaitGroup
	per := (len(hdrs) + workers - 1) / workers
	for lo := 0; lo < len(hdrs); lo += per {
		hi := min(lo+per, len(hdrs))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				out[i] = c.rules.Pow(&hdrs[i])
			}
		}()
	}
	wg.Wait()
	return out
}

// view is the chain below start plus candidate headers from start, as
// btcd's consensus code walks it (blockchain.HeaderCtx).
type view struct {
	c     *Chain // read under c.mu
	start int32
	extra []entry
}

func (v *view) node(h int32) blockchain.HeaderCtx {
	if h >= v.start && h < v.start+int32(len(v.extra)) {
		return &node{v: v, h: h, e: &v.extra[h-v.start]}
	}
	if h >= v.c.base && h < v.start && h < v.c.base+int32(len(v.c.hdrs)) {
		return &node{v: v, h: h, e: &v.c.hdrs[h-v.c.base]}
	}
	return nil // an untyped nil: btcd compares with nil
}

type node struct {
	v *view
	h int32
	e *entry
}

func (n *node) Height() int32                { return n.h }
func (n *node) Bits() uint32                 { return n.e.hdr.Bits }
func (n *node) Timestamp() int64             { return n.e.hdr.Timestamp.Unix() }
func (n *node) Parent() blockchain.HeaderCtx { return n.v.node(n.h - 1) }

// RelativeAncestorCtx is called by the retarget with distance interval-1
// (Bitcoin's first block of the period). Litecoin measures from one block
// further back, the last block of the previous period, except at the first
// retarget.
func (n *node) RelativeAncestorCtx(distance int32) blockchain.HeaderCtx {
	r := n.v.c.rules
	if r.FullPeriodRetarget && distance == r.interval()-1 && n.h+1 != r.interval() {
		distance++
	}
	return n.v.node(n.h - distance)
}

// chainCtx gives btcd's consensus code the network parameters; checkpoints
// are checked by Chain itself.
type chainCtx struct{ r *Rules }

func (cc chainCtx) ChainParams() *chaincfg.Params { return cc.r.Params }
func (cc chainCtx) BlocksPerRetarget() int32      { return cc.r.interval() }
func (cc chainCtx) MinRetargetTimespan() int64 {
	return int64(cc.r.Params.TargetTimespan/time.Second) / cc.r.Params.RetargetAdjustmentFactor
}
func (cc chainCtx) MaxRetargetTimespan() int64 {
	return int64(cc.r.Params.TargetTimespan/time.Second) * cc.r.Params.RetargetAdjustmentFactor
}
func (cc chainCtx) VerifyCheckpoint(int32, *chainhash.Hash) bool { return true }
func (cc chainCtx) FindPreviousCheckpoint() (blockchain.HeaderCtx, error) {
	return nil, nil
}
