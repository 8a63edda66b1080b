package corerpc

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// txBatch is how many getrawtransaction calls go in one batch request.
const txBatch = 200

// syncMempool reads the node's mempool txids, fetches the transactions not
// seen before (batched getrawtransaction; those announced by ZMQ are taken
// from there), reports the relevant ones (parents first) and forgets those
// that left. Only txids and summaries are kept (mpView). Poller only.
func (b *Backend) syncMempool(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	var ids txidList
	if err := b.rpc.call(cctx, &ids, "getrawmempool", false); err != nil {
		return err
	}
	b.mpMu.Lock()
	missing := b.mp.mark(ids)
	b.mpMu.Unlock()
	raws, err := b.fetchTxs(cctx, missing)
	if err != nil {
		return err
	}
	rel := b.admit(raws)
	b.mpMu.Lock()
	for _, id := range missing {
		if !b.mp.has(id) {
			b.mp.add(id, nil, b.sums) // left the mempool meanwhile: listed, so kept until it is not
		}
	}
	b.mp.sweep(len(ids))
	b.mpMu.Unlock()
	return b.report(ctx, rel)
}

// fetchTxs returns the raw transactions of ids, from the ZMQ cache or the
// node; those the node no longer has are left out.
func (b *Backend) fetchTxs(ctx context.Context, ids []chainhash.Hash) (map[chainhash.Hash][]byte, error) {
	out := make(map[chainhash.Hash][]byte, len(ids))
	var ask []chainhash.Hash
	for _, id := range ids {
		if raw, ok := b.zmqTxs.take(id); ok {
			out[id] = raw
		} else {
			ask = append(ask, id)
		}
	}
	for start := 0; start < len(ask); start += txBatch {
		end := min(start+txBatch, len(ask))
		res := make([]string, end-start)
		calls := make([]batchCall, end-start)
		for i := range calls {
			calls[i] = batchCall{Method: "getrawtransaction", Params: []any{ask[start+i].String(), 0}, Out: &res[i]}
		}
		if err := b.rpc.batch(ctx, calls); err != nil {
			return nil, err
		}
		for i, c := range calls {
			if c.Err != nil {
				continue // left the mempool meanwhile
			}
			raw, err := hex.DecodeString(res[i])
			if err != nil {
				return nil, err
			}
			out[ask[start+i]] = raw
		}
	}
	return out, nil
}

// admit records raws in the mempool view and returns the relevant ones,
// parents first. Undecodable transactions are logged and recorded (so they
// are not fetched again); pure MWEB ones are recorded silently.
func (b *Backend) admit(raws map[chainhash.Hash][]byte) []*wire.MsgTx {
	txs := make([]*wire.MsgTx, 0, len(raws))
	decoded := make(map[chainhash.Hash]*wire.MsgTx, len(raws))
	for id, raw := range raws {
		tx, err := ltcwire.DecodeTx(raw)
		switch {
		case errors.Is(err, ltcwire.ErrMWEBOnly):
		case err != nil:
			b.log.Warn("corerpc: undecodable mempool transaction", "txid", id, "err", err)
		default:
			txs = append(txs, tx)
			decoded[id] = tx
		}
	}
	rel := b.matchLive(chain.ParentsFirst(txs))
	b.mpMu.Lock()
	for id := range raws {
		b.mp.add(id, decoded[id], b.sums)
	}
	b.mpMu.Unlock()
	return rel
}

// report sends EventTxAccepted for each of txs.
func (b *Backend) report(ctx context.Context, txs []*wire.MsgTx) error {
	for _, tx := range txs {
		if !b.emit(ctx, chain.Event{Kind: chain.EventTxAccepted, Tx: tx}) {
			return ctx.Err()
		}
	}
	return nil
}

