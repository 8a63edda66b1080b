package btcdws

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// Local matching (Config.MatchLocally, chain.LocalMatcher): no node-side
// filter. The node sends every block header (notifyblocks: its
// filteredblockconnected carries no transaction without a filter) and
// every mempool transaction (notifynewtransactions, verbose: with its
// hex); the backend reads each connected block in full (getblock) and
// keeps, of blocks and mempool transactions, those the consumer's Matcher
// matches. A consumer with millions of scripts (the wallet engine's index)
// then starts at once, where loading them into the node's filter took
// minutes of node CPU at every connection.

const (
	// blockWindow is how many getblock calls FilterBlocks keeps in flight
	// when matching locally.
	blockWindow = 4
	// mempoolBatch is how many getrawtransaction calls of a mempool
	// listing go in one batch.
	mempoolBatch = 200
)

var _ chain.LocalMatcher = (*Backend)(nil)

// localFilter matches transactions with the consumer's Matcher, plus the
// outpoints of outputs it matched (learned), so that a spend of them is
// matched before the consumer has applied the paying transaction (in the
// same block, a later block of one FilterBlocks call, or the mempool).
// Learned outpoints are forgotten PruneDepth blocks after they were
// learned: the consumer has them by then.
type localFilter struct {
	m     chain.Matcher
	depth int32

	mu      sync.Mutex
	learned map[wire.OutPoint]int32 // outpoint → best height when learned
	best    int32
}

// match reports whether tx is relevant, learning its outpoints that pay a
// matched script.
func (f *localFilter) match(tx *wire.MsgTx) bool {
	rel := false
	f.mu.Lock()
	for _, in := range tx.TxIn {
		if _, ok := f.learned[in.PreviousOutPoint]; ok {
			rel = true
			break
		}
	}
	f.mu.Unlock()
	if !rel {
		for _, in := range tx.TxIn {
			if f.m.WatchesOutpoint(in.PreviousOutPoint) {
				rel = true
				break
			}
		}
	}
	var id *chainhash.Hash
	for i, out := range tx.TxOut {
		if len(out.PkScript) == 0 || !f.m.WatchesScript(out.PkScript) {
			continue
		}
		rel = true
		if id == nil {
			h := tx.TxHash()
			id = &h
		}
		f.mu.Lock()
		f.learned[wire.OutPoint{Hash: *id, Index: uint32(i)}] = f.best
		f.mu.Unlock()
	}
	return rel
}

// reduce returns the relevant transactions of txs in order (txs list
// parents first: a block's, or a sorted mempool listing).
func (f *localFilter) reduce(txs []*wire.MsgTx) []*wire.MsgTx {
	out := make([]*wire.MsgTx, 0)
	for _, tx := range txs {
		if f.match(tx) {
			out = append(out, tx)
		}
	}
	return out
}

// at notes a block at height: learned outpoints older than depth blocks
// are dropped.
func (f *localFilter) at(height int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if height <= f.best {
		return
	}
	f.best = height
	cut := f.best - f.depth
	for op, h := range f.learned {
		if h < cut {
			delete(f.learned, op)
		}
	}
}

// MatchLocally makes the backend match with m when Config.MatchLocally is
// set (see chain.LocalMatcher) and reports whether it does; call it before
// Start. Without Config.MatchLocally it returns false and m is not used.
func (b *Backend) MatchLocally(m chain.Matcher) bool {
	if !b.cfg.MatchLocally || m == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return false
	}
	b.local.Store(&localFilter{m: m, depth: int32(b.cfg.PruneDepth), learned: map[wire.OutPoint]int32{}})
	return true
}

// localMode returns the local filter, nil when the node's filter is used.
func (b *Backend) localMode() *localFilter { return b.local.Load() }

// handshakeLocal subscribes conn to block headers and verbose mempool
// transactions (no filter is loaded).
func (b *Backend) handshakeLocal(ctx context.Context, conn *rpcConn) error {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	if err := conn.callInto(cctx, nil, "notifyblocks"); err != nil {
		return err
	}
	return conn.callInto(cctx, nil, "notifynewtransactions", true)
}

