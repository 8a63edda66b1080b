package wallet

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// History backfill.
//
// Every address whose history the engine has not applied yet has a row in
// bBackfill, written in the same transaction as the address itself (a new
// wallet's first addresses, a gap-limit extension, addresses derived ahead
// or created on request). A backfill watches the addresses, fetches their
// history from the node (no lock held), then applies it and deletes the
// rows in one transaction under chainMu. A failed backfill leaves the rows:
// it is retried with backoff, and after a restart.
//
// While a wallet has rows, it has a window: the transactions applied
// meanwhile (blocks, mempool, other backfills) are kept, and those touching
// the addresses being backfilled are applied again together with their
// history. A transaction that spent an output known only from that history
// was applied before the output was, so its spend was missed; applying it
// again after the output is credited records it.

// windowsApplied keeps txs (just committed) for the open windows, opening
// one first for each wallet in opened. Caller holds chainMu.
func (e *Engine) windowsApplied(txs []txAt, opened []*tracked) {
	for _, t := range opened {
		if _, ok := e.windows[t]; !ok {
			e.windows[t] = struct{}{}
			t.win = nil
		}
	}
	if len(txs) == 0 {
		return
	}
	// Windows opened together share their txs (see shareWindow): they
	// grow together too, one copy per distinct window, not per wallet
	// (a block paying 2,000 wallets opens 2,000 windows).
	grown := map[winKey][]txAt{}
	for t := range e.windows {
		k := keyOfWindow(t.win)
		w, ok := grown[k]
		if !ok {
			w = shareWindow(append(t.win[:len(t.win):len(t.win)], txs...))
			grown[k] = w
		}
		t.win = w
	}
}

// winKey identifies a window's contents: windows with the same first
// element and length hold the same txs.
type winKey struct {
	first *txAt
	n     int
}

func keyOfWindow(win []txAt) winKey {
	if len(win) == 0 {
		return winKey{}
	}
	return winKey{&win[0], len(win)}
}

// shareWindow returns win with its capacity clipped, so that it can be
// shared by several wallets' windows: an append copies it rather than
// write past its end. Shared entries are only ever changed in place by
// windowsRolledBack, which makes the same change in every open window.
func shareWindow(win []txAt) []txAt { return win[:len(win):len(win)] }

// windowsRolledBack marks the kept txs of blocks above height as
// unconfirmed. Caller holds chainMu.
func (e *Engine) windowsRolledBack(height int32) {
	for t := range e.windows {
		for i := range t.win {
			if t.win[i].height > height {
				t.win[i].height, t.win[i].block = 0, nil
			}
		}
	}
}

// relevantWindow returns the kept txs that pay one of scripts, or spend an
// output paying one of them (known from hist or the window itself).
func (e *Engine) relevantWindow(win, hist []txAt, scripts [][]byte) []txAt {
	if len(win) == 0 {
		return nil
	}
	want := make(map[string]bool, len(scripts))
	for _, s := range scripts {
		want[string(s)] = true
	}
	paid := map[wire.OutPoint]bool{}
	pays := func(t txAt) bool {
		any := false
		var id chainhash.Hash
		for i, o := range t.tx.TxOut {
			if want[string(e.lockingScript(o.PkScript))] {
				if !any {
					id = t.tx.TxHash()
				}
				any = true
				paid[wire.OutPoint{Hash: id, Index: uint32(i)}] = true
			}
		}
		return any
	}
	for _, t := range hist {
		pays(t)
	}
	keep := make([]bool, len(win))
	for i, t := range win {
		keep[i] = pays(t)
	}
	var out []txAt
	for i, t := range win {
		if !keep[i] {
			for _, in := range t.tx.TxIn {
				keep[i] = keep[i] || paid[in.PreviousOutPoint]
			}
		}
		if keep[i] {
			out = append(out, t)
		}
	}
	return out
}

// kick makes sure the pending backfills of ts run: in one background job
// for those whose slot it gets (with retries), while whoever holds the
// slot of another looks again when it releases it. A group job that fails
// falls back to one job per wallet, so that a wallet whose lookups fail or
// hang does not hold the others.
func (e *Engine) kick(ts ...*tracked) {
	var held []*tracked
	for _, t := range ts {
		t.dirty.Store(true)
		select {
		case t.slot() <- struct{}{}:
			held = append(held, t)
		default:
		}
	}
	if len(held) == 0 {
		return
	}
	if !e.spawn(func() { e.jobLoop(held) }) {
		for _, t := range held {
			<-t.slot()
		}
	}
}