// processAnnounced handles the transactions ZMQ announced since the last
// cycle without a full mempool poll: each not yet in the view is matched;
// a relevant one is confirmed to be in the mempool (getmempoolentry: rawtx
// also announces the transactions of a new block) before it is reported.
// Poller only.
func (b *Backend) processAnnounced(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	ann := b.zmqTxs.drain()
	fresh := make(map[chainhash.Hash][]byte, len(ann))
	var fetch []chainhash.Hash
	b.mpMu.Lock()
	for id, raw := range ann {
		if b.mp.has(id) {
			continue
		}
		if raw == nil {
			fetch = append(fetch, id) // a sequence 'A' notification: txid only
		} else {
			fresh[id] = raw
		}
	}
	b.mpMu.Unlock()
	if len(fetch) > 0 {
		got, err := b.fetchTxs(cctx, fetch)
		if err != nil {
			return err
		}
		for id, raw := range got {
			fresh[id] = raw
		}
	}
	// Match without recording first: a block's transactions must not
	// enter the view.
	for _, tx := range b.peekRelevant(fresh) {
		err := b.rpc.call(cctx, nil, "getmempoolentry", tx.TxHash().String())
		if err == nil {
			continue
		}
		if _, ok := rpcCode(err); !ok {
			return err
		}
		delete(fresh, tx.TxHash()) // mined already: the block reports it
	}
	return b.report(ctx, b.admit(fresh))
}

// peekRelevant returns the transactions of raws relevant to the watched set
// without learning anything.
func (b *Backend) peekRelevant(raws map[chainhash.Hash][]byte) []*wire.MsgTx {
	var txs []*wire.MsgTx
	for _, raw := range raws {
		if tx, err := ltcwire.DecodeTx(raw); err == nil {
			txs = append(txs, tx)
		}
	}
	b.watchMu.Lock()
	probe := &matcher{scripts: b.watch.scripts, outpoints: make(map[wire.OutPoint]struct{}, len(b.watch.outpoints))}
	for op := range b.watch.outpoints {
		probe.outpoints[op] = struct{}{}
	}
	rel := probe.matchAll(chain.ParentsFirst(txs))
	b.watchMu.Unlock()
	return rel
}

// onZMQ handles one ZMQ notification (on a subscriber goroutine).
func (b *Backend) onZMQ(topic string, body []byte) {
	switch topic {
	case "rawtx":
		tx, err := ltcwire.DecodeTx(body)
		var id chainhash.Hash
		switch {
		case err == nil:
			id = tx.TxHash()
		case errors.Is(err, ltcwire.ErrMWEBOnly):
			return
		default:
			b.log.Debug("corerpc: undecodable ZMQ rawtx", "err", err)
			return
		}
		b.zmqTxs.put(id, append([]byte(nil), body...))
	case "sequence":
		// 32-byte hash (display order), a label, and for A/R an 8-byte
		// mempool sequence number.
		if len(body) < 33 {
			return
		}
		if body[32] == 'A' {
			var id chainhash.Hash
			for i := 0; i < 32; i++ {
				id[i] = body[31-i]
			}
			b.zmqTxs.putID(id)
		}
	case "hashblock", "rawblock":
	default:
		return
	}
	b.kick()
}

// txCache holds transactions announced by ZMQ until the poller takes them
// (nil raw: announced by txid only). It is bounded: the oldest are dropped
// when full (the next full poll fetches what was lost).
type txCache struct {
	mu    sync.Mutex
	max   int
	items map[chainhash.Hash][]byte
	order []chainhash.Hash
}

func newTxCache(max int) *txCache {
	return &txCache{max: max, items: map[chainhash.Hash][]byte{}}
}

func (c *txCache) put(id chainhash.Hash, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.items[id]; !ok {
		c.order = append(c.order, id)
	}
	c.items[id] = raw
	for len(c.order) > c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
}

func (c *txCache) putID(id chainhash.Hash) {
	c.mu.Lock()
	_, ok := c.items[id]
	c.mu.Unlock()
	if !ok {
		c.put(id, nil)
	}
}

func (c *txCache) take(id chainhash.Hash) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	raw, ok := c.items[id]
	if ok && raw != nil {
		delete(c.items, id)
		return raw, true
	}
	return nil, false
}

func (c *txCache) drain() map[chainhash.Hash][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.items
	c.items = map[chainhash.Hash][]byte{}
	c.order = nil
	return out
}

func (c *txCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