// decodeLocalNote turns a notification of a locally matching connection
// into an event: a connected block without its transactions (deliver
// reads them, see fillBlock), a disconnected block, or a mempool
// transaction the filter matches.
func (b *Backend) decodeLocalNote(f *localFilter, method string, params []json.RawMessage) (chain.Event, bool, error) {
	switch method {
	case "txacceptedverbose":
		if len(params) < 1 {
			return chain.Event{}, false, errors.New("missing params")
		}
		var r struct {
			Hex string `json:"hex"`
		}
		if err := json.Unmarshal(params[0], &r); err != nil {
			return chain.Event{}, false, err
		}
		tx, err := decodeTx(r.Hex)
		if errors.Is(err, ltcwire.ErrMWEBOnly) {
			return chain.Event{}, false, nil // nothing a wallet here can own
		}
		if err != nil {
			return chain.Event{}, false, err
		}
		if !f.match(tx) {
			return chain.Event{}, false, nil
		}
		return chain.Event{Kind: chain.EventTxAccepted, Tx: tx}, true, nil
	case "filteredblockconnected":
		if len(params) < 2 {
			return chain.Event{}, false, errors.New("missing params")
		}
		ref, err := decodeHeaderParams(params[0], params[1])
		if err != nil {
			return chain.Event{}, false, err
		}
		return chain.Event{Kind: chain.EventBlockConnected, Block: &chain.Block{BlockRef: ref}}, true, nil
	case "filteredblockdisconnected":
		if len(params) < 2 {
			return chain.Event{}, false, errors.New("missing params")
		}
		ref, err := decodeHeaderParams(params[0], params[1])
		if err != nil {
			return chain.Event{}, false, err
		}
		return chain.Event{Kind: chain.EventBlockDisconnected, Block: &chain.Block{BlockRef: ref}}, true, nil
	}
	return chain.Event{}, false, nil
}

// fillBlock reads a connected block's transactions and keeps the relevant
// ones; it tries a few times while the backend runs. A block it cannot
// read is not delivered: the next block (or the next connection) makes the
// consumer catch up from its cursor, which reads it with FilterBlocks.
func (b *Backend) fillBlock(ctx context.Context, f *localFilter, blk *chain.Block) bool {
	delay := 100 * time.Millisecond
	for attempt := 0; ; attempt++ {
		conn, err := b.readyConn()
		if err == nil {
			cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
			var txs []*wire.MsgTx
			txs, err = b.fetchBlock(cctx, conn, blk.Hash)
			cancel()
			if err == nil {
				f.at(blk.Height)
				blk.Txs = f.reduce(txs)
				return true
			}
		}
		if ctx.Err() != nil || attempt >= 4 {
			b.log.Warn("btcdws: cannot read a connected block; the next block or connection catches up", "height", blk.Height,
				"hash", blk.Hash, "err", err)
			return false
		}
		if !sleep(ctx, delay) {
			return false
		}
		delay *= 2
	}
}

// fetchBlock reads block hash in full (getblock, raw) and checks it is that
// block.
func (b *Backend) fetchBlock(ctx context.Context, conn *rpcConn, hash chainhash.Hash) ([]*wire.MsgTx, error) {
	var s string
	if err := conn.callInto(ctx, &s, "getblock", hash.String(), 0); err != nil {
		if _, ok := rpcCode(err); ok {
			return nil, fmt.Errorf("block %s: %w: %w", hash, chain.ErrNotFound, err)
		}
		return nil, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("getblock %s: %w", hash, err)
	}
	blk, err := ltcwire.DecodeBlock(raw)
	if err != nil {
		return nil, fmt.Errorf("getblock %s: %w", hash, err)
	}
	if blk.Hash() != hash {
		return nil, fmt.Errorf("getblock %s: the node returned block %s", hash, blk.Hash())
	}
	return blk.Txs, nil
}