// release gives t's backfill slot back, kicking a job when rows were added
// meanwhile.
func (e *Engine) release(t *tracked) {
	<-t.slot()
	if t.dirty.Load() && !t.gone.Load() {
		e.kick(t)
	}
}

// jobLoop runs the backfill of ts (holding their slots) until it succeeds
// or the engine closes, with exponential backoff between attempts; a group
// that fails once splits into one job per wallet.
func (e *Engine) jobLoop(ts []*tracked) {
	if len(ts) > 1 {
		for _, t := range ts {
			t.dirty.Store(false)
		}
		if _, err := e.backfillGroup(e.bgCtx, ts); err == nil {
			for _, t := range ts {
				e.release(t)
			}
			return
		}
		for _, t := range ts {
			t := t
			if !e.spawn(func() { e.jobLoop([]*tracked{t}) }) {
				<-t.slot()
			}
		}
		return
	}
	t := ts[0]
	backoff := e.cfg.RetryBackoff
	for {
		err := e.backfillLoop(e.bgCtx, t)
		if err == nil || e.bgCtx.Err() != nil {
			break
		}
		e.log.Warn("history backfill failed; it will be retried", "wallet", t.rec.ID, "retry_in", backoff, "err", err)
		if !sleepCtx(e.bgCtx, backoff) {
			break
		}
		backoff = min(2*backoff, maxRetryBackoff)
	}
	e.release(t)
}

