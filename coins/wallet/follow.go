package wallet

import (
	"context"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
)

// catchUpBatch is how many blocks one FilterBlocks call covers.
const catchUpBatch = 200

// blockAtConcurrency bounds the BlockAt calls in flight during a catch-up.
const blockAtConcurrency = 16

// follow consumes backend events until Close. It is the only goroutine
// that moves the chain cursor. A failed event is not dropped: a catch-up
// (and, for a failed mempool transaction, the transaction itself) is
// retried with exponential backoff until it succeeds, without waiting for
// the next block.
func (e *Engine) follow(events <-chan chain.Event) {
	ctx := e.bgCtx
	backoff := e.cfg.RetryBackoff
	var retry <-chan time.Time
	var failedTxs []txAt
	fail := func(what string, err error) {
		if ctx.Err() != nil {
			return
		}
		e.log.Error("applying chain event; retrying", "kind", what, "retry_in", backoff, "err", err)
		if retry == nil {
			retry = time.After(backoff)
			backoff = min(2*backoff, maxRetryBackoff)
		}
	}
	for {
		select {
		case <-e.stop:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Kind == chain.EventTxAccepted {
				if err := e.applyMempool(ctx, []txAt{{tx: ev.Tx}}); err != nil {
					failedTxs = append(failedTxs, txAt{tx: ev.Tx})
					fail(kindName(ev.Kind), err)
				}
				continue
			}
			if err := e.handle(ctx, ev); err != nil {
				fail(kindName(ev.Kind), err)
			}
		case <-retry:
			retry = nil
			if err := e.catchUp(ctx); err != nil {
				fail("retry", err)
				continue
			}
			if len(failedTxs) > 0 {
				if err := e.applyMempool(ctx, failedTxs); err != nil {
					fail("retry", err)
					continue
				}
				failedTxs = nil
			}
			backoff = e.cfg.RetryBackoff
		}
	}
}

// kindName names an event kind in logs.
func kindName(k chain.EventKind) string {
	switch k {
	case chain.EventConnected:
		return "connected"
	case chain.EventDisconnected:
		return "disconnected"
	case chain.EventBlockConnected:
		return "block connected"
	case chain.EventBlockDisconnected:
		return "block disconnected"
	case chain.EventTxAccepted:
		return "tx accepted"
	}
	return fmt.Sprintf("kind %d", k)
}

func (e *Engine) applyMempool(ctx context.Context, txs []txAt) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	return e.applyBatch(ctx, batch{txs: txs})
}

func (e *Engine) handle(ctx context.Context, ev chain.Event) error {
	switch ev.Kind {
	case chain.EventConnected:
		e.log.Info("backend connected", "tip", ev.Tip.Height)
		// Mempool payments made while we were away are not in any block
		// yet: the worker looks up the addresses of open requests (in the
		// background: a slow lookup must not hold block processing).
		e.bg.requestRescan()
		return e.catchUp(ctx)
	case chain.EventDisconnected:
		e.log.Warn("backend disconnected")
	case chain.EventBlockConnected:
		return e.onBlock(ctx, ev.Block)
	case chain.EventBlockDisconnected:
		if ev.Block.Hash == e.cursorRef().Hash {
			return e.rollback(ctx)
		}
	}
	return nil
}

func (e *Engine) cursorRef() chain.BlockRef {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cursor
}

func (e *Engine) markSynced() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.synced {
		e.synced = true
		close(e.syncCh)
	}
}

// onBlock applies a connected block if it extends the cursor; anything else
// (a gap, a competing branch) is resolved by catching up.
func (e *Engine) onBlock(ctx context.Context, b *chain.Block) error {
	cur := e.cursorRef()
	if b.Prev == cur.Hash {
		return e.applyBlock(ctx, b)
	}
	if b.Hash == cur.Hash {
		return nil
	}
	return e.catchUp(ctx)
}

// catchUp brings the cursor to the backend's tip: it rolls back blocks that
// left the best chain, then applies the missing ones in batches. Node calls
// are made without any lock; each block is applied under chainMu.
func (e *Engine) catchUp(ctx context.Context) error {
	for {
		tip, err := e.cfg.Backend.Tip(ctx)
		if err != nil {
			return err
		}
		cur := e.cursorRef()
		if cur.Hash == (chainhash.Hash{}) {
			// A new store starts at the tip: wallets backfill their own
			// history when they are first loaded.
			if err := e.setCursor(ctx, tip); err != nil {
				return err
			}
			e.markSynced()
			return nil
		}
		if cur.Height > tip.Height {
			if err := e.rollback(ctx); err != nil {
				return err
			}
			continue
		}
		at, err := e.cfg.Backend.BlockAt(ctx, cur.Height)
		if err != nil {
			return err
		}
		if at.Hash != cur.Hash {
			if err := e.rollback(ctx); err != nil {
				return err
			}
			continue
		}
		if cur.Height == tip.Height {
			e.markSynced()
			return nil
		}
		n := min(int(tip.Height-cur.Height), catchUpBatch)
		hashes, err := e.blockHashes(ctx, cur.Height+1, n)
		if err != nil {
			return err
		}
		blocks, err := e.cfg.Backend.FilterBlocks(ctx, hashes)
		if err != nil {
			return err
		}
		for i := range blocks {
			if blocks[i].Prev != e.cursorRef().Hash {
				break // the chain moved under us: start over
			}
			if err := e.applyBlock(ctx, &blocks[i]); err != nil {
				return err
			}
		}
	}
}