// filterBlocksLocal is FilterBlocks when matching locally: headers as in
// node mode, then each block read in full (blockWindow in flight) and
// reduced in order.
func (b *Backend) filterBlocksLocal(ctx context.Context, conn *rpcConn, f *localFilter, out []chain.Block) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		txs []*wire.MsgTx
		err error
	}
	results := make([]chan result, len(out))
	for i := range results {
		results[i] = make(chan result, 1)
	}
	sem := make(chan struct{}, blockWindow)
	go func() {
		for i := range out {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func() {
				cctx, ccancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
				defer ccancel()
				txs, err := b.fetchBlock(cctx, conn, out[i].Hash)
				results[i] <- result{txs, err}
			}()
		}
	}()
	for i := range out {
		var r result
		select {
		case r = <-results[i]:
			<-sem
		case <-ctx.Done():
			return ctx.Err()
		}
		if r.err != nil {
			return r.err
		}
		f.at(out[i].Height)
		out[i].Txs = f.reduce(r.txs)
	}
	return nil
}

// MempoolSize returns how many transactions the node's mempool holds
// (getmempoolinfo).
func (b *Backend) MempoolSize(ctx context.Context) (int, error) {
	var info struct {
		Size int `json:"size"`
	}
	if err := b.call(ctx, &info, "getmempoolinfo"); err != nil {
		return 0, err
	}
	return info.Size, nil
}

// MempoolMatches lists the node's mempool (getrawmempool), reads its
// transactions (getrawtransaction, mempoolBatch per batch) and returns
// those the local filter matches, parents first. A transaction that left
// the mempool meanwhile is skipped. Only the matched transactions and
// those spending another mempool transaction's output (a spend of a
// matched output may come before it in the listing) are kept while
// reading, not the whole mempool. Without local matching it is
// chain.ErrUnsupported.
func (b *Backend) MempoolMatches(ctx context.Context) ([]*wire.MsgTx, error) {
	f := b.localMode()
	if f == nil {
		return nil, fmt.Errorf("btcdws: mempool matching without MatchLocally: %w", chain.ErrUnsupported)
	}
	conn, err := b.readyConn()
	if err != nil {
		return nil, err
	}
	var ids []string
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	err = conn.callInto(cctx, &ids, "getrawmempool")
	cancel()
	if err != nil {
		return nil, err
	}
	listed := make(map[chainhash.Hash]struct{}, len(ids))
	for _, id := range ids {
		if h, err := chainhash.NewHashFromStr(id); err == nil {
			listed[*h] = struct{}{}
		}
	}
	var txs []*wire.MsgTx
	for len(ids) > 0 {
		n := min(len(ids), mempoolBatch)
		calls := make([]batchCall, n)
		for i, id := range ids[:n] {
			calls[i] = batchCall{method: "getrawtransaction", params: []any{id, 0}}
		}
		ids = ids[n:]
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		res, err := conn.callBatch(cctx, calls)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, r := range res {
			if r.err != nil {
				if code, ok := rpcCode(r.err); ok && code == codeNoInfo {
					continue // mined or evicted since the listing
				}
				return nil, r.err
			}
			var s string
			if err := json.Unmarshal(r.result, &s); err != nil {
				return nil, fmt.Errorf("getrawtransaction: %w", err)
			}
			tx, err := decodeTx(s)
			if errors.Is(err, ltcwire.ErrMWEBOnly) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("getrawtransaction: %w", err)
			}
			if f.match(tx) || spendsListed(tx, listed) {
				txs = append(txs, tx)
			}
		}
	}
	// Matched again in order: a child read before its matched parent is
	// matched through the outpoint the parent's match taught.
	return f.reduce(chain.ParentsFirst(txs)), nil
}

// spendsListed reports whether tx spends an output of a listed transaction.
func spendsListed(tx *wire.MsgTx, listed map[chainhash.Hash]struct{}) bool {
	for _, in := range tx.TxIn {
		if _, ok := listed[in.PreviousOutPoint.Hash]; ok {
			return true
		}
	}
	return false
}