// ensureBackfilled runs t's pending backfill now (waiting for the slot
// while ctx allows): on return without error, every address t had is
// watched and its history applied.
func (e *Engine) ensureBackfilled(ctx context.Context, t *tracked) error {
	select {
	case t.slot() <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := e.backfillLoop(ctx, t)
	e.release(t)
	if err != nil {
		e.kick(t) // retried in the background
	}
	return err
}

// backfillLoop runs backfills of t until it has no rows left. Caller holds
// t's slot.
func (e *Engine) backfillLoop(ctx context.Context, t *tracked) error {
	for {
		t.dirty.Store(false)
		more, err := e.backfillOnce(ctx, t)
		if err != nil || !more {
			return err
		}
	}
}

// backfillOnce applies the history of t's pending addresses (as read at
// its start). It reports whether there were any. Once none is left, t's
// window closes and its first load is complete.
func (e *Engine) backfillOnce(ctx context.Context, t *tracked) (bool, error) {
	return e.backfillGroup(ctx, []*tracked{t})
}

// backfillGroup is backfillOnce for several wallets at once (those whose
// addresses one block revealed): one watch, one history lookup and one
// transaction for all. Caller holds their slots.
func (e *Engine) backfillGroup(ctx context.Context, ts []*tracked) (bool, error) {
	rows := map[*tracked]map[string][]byte{}
	var scripts [][]byte
	for _, t := range ts {
		if t.gone.Load() {
			continue
		}
		r := map[string][]byte{}
		err := e.storeOf(t).View(ctx, func(kv KV) error {
			return kv.Scan(bBackfill, t.wk(), nil, func(k, v []byte) error {
				r[string(k)] = append([]byte(nil), v...)
				return nil
			})
		})
		if err != nil {
			return false, err
		}
		rows[t] = r
		for _, s := range r {
			scripts = append(scripts, s)
		}
	}
	var hist []txAt
	if len(scripts) > 0 {
		if err := e.watch(ctx, scripts, nil); err != nil {
			return false, fmt.Errorf("watching: %w", err)
		}
		var err error
		if hist, err = e.fetchHistory(ctx, scripts); err != nil {
			return false, err
		}
		e.awaitBlocksOf(ctx, hist)
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	var live []*tracked
	// The group's windows, each distinct one once (windows opened by one
	// block share their txs), filtered once against the group's scripts:
	// a tx kept for another wallet of the group is one the engine applied
	// already, and applying it again changes nothing it did not.
	var union []txAt
	seenWin := map[winKey]bool{}
	seen := map[*wire.MsgTx]bool{}
	for t := range rows {
		_, open := e.windows[t]
		if t.gone.Load() || len(rows[t]) == 0 && !open && t.isReady() {
			continue
		}
		live = append(live, t)
		if k := keyOfWindow(t.win); !seenWin[k] {
			seenWin[k] = true
			for _, x := range t.win {
				if !seen[x.tx] {
					seen[x.tx] = true
					union = append(union, x)
				}
			}
		}
	}
	win := e.relevantWindow(union, hist, scripts)
	if len(live) == 0 {
		return false, nil
	}
	complete := map[*tracked]bool{}
	err := e.applyBatch(ctx, batch{txs: append(hist, win...), history: true, lock: live,
		done: func(a *applier) error {
			for _, t := range live {
				kv := a.kv(t.rec.ID)
				for k := range rows[t] {
					if err := kv.Delete(bBackfill, []byte(k)); err != nil {
						return err
					}
				}
				left := false
				if err := kv.Scan(bBackfill, t.wk(), nil, func(_, _ []byte) error {
					left = true
					return ErrStopScan
				}); err != nil {
					return err
				}
				if !left {
					complete[t] = true
					if t.rec.Pending {
						a.rec(t).Pending = false
					}
				}
			}
			return nil
		},
		after: func() {
			for t := range complete {
				delete(e.windows, t)
				t.win = nil
				t.markReady()
			}
		},
	})
	if err != nil {
		return false, err
	}
	return len(scripts) > 0, nil
}

// fetchHistory asks the backend for the history of scripts and returns the
// distinct transactions, confirmed ones by height, then mempool ones. A
// backend that cannot look history up (ErrUnsupported) gives none. At most
// historyConcurrency lookups run at once.
func (e *Engine) fetchHistory(ctx context.Context, scripts [][]byte) ([]txAt, error) {
	if e.cfg.Backend == nil {
		return nil, ErrNoBackend
	}
	return e.lookupHistory(ctx, func(ctx context.Context) ([]chain.TxInfo, error) {
		return e.cfg.Backend.History(ctx, scripts)
	})
}

// lookupHistory runs get (a History call of the backend) under the
// historyConcurrency bound and returns what fetchHistory returns.
func (e *Engine) lookupHistory(ctx context.Context, get func(context.Context) ([]chain.TxInfo, error)) ([]txAt, error) {
	select {
	case e.histSem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	hist, err := get(ctx)
	<-e.histSem
	if errors.Is(err, chain.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	seen := map[chainhash.Hash]bool{}
	var txs []txAt
	for _, h := range hist {
		id := h.Tx.TxHash()
		if seen[id] {
			continue
		}
		seen[id] = true
		txs = append(txs, txAt{tx: h.Tx, height: h.Height, block: h.BlockHash, time: h.Time})
	}
	sort.SliceStable(txs, func(i, j int) bool {
		return chainOrder(txs[i].height, txs[j].height, time.Time{}, time.Time{})
	})
	return txs, nil
}

// historyLag bounds how long a backfill waits for the engine to reach the
// blocks its history names.
const historyLag = 30 * time.Second

// awaitBlocksOf waits (at most historyLag) until the engine has applied
// the highest block hist names: a transaction the node reports in a block
// the engine has not reached yet (it is about to apply it, filtered before
// the addresses were watched, so without the transaction) is then applied
// in that block, not as unconfirmed.
func (e *Engine) awaitBlocksOf(ctx context.Context, hist []txAt) {
	var top int32
	for _, t := range hist {
		top = max(top, t.height)
	}
	if top > e.cursorRef().Height {
		e.waitHeight(ctx, top, historyLag)
	}
}

// rescanOpenRequests finds the mempool payments made while the daemon or
// its connection was down, so that they are found at once: with a backend
// that matches locally (chain.LocalMatcher) it matches the node's mempool
// (one listing, then the transactions) when that holds no more
// transactions than there are addresses to look up; otherwise it fetches
// the history of every address with a request that is not paid and did
// not expire more than ExpiredRescanWindow ago (late payments to recently
// expired ones still count), and applies what the node knows. Older
// requests still see a payment once it is mined (their addresses stay
// watched). Mined payments are the catch-up's.
func (e *Engine) rescanOpenRequests(ctx context.Context) error {
	lm, local := e.cfg.Backend.(chain.LocalMatcher)
	local = local && e.local.Load()
	size := 0
	if local {
		n, err := lm.MempoolSize(ctx)
		if err != nil {
			return err
		}
		size = n
		if size <= mempoolReplayMin {
			return e.replayMempool(ctx, lm)
		}
	}
	scripts, err := e.openRequestScripts(ctx)
	if err != nil || len(scripts) == 0 {
		return err
	}
	if local && size <= len(scripts) {
		return e.replayMempool(ctx, lm)
	}
	hist, err := e.fetchHistory(ctx, scripts)
	if err != nil || len(hist) == 0 {
		return err
	}
	e.awaitBlocksOf(ctx, hist)
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	return e.applyBatch(ctx, batch{txs: hist, history: true})
}

// mempoolReplayMin: a mempool this small is matched whatever the number of
// open requests (reading their records would cost more).
const mempoolReplayMin = 1000

// replayMempool applies the node's mempool transactions the backend
// matches against the index.
func (e *Engine) replayMempool(ctx context.Context, lm chain.LocalMatcher) error {
	t0 := time.Now()
	txs, err := lm.MempoolMatches(ctx)
	if err != nil {
		return fmt.Errorf("matching the mempool: %w", err)
	}
	e.log.Info("node mempool matched", "relevant", len(txs), "took", time.Since(t0))
	if len(txs) == 0 {
		return nil
	}
	at := make([]txAt, len(txs))
	for i, tx := range txs {
		at[i] = txAt{tx: tx}
	}
	return e.applyMempool(ctx, at)
}

// openRequestScripts returns the scripts of the requests the rescan
// covers (see rescanOpenRequests).
func (e *Engine) openRequestScripts(ctx context.Context) ([][]byte, error) {
	now := e.cfg.Now().Unix()
	window := int64(e.cfg.ExpiredRescanWindow / time.Second)
	var scripts [][]byte
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			if err := kv.Scan(bReqs, nil, nil, func(k, v []byte) error {
				if len(k) <= numLen || k[numLen] != reqTagID {
					return nil // an address row
				}
				var r Request
				if err := decodeRec(v, &r); err != nil {
					return err
				}
				if r.Status == StatusPaid {
					return nil
				}
				if exp, ok := r.expiresAt(); ok && addSat(exp, window) < now {
					return nil
				}
				scripts = append(scripts, r.PkScript)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return scripts, err
}

// forget removes a wallet entirely (a failed first load, a closed diskless
// wallet): its records, then its place in the indexes.
func (e *Engine) forget(ctx context.Context, t *tracked) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	t.reqMu.Lock()
	defer t.reqMu.Unlock()
	if t.gone.Load() {
		return nil
	}
	id := t.rec.ID
	var scripts [][]byte
	var ops []wire.OutPoint
	err := e.storeOf(t).Update(ctx, func(kv KV) error {
		scripts, ops = nil, nil
		if err := kv.Scan(bAddrs, t.wk(), nil, func(_, v []byte) error {
			var a addrRecord
			if err := decodeRec(v, &a); err != nil {
				return err
			}
			scripts = append(scripts, a.PkScript)
			return nil
		}); err != nil {
			return err
		}
		if err := kv.Scan(bUTXOs, t.wk(), nil, func(k, _ []byte) error {
			ops = append(ops, outpointFromKey(k[numLen:]))
			return nil
		}); err != nil {
			return err
		}
		return deleteWallet(kv, id, t.wk())
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.wallets.del(id)
	e.byNum.del(t.rec.Num)
	for _, s := range scripts {
		e.index.remove(s, t.rec.Num)
	}
	for _, op := range ops {
		owners := e.owned[op]
		kept := owners[:0:0]
		for _, w := range owners {
			if w != id {
				kept = append(kept, w)
			}
		}
		if len(kept) == 0 {
			delete(e.owned, op)
		} else {
			e.owned[op] = kept
		}
	}
	e.unload(t)
	e.mu.Unlock()
	t.gone.Store(true)
	delete(e.windows, t)
	t.win = nil
	t.markReady()
	return nil
}

// walletBuckets are the buckets whose keys start with a wallet number.
var walletBuckets = []string{bAddrs, bUTXOs, bReqs, bBackfill, bWalletTxs, bSeen, bFrozen, bLabels}

// deleteWallet removes every record of wallet id (key prefix wk) from one
// store: its record, addresses, coins, history (and the transactions no
// other wallet of the store has), requests, events and cursors.
func deleteWallet(kv KV, id string, wk []byte) error {
	prefix := []byte(id)
	var txids []chainhash.Hash
	if err := kv.Scan(bWalletTxs, wk, nil, func(k, _ []byte) error {
		var h chainhash.Hash
		copy(h[:], k[len(wk):])
		txids = append(txids, h)
		return nil
	}); err != nil {
		return err
	}
	var seqs [][]byte
	if err := kv.Scan(bWEvents, prefix, nil, func(k, v []byte) error {
		ss, err := walletEventSeqs(k, v)
		for _, s := range ss {
			seqs = append(seqs, u64(s))
		}
		return err
	}); err != nil {
		return err
	}
	for _, b := range append(walletBuckets, bWEvents) {
		p := wk
		if b == bWEvents {
			p = prefix
		}
		var ks [][]byte
		if err := kv.Scan(b, p, nil, func(k, _ []byte) error {
			ks = append(ks, append([]byte(nil), k...))
			return nil
		}); err != nil {
			return err
		}
		for _, k := range ks {
			if err := kv.Delete(b, k); err != nil {
				return err
			}
		}
	}
	num := binary.BigEndian.Uint32(wk)
	for _, h := range txids {
		var rec txRecord
		found, err := getRec(kv, bTxs, hashKey(h), &rec)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		rec.removeWallet(num)
		if len(rec.Wallets) > 0 {
			err = putTxRec(kv, hashKey(h), rec)
		} else {
			err = deleteTx(kv, hashKey(h))
		}
		if err != nil {
			return err
		}
	}
	for _, s := range seqs {
		if err := kv.Delete(bEvents, s); err != nil {
			return err
		}
	}
	if err := kv.Delete(bPolls, prefix); err != nil {
		return err
	}
	if err := kv.Delete(bGapLimit, wk); err != nil {
		return err
	}
	return kv.Delete(bWallets, wk)
}

// copyWallet copies every record of wallet id (key prefix wk) from one
// store to another (the transactions it has are copied unless the target
// has them).
func copyWallet(from, to KV, id string, wk []byte) error {
	prefix := []byte(id)
	put := func(b string, k, v []byte) error { return to.Put(b, k, v) }
	for _, b := range append(walletBuckets, bWEvents) {
		p := wk
		if b == bWEvents {
			p = prefix
		}
		if err := from.Scan(b, p, nil, func(k, v []byte) error { return put(b, k, v) }); err != nil {
			return err
		}
	}
	for _, x := range []struct {
		b string
		k []byte
	}{{bWallets, wk}, {bPolls, prefix}, {bGapLimit, wk}} {
		if v := from.Get(x.b, x.k); v != nil {
			if err := put(x.b, x.k, v); err != nil {
				return err
			}
		}
	}
	num := binary.BigEndian.Uint32(wk)
	if err := from.Scan(bWalletTxs, wk, nil, func(k, _ []byte) error {
		hk := k[len(wk):]
		// The target's record of the tx (or the source's, naming only
		// this wallet of the target) gains the wallet.
		var rec txRecord
		inTarget, err := getRec(to, bTxs, hk, &rec)
		if err != nil {
			return err
		}
		if !inTarget {
			if ok, err := getTx(from, hk, &rec); err != nil || !ok {
				return err
			}
			rec.Wallets = nil
			if err := putTxRaw(to, hk, rec.Raw); err != nil {
				return err
			}
		}
		if !rec.addWallet(num) {
			return nil
		}
		return putTxRec(to, hk, rec)
	}); err != nil {
		return err
	}
	return from.Scan(bWEvents, prefix, nil, func(k, v []byte) error {
		seqs, err := walletEventSeqs(k, v)
		if err != nil {
			return err
		}
		for _, s := range seqs {
			if v := from.Get(bEvents, u64(s)); v != nil {
				if err := put(bEvents, u64(s), v); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// promote moves a diskless wallet to the durable store (a durable open of
// a wallet first opened diskless): its requests and history then survive
// restarts. Only public records move; they are what any durable wallet
// stores.
func (e *Engine) promote(ctx context.Context, t *tracked) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	t.reqMu.Lock()
	defer t.reqMu.Unlock()
	e.mu.RLock()
	diskless := t.diskless
	e.mu.RUnlock()
	if !diskless || t.gone.Load() {
		return nil
	}
	err := e.update(ctx, func(s kvs) error {
		if err := copyWallet(s.mem, s.disk, t.rec.ID, t.wk()); err != nil {
			return err
		}
		return deleteWallet(s.mem, t.rec.ID, t.wk())
	})
	if err != nil {
		return fmt.Errorf("moving the wallet to the durable store: %w", err)
	}
	e.mu.Lock()
	t.diskless = false
	e.mu.Unlock()
	e.log.Info("diskless wallet opened durably: its records moved to the store", "wallet", t.rec.ID)
	return nil
}

// worker runs the engine's background chores, retrying with backoff:
// watching outpoints of new coins, rescanning open requests after a
// (re)connection, and gap-limit extensions that failed (or that a crash
// left undone).
type worker struct {
	e      *Engine
	mu     sync.Mutex
	rescan bool
	ops    []wire.OutPoint
	gaps   map[*tracked]gapUse // gap-limit extensions to (re)do
	// gapsAfter delays the extensions after a failure until the backoff
	// has passed (a wake-up for other work does not retry them early).
	gapsAfter time.Time
	backoff   time.Duration
	wake      chan struct{}
}

func newWorker(e *Engine) *worker { return &worker{e: e, wake: make(chan struct{}, 1)} }

func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// requestRescan asks for a rescan of the open requests' addresses.
func (w *worker) requestRescan() {
	w.mu.Lock()
	w.rescan = true
	w.mu.Unlock()
	w.poke()
}

// retryExtensions asks for gap-limit extensions to be done (again).
func (w *worker) retryExtensions(needs map[*tracked]gapUse) {
	w.addGaps(needs)
	w.poke()
}

// addGaps records extensions to do at the next round.
func (w *worker) addGaps(needs map[*tracked]gapUse) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gaps == nil {
		w.gaps = map[*tracked]gapUse{}
	}
	for t, u := range needs {
		g := w.gaps[t]
		w.gaps[t] = gapUse{recv: max(g.recv, u.recv), change: max(g.change, u.change)}
	}
}

// watchOutpoints asks for ops to be added to the backend's filter.
func (w *worker) watchOutpoints(ops []wire.OutPoint) {
	w.mu.Lock()
	w.ops = append(w.ops, ops...)
	w.mu.Unlock()
	w.poke()
}

func (w *worker) run() {
	e := w.e
	backoff := e.cfg.RetryBackoff
	var retry <-chan time.Time
	for {
		select {
		case <-e.stop:
			return
		case <-w.wake:
		case <-retry:
		}
		retry = nil
		w.mu.Lock()
		w.backoff = backoff
		w.mu.Unlock()
		if err := w.round(e.bgCtx); err != nil {
			if e.bgCtx.Err() != nil {
				return
			}
			e.log.Warn("background chore failed; it will be retried", "retry_in", backoff, "err", err)
			retry = time.After(backoff)
			backoff = min(2*backoff, maxRetryBackoff)
			continue
		}
		backoff = e.cfg.RetryBackoff
	}
}

// round runs the pending chores once; what fails stays pending.
func (w *worker) round(ctx context.Context) error {
	var errs []error
	w.mu.Lock()
	ops, rescan := w.ops, w.rescan
	w.ops, w.rescan = nil, false
	var gaps map[*tracked]gapUse
	if !time.Now().Before(w.gapsAfter) {
		gaps, w.gaps = w.gaps, nil
	} else if len(w.gaps) > 0 {
		errs = append(errs, errors.New("gap-limit extensions wait for their retry"))
	}
	backoff := w.backoff
	w.mu.Unlock()
	if len(gaps) > 0 {
		w.e.chainMu.Lock()
		err := w.e.extendGaps(ctx, gaps, nil, nil)
		w.e.chainMu.Unlock()
		if err != nil {
			w.addGaps(gaps)
			w.mu.Lock()
			w.gapsAfter = time.Now().Add(backoff)
			w.mu.Unlock()
			errs = append(errs, fmt.Errorf("extending gap limits: %w", err))
		}
	}
	if err := w.e.watch(ctx, nil, ops); err != nil {
		w.mu.Lock()
		w.ops = append(ops, w.ops...)
		w.mu.Unlock()
		errs = append(errs, fmt.Errorf("watching outpoints: %w", err))
	}
	if rescan {
		if err := w.e.rescanOpenRequests(ctx); err != nil {
			w.mu.Lock()
			w.rescan = true
			w.mu.Unlock()
			errs = append(errs, fmt.Errorf("rescanning open requests: %w", err))
		}
	}
	return errors.Join(errs...)
}

// sleepCtx waits d unless ctx ends first (false).
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