// blockHashes returns the hashes of the n blocks from height from, with a
// bounded number of BlockAt calls in flight.
func (e *Engine) blockHashes(ctx context.Context, from int32, n int) ([]chainhash.Hash, error) {
	hashes := make([]chainhash.Hash, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, blockAtConcurrency)
	for i := 0; i < n; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			ref, err := e.cfg.Backend.BlockAt(ctx, from+int32(i))
			if err == nil {
				hashes[i] = ref.Hash
			}
			errs <- err
		}()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return hashes, first
}

// setCursor stores a cursor without applying anything.
func (e *Engine) setCursor(ctx context.Context, ref chain.BlockRef) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	err := e.cfg.Store.Update(ctx, func(kv KV) error {
		return putCursor(kv, ref)
	})
	if err == nil {
		e.mu.Lock()
		e.setCursorLocked(ref)
		e.mu.Unlock()
	}
	return err
}

// applyBlock applies a block's relevant transactions, the new_block event
// and the cursor in one store transaction.
func (e *Engine) applyBlock(ctx context.Context, b *chain.Block) error {
	txs := make([]txAt, len(b.Txs))
	for i, tx := range b.Txs {
		h := b.Hash
		txs[i] = txAt{tx: tx, height: b.Height, block: &h, time: b.Time}
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	if b.Prev != e.cursorRef().Hash {
		return nil // not on our chain any more; the caller catches up
	}
	t0 := time.Now()
	var times applyTimes
	err := e.applyBatch(ctx, batch{txs: txs, block: &b.BlockRef, times: &times})
	if err == nil {
		// The load tool reads "took" (applied and committed, with the
		// block's events published) from this line; the phases after it
		// say where the time went.
		e.log.Info("block applied", "height", b.Height, "txs", len(b.Txs), "took", time.Since(t0),
			"body", times.body, "commit", times.commit, "publish", times.publish,
			"derive", times.derive, "extend", times.extend)
	}
	return err
}

// rollback undoes the block at the cursor: its wallet transactions go back
// to the mempool (coinbase ones disappear), requests paid by them go back to
// unconfirmed, and the cursor moves to the parent. The parent of a block
// the engine has no record of (the one a new store started at) is asked of
// the node first, outside any lock and transaction.
func (e *Engine) rollback(ctx context.Context) error {
	cur := e.cursorRef()
	var rec blockRecord
	var found bool
	if err := e.cfg.Store.View(ctx, func(kv KV) error {
		var err error
		found, err = getRec(kv, bBlocks, u32(uint32(cur.Height)), &rec)
		return err
	}); err != nil {
		return err
	}
	recorded := found && rec.Hash == cur.Hash.String()
	var parent chain.BlockRef
	if !recorded {
		// Only the block a new store started at has no record, and no
		// wallet transaction was applied in it: step back to the best
		// chain's block below it.
		p, err := e.cfg.Backend.BlockAt(ctx, cur.Height-1)
		if err != nil {
			return fmt.Errorf("rollback below unrecorded block %d: %w", cur.Height, err)
		}
		parent = p
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	if e.cursorRef() != cur {
		return nil
	}
	var a *applier
	var prev chain.BlockRef
	err := e.update(ctx, func(s kvs) error {
		kv := s.disk
		a = newApplier(e, s)
		if !recorded {
			prev = parent
			return putCursor(kv, prev)
		}
		prevHash, err := chainhash.NewHashFromStr(rec.Prev)
		if err != nil {
			return err
		}
		prev = chain.BlockRef{Height: cur.Height - 1, Hash: *prevHash}
		var prevRec blockRecord
		ok, err := getRec(kv, bBlocks, u32(uint32(cur.Height-1)), &prevRec)
		if err != nil {
			return err
		}
		if ok && prevRec.Hash == rec.Prev {
			prev.Time = time.Unix(prevRec.Time, 0)
			if ph, err := chainhash.NewHashFromStr(prevRec.Prev); err == nil {
				prev.Prev = *ph
			}
		}
		txids := rec.Txs
		if s.mem != nil {
			var memRec blockRecord
			if ok, err := getRec(s.mem, bBlocks, u32(uint32(cur.Height)), &memRec); err != nil {
				return err
			} else if ok && memRec.Hash == rec.Hash {
				txids = append(append([]string(nil), txids...), memRec.Txs...)
			}
		}
		for _, txid := range txids {
			id, err := chainhash.NewHashFromStr(txid)
			if err != nil {
				return err
			}
			if err := a.unconfirm(*id); err != nil {
				return err
			}
		}
		for _, t := range s.all() {
			if err := t.Delete(bBlocks, u32(uint32(cur.Height))); err != nil {
				return err
			}
		}
		if err := putCursor(kv, prev); err != nil {
			return err
		}
		evs, err := a.finish(prev.Height)
		a.logged = evs
		return err
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	a.installOwned()
	e.setCursorLocked(prev)
	e.mu.Unlock()
	e.windowsRolledBack(prev.Height)
	e.log.Info("rolled back block", "height", cur.Height, "hash", cur.Hash)
	e.publish(a.logged)
	return nil
}
