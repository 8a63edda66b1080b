package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// catchUpBatch is how many blocks one FilterBlocks call covers.
const catchUpBatch = 200

// follow consumes backend events until Close.
func (e *Engine) follow(events <-chan chain.Event) {
	defer e.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-e.stop
		cancel()
	}()
	for {
		select {
		case <-e.stop:
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if err := e.handle(ctx, ev); err != nil && ctx.Err() == nil {
				e.log.Error("applying chain event", "kind", ev.Kind, "err", err)
				// Recover by a full catch-up on the next event; a failed
				// block never advanced the cursor.
			}
		}
	}
}

func (e *Engine) handle(ctx context.Context, ev chain.Event) error {
	switch ev.Kind {
	case chain.EventConnected:
		e.log.Info("backend connected", "tip", ev.Tip.Height)
		if err := e.catchUp(ctx); err != nil {
			return err
		}
		// Mempool payments made while we were away are not in any block
		// yet: look up the addresses of open requests.
		return e.rescanOpenRequests(ctx)
	case chain.EventDisconnected:
		e.log.Warn("backend disconnected")
	case chain.EventBlockConnected:
		return e.onBlock(ctx, ev.Block)
	case chain.EventBlockDisconnected:
		e.chainMu.Lock()
		defer e.chainMu.Unlock()
		if ev.Block.Hash == e.cursorRef().Hash {
			return e.rollback(ctx)
		}
	case chain.EventTxAccepted:
		e.chainMu.Lock()
		defer e.chainMu.Unlock()
		return e.applyBatch(ctx, []txAt{{tx: ev.Tx}}, nil)
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
	e.chainMu.Lock()
	cur := e.cursorRef()
	if b.Prev == cur.Hash {
		err := e.applyBlock(ctx, b)
		e.chainMu.Unlock()
		return err
	}
	e.chainMu.Unlock()
	if b.Hash == cur.Hash {
		return nil
	}
	return e.catchUp(ctx)
}

// catchUp brings the cursor to the backend's tip: it rolls back blocks that
// left the best chain, then applies the missing ones in batches.
func (e *Engine) catchUp(ctx context.Context) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
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
		var hashes []chainhash.Hash
		for h := cur.Height + 1; h <= tip.Height && len(hashes) < catchUpBatch; h++ {
			ref, err := e.cfg.Backend.BlockAt(ctx, h)
			if err != nil {
				return err
			}
			hashes = append(hashes, ref.Hash)
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

// setCursor stores a cursor without applying anything.
func (e *Engine) setCursor(ctx context.Context, ref chain.BlockRef) error {
	err := e.cfg.Store.Update(ctx, func(kv KV) error {
		return putJSON(kv, bMeta, []byte("cursor"), ref)
	})
	if err == nil {
		e.mu.Lock()
		e.cursor = ref
		e.mu.Unlock()
	}
	return err
}

// txAt is a transaction with its place in the chain (height 0: mempool).
type txAt struct {
	tx     *wire.MsgTx
	height int32
	block  *chainhash.Hash
	time   time.Time
}

// applyBlock applies a block's relevant transactions, the new_block event
// and the cursor in one store transaction. Caller holds chainMu.
func (e *Engine) applyBlock(ctx context.Context, b *chain.Block) error {
	txs := make([]txAt, len(b.Txs))
	for i, tx := range b.Txs {
		h := b.Hash
		txs[i] = txAt{tx: tx, height: b.Height, block: &h, time: b.Time}
	}
	return e.applyBatch(ctx, txs, &b.BlockRef)
}

// applyBatch applies transactions (and, when block is set, advances the
// cursor to it) atomically, then publishes the events it logged. Outputs
// are credited before inputs are debited, so any order of txs is correct.
// It is idempotent: applying a tx again only updates its height.
func (e *Engine) applyBatch(ctx context.Context, txs []txAt, block *chain.BlockRef) error {
	var logged []Event
	var newOwned, gone []wire.OutPoint
	var extend []extendReq
	err := e.update(ctx, func(s kvs) error {
		kv := s.disk
		logged, newOwned, extend, gone = nil, nil, nil, nil
		ap := &applier{e: e, s: s, touched: map[string]map[chainhash.Hash]bool{}}
		for _, t := range txs {
			if err := ap.credit(t); err != nil {
				return err
			}
		}
		for _, t := range txs {
			if err := ap.debit(t); err != nil {
				return err
			}
		}
		tip := e.cursorRef().Height
		if block != nil {
			tip = block.Height
			if err := ap.putBlock(*block); err != nil {
				return err
			}
			if err := putJSON(kv, bMeta, []byte("cursor"), block); err != nil {
				return err
			}
			var notified uint32
			if raw := kv.Get(bMeta, []byte("notified")); raw != nil {
				notified = uint32FromBytes(raw)
			}
			if uint32(block.Height) > notified {
				ev, err := e.logEvent(s, "", map[string]any{"event": "new_block", "height": block.Height})
				if err != nil {
					return err
				}
				logged = append(logged, ev)
				if err := kv.Put(bMeta, []byte("notified"), u32(uint32(block.Height))); err != nil {
					return err
				}
			}
		}
		evs, err := ap.finish(tip)
		if err != nil {
			return err
		}
		logged = append(logged, evs...)
		newOwned, extend, gone = ap.newOwned, ap.extend, ap.gone
		return nil
	})
	if err != nil {
		return err
	}
	if len(gone) > 0 {
		e.mu.Lock()
		for _, op := range gone {
			delete(e.owned, op)
		}
		e.mu.Unlock()
	}
	if block != nil {
		e.mu.Lock()
		e.cursor = *block
		e.mu.Unlock()
	}
	e.publish(logged)
	if len(newOwned) > 0 || len(extend) > 0 {
		return e.afterApply(ctx, newOwned, extend)
	}
	return nil
}

func uint32FromBytes(b []byte) uint32 {
	if len(b) != 4 {
		return 0
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// extendReq asks for more addresses on a wallet chain whose gap shrank.
type extendReq struct {
	wallet string
	change bool
	used   uint32
}

// afterApply watches new outpoints and extends gap limits; newly derived
// addresses get their history backfilled. Caller holds chainMu.
func (e *Engine) afterApply(ctx context.Context, ops []wire.OutPoint, ext []extendReq) error {
	scripts, err := e.extendGaps(ctx, ext)
	if err != nil {
		return err
	}
	if err := e.watch(ctx, scripts, ops); err != nil {
		return err
	}
	if len(scripts) > 0 {
		return e.backfill(ctx, scripts)
	}
	return nil
}

// extendGaps keeps the gap limit beyond the used addresses of a batch, in
// one transaction per store however many wallets the batch paid. Caller
// holds chainMu; the wallets' reqMu are taken (in id order) before the
// store: the lock order is chainMu, reqMu, store.
func (e *Engine) extendGaps(ctx context.Context, ext []extendReq) ([][]byte, error) {
	type need struct {
		t    *tracked
		x    extendReq
		upto uint32
	}
	var needs []need
	for _, x := range ext {
		e.mu.RLock()
		t := e.wallets[x.wallet]
		e.mu.RUnlock()
		if t == nil || !t.deterministic() {
			continue
		}
		needs = append(needs, need{t: t, x: x, upto: x.used + e.gapLimit(ctx, t, x.change)})
	}
	if len(needs) == 0 {
		return nil, nil
	}
	sort.Slice(needs, func(i, j int) bool { return needs[i].t.rec.ID < needs[j].t.rec.ID })
	locked := map[*tracked]bool{}
	for _, n := range needs {
		if !locked[n.t] {
			n.t.reqMu.Lock()
			locked[n.t] = true
			defer n.t.reqMu.Unlock()
		}
	}
	var scripts [][]byte
	err := e.update(ctx, func(s kvs) error {
		scripts = nil
		for _, n := range needs {
			next := n.t.rec.NextRecv
			if n.x.change {
				next = n.t.rec.NextChange
			}
			if n.upto <= next {
				continue
			}
			sc, err := e.reveal(s.of(n.t.rec.ID), n.t, n.x.change, n.upto)
			if err != nil {
				return err
			}
			scripts = append(scripts, sc...)
		}
		return nil
	})
	return scripts, err
}

// backfill fetches the history of scripts from the backend and applies it.
// Caller holds chainMu.
func (e *Engine) backfill(ctx context.Context, scripts [][]byte) error {
	txs, err := e.fetchHistory(ctx, scripts)
	if err != nil || len(txs) == 0 {
		return err
	}
	return e.applyBatch(ctx, txs, nil)
}

// fetchHistory asks the backend for the history of scripts and returns the
// distinct transactions, confirmed ones by height, then mempool ones. A
// backend that cannot look history up (ErrUnsupported) gives none.
func (e *Engine) fetchHistory(ctx context.Context, scripts [][]byte) ([]txAt, error) {
	hist, err := e.cfg.Backend.History(ctx, scripts)
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

// rollback undoes the block at the cursor: its wallet transactions go back
// to the mempool (coinbase ones disappear), requests paid by them go back to
// unconfirmed, and the cursor moves to the parent. Caller holds chainMu.
func (e *Engine) rollback(ctx context.Context) error {
	cur := e.cursorRef()
	var logged []Event
	var prev chain.BlockRef
	err := e.update(ctx, func(s kvs) error {
		kv := s.disk
		logged = nil
		var rec blockRecord
		found, err := getJSON(kv, bBlocks, u32(uint32(cur.Height)), &rec)
		if err != nil {
			return err
		}
		if !found || rec.Hash != cur.Hash.String() {
			// Only the block a new store started at has no record, and no
			// wallet transaction was applied in it: step back to the best
			// chain's block below it.
			parent, err := e.cfg.Backend.BlockAt(ctx, cur.Height-1)
			if err != nil {
				return fmt.Errorf("rollback below unrecorded block %d: %w", cur.Height, err)
			}
			prev = parent
			return putJSON(kv, bMeta, []byte("cursor"), prev)
		}
		prevHash, err := chainhash.NewHashFromStr(rec.Prev)
		if err != nil {
			return err
		}
		prev = chain.BlockRef{Height: cur.Height - 1, Hash: *prevHash}
		var prevRec blockRecord
		if ok, _ := getJSON(kv, bBlocks, u32(uint32(cur.Height-1)), &prevRec); ok && prevRec.Hash == rec.Prev {
			prev.Time = time.Unix(prevRec.Time, 0)
			if ph, err := chainhash.NewHashFromStr(prevRec.Prev); err == nil {
				prev.Prev = *ph
			}
		}
		ap := &applier{e: e, s: s, touched: map[string]map[chainhash.Hash]bool{}}
		txids := rec.Txs
		if s.mem != nil {
			var memRec blockRecord
			if ok, err := getJSON(s.mem, bBlocks, u32(uint32(cur.Height)), &memRec); err != nil {
				return err
			} else if ok && memRec.Hash == rec.Hash {
				txids = append(txids, memRec.Txs...)
			}
		}
		for _, txid := range txids {
			id, err := chainhash.NewHashFromStr(txid)
			if err != nil {
				return err
			}
			if err := ap.unconfirm(*id); err != nil {
				return err
			}
		}
		for _, t := range s.all() {
			if err := t.Delete(bBlocks, u32(uint32(cur.Height))); err != nil {
				return err
			}
		}
		if err := putJSON(kv, bMeta, []byte("cursor"), prev); err != nil {
			return err
		}
		logged, err = ap.finish(prev.Height)
		return err
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.cursor = prev
	e.mu.Unlock()
	e.log.Info("rolled back block", "height", cur.Height, "hash", cur.Hash)
	e.publish(logged)
	return nil
}

// applier accumulates one store transaction's wallet changes.
type applier struct {
	e        *Engine
	s        kvs
	touched  map[string]map[chainhash.Hash]bool // wallet → txids changed
	newOwned []wire.OutPoint
	extend   []extendReq
	requests map[string]bool                  // walletID|requestID to re-evaluate
	stored   map[bool]map[chainhash.Hash]bool // raw tx written, per store (true: volatile)
	gone     []wire.OutPoint                  // outputs of removed txs, to drop from the owned index
}

// putBlock records the applied block: in the durable store with the txids
// of its durable wallets (for rollback), and in the volatile store with
// those of diskless wallets, so the disk never names a diskless wallet's tx.
func (a *applier) putBlock(b chain.BlockRef) error {
	txs := map[bool][]string{}
	seen := map[bool]map[chainhash.Hash]bool{false: {}, true: {}}
	for w, ids := range a.touched {
		vol := a.s.mem != nil && a.e.isDiskless(w)
		for id := range ids {
			if !seen[vol][id] {
				seen[vol][id] = true
				txs[vol] = append(txs[vol], id.String())
			}
		}
	}
	for _, vol := range []bool{false, true} {
		kv := a.s.disk
		if vol {
			if a.s.mem == nil {
				continue
			}
			kv = a.s.mem
		}
		sort.Strings(txs[vol])
		rec := blockRecord{Hash: b.Hash.String(), Prev: b.Prev.String(), Time: b.Time.Unix(), Txs: txs[vol]}
		if err := putJSON(kv, bBlocks, u32(uint32(b.Height)), rec); err != nil {
			return err
		}
	}
	return nil
}

// kv is the transaction of the store that holds wallet w's records.
func (a *applier) kv(w string) KV { return a.s.of(w) }

func (a *applier) touch(wallet string, txid chainhash.Hash) {
	m := a.touched[wallet]
	if m == nil {
		m = map[chainhash.Hash]bool{}
		a.touched[wallet] = m
	}
	m[txid] = true
}

// putTx stores the raw transaction and its place in the chain in the
// store of wallet w (once per store and batch).
func (a *applier) putTx(w string, t txAt) error {
	id := t.tx.TxHash()
	vol := a.e.isDiskless(w)
	if a.stored == nil {
		a.stored = map[bool]map[chainhash.Hash]bool{false: {}, true: {}}
	}
	if a.stored[vol][id] {
		return nil
	}
	a.stored[vol][id] = true
	kv := a.kv(w)
	var rec txRecord
	found, err := getJSON(kv, bTxs, hashKey(id), &rec)
	if err != nil {
		return err
	}
	if !found {
		var buf bytes.Buffer
		if err := t.tx.Serialize(&buf); err != nil {
			return err
		}
		rec = txRecord{Raw: buf.Bytes(), FirstSeen: a.e.cfg.Now(), Coinbase: isCoinbase(t.tx)}
	}
	if t.height > 0 || !found {
		rec.Height = t.height
		rec.Time = t.time
		rec.BlockHash = ""
		if t.block != nil {
			rec.BlockHash = t.block.String()
		}
	}
	return putJSON(kv, bTxs, hashKey(id), rec)
}

func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{})
}

// credit records the tx's outputs that pay tracked scripts.
func (a *applier) credit(t txAt) error {
	id := t.tx.TxHash()
	for i, out := range t.tx.TxOut {
		a.e.mu.RLock()
		refs := a.e.index[string(out.PkScript)]
		a.e.mu.RUnlock()
		for _, ref := range refs {
			if err := a.putTx(ref.Wallet, t); err != nil {
				return err
			}
			kv := a.kv(ref.Wallet)
			op := wire.OutPoint{Hash: id, Index: uint32(i)}
			k := key([]byte(ref.Wallet), outpointKey(op))
			var u utxoRecord
			found, err := getJSON(kv, bUTXOs, k, &u)
			if err != nil {
				return err
			}
			if !found {
				u = utxoRecord{Value: out.Value, PkScript: out.PkScript, Coinbase: isCoinbase(t.tx),
					Change: ref.Change, Index: ref.Index}
				a.newOwned = append(a.newOwned, op)
				a.e.mu.Lock()
				a.e.owned[op] = appendUnique(a.e.owned[op], ref.Wallet)
				a.e.mu.Unlock()
				a.extend = append(a.extend, extendReq{wallet: ref.Wallet, change: ref.Change, used: ref.Index + 1})
			}
			if !found || t.height > 0 {
				u.Height = t.height
			}
			if err := putJSON(kv, bUTXOs, k, u); err != nil {
				return err
			}
			if err := a.walletTx(ref.Wallet, t, out.Value, 0, op); err != nil {
				return err
			}
			if err := a.markRequests(ref.Wallet, out.PkScript); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// debit records the tx's inputs that spend tracked outpoints.
func (a *applier) debit(t txAt) error {
	if isCoinbase(t.tx) {
		return nil
	}
	id := t.tx.TxHash()
	for _, in := range t.tx.TxIn {
		op := in.PreviousOutPoint
		a.e.mu.RLock()
		owners := append([]string(nil), a.e.owned[op]...)
		a.e.mu.RUnlock()
		for _, w := range owners {
			kv := a.kv(w)
			k := key([]byte(w), outpointKey(op))
			var u utxoRecord
			found, err := getJSON(kv, bUTXOs, k, &u)
			if err != nil || !found {
				return err
			}
			if u.SpentBy != "" && u.SpentBy != id.String() {
				if u.SpentHeight > 0 && t.height == 0 {
					continue // a mempool tx cannot spend a coin a mined one spent
				}
				// t replaces the coin's other spender (an RBF bump or a
				// double spend that won): drop the loser and its
				// descendants, then record the winner.
				loser, err := chainhash.NewHashFromStr(u.SpentBy)
				if err != nil {
					return err
				}
				if _, err := a.removeTx(kv, *loser, false); err != nil {
					return err
				}
				if found, err = getJSON(kv, bUTXOs, k, &u); err != nil || !found {
					return err
				}
			}
			if err := a.putTx(w, t); err != nil {
				return err
			}
			u.SpentBy = id.String()
			u.SpentHeight = t.height
			if err := putJSON(kv, bUTXOs, k, u); err != nil {
				return err
			}
			if err := a.walletTx(w, t, 0, u.Value, op); err != nil {
				return err
			}
			if t.height > 0 {
				a.e.mu.Lock()
				a.e.owned[op] = removeString(a.e.owned[op], w)
				if len(a.e.owned[op]) == 0 {
					delete(a.e.owned, op)
				}
				a.e.mu.Unlock()
			}
		}
	}
	return nil
}

func removeString(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// walletTx records the tx in the wallet's history. Amounts are accumulated
// per outpoint only once (the utxo record guards re-application).
func (a *applier) walletTx(w string, t txAt, received, sent int64, op wire.OutPoint) error {
	id := t.tx.TxHash()
	kv := a.kv(w)
	k := key([]byte(w), hashKey(id))
	var wt walletTx
	found, err := getJSON(kv, bWalletTxs, k, &wt)
	if err != nil {
		return err
	}
	if !found {
		wt = walletTx{FirstSeen: a.e.cfg.Now()}
	}
	// Recompute amounts from scratch for this tx so re-application is
	// idempotent.
	wt.Received, wt.Sent = a.amounts(w, t.tx)
	if !found || t.height > 0 {
		if wt.Height != t.height {
			wt.Verified = false
		}
		wt.Height = t.height
	}
	a.touch(w, id)
	if err := kv.Put(bTxWallets, key(hashKey(id), []byte(w)), []byte{}); err != nil {
		return err
	}
	return putJSON(kv, bWalletTxs, k, wt)
}

// amounts computes what tx pays to and spends from wallet w.
func (a *applier) amounts(w string, tx *wire.MsgTx) (received, sent int64) {
	id := tx.TxHash()
	kv := a.kv(w)
	for i := range tx.TxOut {
		if kv.Get(bUTXOs, key([]byte(w), outpointKey(wire.OutPoint{Hash: id, Index: uint32(i)}))) != nil {
			received += tx.TxOut[i].Value
		}
	}
	if !isCoinbase(tx) {
		for _, in := range tx.TxIn {
			var u utxoRecord
			if ok, _ := getJSON(kv, bUTXOs, key([]byte(w), outpointKey(in.PreviousOutPoint)), &u); ok && u.SpentBy == id.String() {
				sent += u.Value
			}
		}
	}
	return received, sent
}

// unconfirm moves a tx of a disconnected block back to the mempool (or
// deletes it when it is a coinbase, which cannot return), in every store
// that holds it.
func (a *applier) unconfirm(id chainhash.Hash) error {
	for _, kv := range a.s.all() {
		if err := a.unconfirmIn(kv, id); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) unconfirmIn(kv KV, id chainhash.Hash) error {
	var rec txRecord
	found, err := getJSON(kv, bTxs, hashKey(id), &rec)
	if err != nil || !found {
		return err
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(rec.Raw)); err != nil {
		return err
	}
	rec.Height, rec.BlockHash = 0, ""
	if !rec.Coinbase {
		if err := putJSON(kv, bTxs, hashKey(id), rec); err != nil {
			return err
		}
	} else if err := kv.Delete(bTxs, hashKey(id)); err != nil {
		return err
	}
	var wallets []string
	if err := kv.Scan(bTxWallets, hashKey(id), nil, func(k, _ []byte) error {
		wallets = append(wallets, string(k[len(id):]))
		return nil
	}); err != nil {
		return err
	}
	for _, w := range wallets {
		k := key([]byte(w), hashKey(id))
		if rec.Coinbase {
			if err := kv.Delete(bWalletTxs, k); err != nil {
				return err
			}
		} else {
			var wt walletTx
			if _, err := getJSON(kv, bWalletTxs, k, &wt); err != nil {
				return err
			}
			wt.Height, wt.Verified = 0, false
			if err := putJSON(kv, bWalletTxs, k, wt); err != nil {
				return err
			}
		}
		for i, out := range tx.TxOut {
			op := wire.OutPoint{Hash: id, Index: uint32(i)}
			uk := key([]byte(w), outpointKey(op))
			var u utxoRecord
			ok, err := getJSON(kv, bUTXOs, uk, &u)
			if err != nil || !ok {
				continue
			}
			if rec.Coinbase {
				_ = kv.Delete(bUTXOs, uk)
				a.e.mu.Lock()
				delete(a.e.owned, op)
				a.e.mu.Unlock()
			} else {
				u.Height = 0
				_ = putJSON(kv, bUTXOs, uk, u)
			}
			if err := a.markRequests(w, out.PkScript); err != nil {
				return err
			}
		}
		if !rec.Coinbase {
			for _, in := range tx.TxIn {
				uk := key([]byte(w), outpointKey(in.PreviousOutPoint))
				var u utxoRecord
				if ok, _ := getJSON(kv, bUTXOs, uk, &u); ok && u.SpentBy == id.String() {
					u.SpentHeight = 0
					_ = putJSON(kv, bUTXOs, uk, u)
					a.e.mu.Lock()
					a.e.owned[in.PreviousOutPoint] = appendUnique(a.e.owned[in.PreviousOutPoint], w)
					a.e.mu.Unlock()
				}
			}
		}
		a.touch(w, id)
	}
	return nil
}

// finish logs the events of the transaction's changes: new_transaction for
// txs a wallet sees for the first time, verified_tx for newly mined ones,
// new_payment for requests whose status or payment changed.
func (a *applier) finish(tip int32) ([]Event, error) {
	var out []Event
	wallets := make([]string, 0, len(a.touched))
	for w := range a.touched {
		wallets = append(wallets, w)
	}
	sort.Strings(wallets)
	for _, w := range wallets {
		ids := make([]chainhash.Hash, 0, len(a.touched[w]))
		for id := range a.touched[w] {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
		for _, id := range ids {
			kv := a.kv(w)
			k := key([]byte(w), hashKey(id))
			var wt walletTx
			found, err := getJSON(kv, bWalletTxs, k, &wt)
			if err != nil {
				return nil, err
			}
			if !found {
				continue
			}
			notifiedKey := key([]byte("seen:"), k)
			if kv.Get(bMeta, notifiedKey) == nil {
				ev, err := a.e.logEvent(a.s, w, map[string]any{"event": "new_transaction", "tx": id.String()})
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
				if err := kv.Put(bMeta, notifiedKey, []byte{1}); err != nil {
					return nil, err
				}
			}
			if wt.Height > 0 && !wt.Verified {
				ev, err := a.e.logEvent(a.s, w, map[string]any{"event": "verified_tx", "tx": id.String(), "height": wt.Height})
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
				wt.Verified = true
				if err := putJSON(kv, bWalletTxs, k, wt); err != nil {
					return nil, err
				}
			}
		}
	}
	evs, err := a.updateRequests(tip)
	if err != nil {
		return nil, err
	}
	return append(out, evs...), nil
}

// publish sends logged events to the hub, in order.
func (e *Engine) publish(evs []Event) {
	for _, ev := range evs {
		e.cfg.Publish(ev)
	}
}

// AddTransaction applies tx as a mempool transaction (Electrum's
// addtransaction): the wallet's outputs and spends show at once, before the
// node notifies it. Applying it again, or when it is mined, is harmless.
func (e *Engine) AddTransaction(ctx context.Context, tx *wire.MsgTx) error {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	return e.applyBatch(ctx, []txAt{{tx: tx}}, nil)
}

// rescanOpenRequests fetches the history of every address with a request
// that is not yet paid (including expired ones, whose late payments still
// count) and applies what the node knows, so mempool payments made while
// the daemon or its connection was down are found at once.
func (e *Engine) rescanOpenRequests(ctx context.Context) error {
	var scripts [][]byte
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			if err := kv.Scan(bRequests, nil, nil, func(_, v []byte) error {
				var r Request
				if err := json.Unmarshal(v, &r); err != nil {
					return err
				}
				if r.Status != StatusPaid {
					scripts = append(scripts, r.PkScript)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(scripts) == 0 {
		return err
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	return e.backfill(ctx, scripts)
}

// removeTx removes an unconfirmed transaction and every wallet transaction
// that spends its outputs from one store: their outputs disappear (listed
// in a.gone for the owned index), the coins they spent are unspent again,
// and requests they paid are re-evaluated. It reports whether the store knew
// root. With strict, meeting a mined transaction is ErrNotLocal; without,
// mined ones are left alone (a replacement never removes a mined tx).
func (a *applier) removeTx(kv KV, root chainhash.Hash, strict bool) (bool, error) {
	known := false
	queue := []chainhash.Hash{root}
	done := map[chainhash.Hash]bool{}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if done[id] {
			continue
		}
		done[id] = true
		var rec txRecord
		found, err := getJSON(kv, bTxs, hashKey(id), &rec)
		if err != nil {
			return known, err
		}
		if !found {
			continue
		}
		known = true
		if rec.Height > 0 {
			if strict {
				return known, fmt.Errorf("%w: transaction %s is mined", ErrNotLocal, id)
			}
			continue
		}
		tx := wire.NewMsgTx(0)
		if err := tx.Deserialize(bytes.NewReader(rec.Raw)); err != nil {
			return known, err
		}
		var wallets []string
		if err := kv.Scan(bTxWallets, hashKey(id), nil, func(k, _ []byte) error {
			wallets = append(wallets, string(k[len(id):]))
			return nil
		}); err != nil {
			return known, err
		}
		for _, w := range wallets {
			for i, out := range tx.TxOut {
				op := wire.OutPoint{Hash: id, Index: uint32(i)}
				uk := key([]byte(w), outpointKey(op))
				var u utxoRecord
				ok, err := getJSON(kv, bUTXOs, uk, &u)
				if err != nil {
					return known, err
				}
				if !ok {
					continue
				}
				if u.SpentBy != "" {
					child, err := chainhash.NewHashFromStr(u.SpentBy)
					if err != nil {
						return known, err
					}
					queue = append(queue, *child)
				}
				if err := kv.Delete(bUTXOs, uk); err != nil {
					return known, err
				}
				a.gone = append(a.gone, op)
				if err := a.markRequests(w, out.PkScript); err != nil {
					return known, err
				}
			}
			for _, in := range tx.TxIn {
				uk := key([]byte(w), outpointKey(in.PreviousOutPoint))
				var u utxoRecord
				ok, err := getJSON(kv, bUTXOs, uk, &u)
				if err != nil {
					return known, err
				}
				if ok && u.SpentBy == id.String() {
					u.SpentBy, u.SpentHeight = "", 0
					if err := putJSON(kv, bUTXOs, uk, u); err != nil {
						return known, err
					}
					if err := a.markRequests(w, u.PkScript); err != nil {
						return known, err
					}
				}
			}
			wk := key([]byte(w), hashKey(id))
			for _, del := range []struct {
				bucket string
				k      []byte
			}{{bWalletTxs, wk}, {bTxWallets, key(hashKey(id), []byte(w))}, {bMeta, key([]byte("seen:"), wk)}} {
				if err := kv.Delete(del.bucket, del.k); err != nil {
					return known, err
				}
			}
			if m := a.touched[w]; m != nil {
				delete(m, id)
			}
		}
		if err := kv.Delete(bTxs, hashKey(id)); err != nil {
			return known, err
		}
	}
	return known, nil
}
