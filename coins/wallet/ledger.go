package wallet

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
)

// The ledger: how transactions change wallets' records.
//
// Invariants:
//   - A transaction is applied in one store transaction with everything it
//     implies: its outputs paying tracked scripts (utxo records), the coins
//     it spends (marked spent), the wallets' history entries, the requests
//     it pays, the gap-limit extension of the addresses it uses, and the
//     events announcing all of it. Applying it again only updates its
//     height, so history, blocks and mempool may overlap.
//   - Within a batch every output is credited before any input is debited,
//     so the order of transactions in a batch does not matter.
//   - The in-memory indexes (owned outpoints, script index, wallet
//     counters) are changed only after the store transaction committed:
//     the applier collects the changes, applyBatch installs them.

// txAt is a transaction with its place in the chain (height 0: mempool).
type txAt struct {
	tx     *wire.MsgTx
	height int32
	block  *chainhash.Hash
	time   time.Time
	// id caches the txid (see txid): most transactions of a block are
	// nobody's, and hashing them is most of what they cost.
	id     chainhash.Hash
	hashed bool
}

// txid returns the transaction's id, hashing it once.
func (t *txAt) txid() chainhash.Hash {
	if !t.hashed {
		t.id, t.hashed = t.tx.TxHash(), true
	}
	return t.id
}

// batch is one atomic application.
type batch struct {
	txs []txAt
	// block, when set, is the block the txs belong to: the cursor moves to
	// it and new_block is logged.
	block *chain.BlockRef
	// history marks txs from a history lookup: a confirmed one whose block
	// is not (or no longer) the engine's block at its height is applied as
	// unconfirmed (the block will confirm it when the engine reaches it).
	history bool
	// lock lists wallets whose record done changes (their reqMu is held
	// during the transaction).
	lock []*tracked
	// prepare runs inside the store transaction, before the txs (a first
	// load records its wallet there).
	prepare func(a *applier) error
	// done runs inside the store transaction, after the txs.
	done func(a *applier) error
	// after runs once the transaction committed and memory is updated.
	after func()
	// times, when set, receives how long the phases took.
	times *applyTimes
}

// applyTimes is where one applyBatch spent its time (the daemon logs it
// with each block).
type applyTimes struct {
	body, commit, publish, derive, extend time.Duration
}

// applyBatch applies b atomically, then publishes the events it logged and
// extends the gap limit of the wallets whose addresses the txs use (a
// second transaction: deriving addresses costs CPU, and payments must not
// wait for it; a crash in between is repaired at start-up). Caller holds
// chainMu.
func (e *Engine) applyBatch(ctx context.Context, b batch) error {
	txs := slices.Clone(b.txs)
	locked := lockSorted(b.lock)
	defer func() { unlockAll(locked) }()
	var a *applier
	t0 := time.Now()
	var tBody time.Time
	err := e.update(ctx, func(s kvs) error {
		defer func() { tBody = time.Now() }()
		a = newApplier(e, s)
		if b.prepare != nil {
			if err := b.prepare(a); err != nil {
				return err
			}
		}
		if b.history {
			if err := a.placeHistory(txs); err != nil {
				return err
			}
		}
		for i := range txs {
			if err := a.credit(&txs[i]); err != nil {
				return err
			}
		}
		for i := range txs {
			if err := a.debit(&txs[i]); err != nil {
				return err
			}
		}
		if err := a.recordInBlocks(txs); err != nil {
			return err
		}
		tip := e.cursorRef().Height
		if b.block != nil {
			tip = b.block.Height
			if err := a.newBlock(*b.block); err != nil {
				return err
			}
		}
		if b.done != nil {
			if err := b.done(a); err != nil {
				return err
			}
		}
		if err := a.putRecords(); err != nil {
			return err
		}
		evs, err := a.finish(tip)
		if err != nil {
			return err
		}
		a.logged = append(a.logged, evs...)
		return nil
	})
	if err != nil {
		return err
	}
	tCommit := time.Now()
	if b.times != nil {
		b.times.body, b.times.commit = tBody.Sub(t0), tCommit.Sub(tBody)
	}
	// Committed: install the changes in memory.
	e.mu.Lock()
	a.installOwned()
	if b.block != nil {
		e.setCursorLocked(*b.block)
	}
	e.mu.Unlock()
	a.installRecords()
	e.windowsApplied(txs, nil)
	if b.after != nil {
		b.after()
	}
	unlockAll(locked)
	locked = nil
	e.publish(a.logged)
	if b.times != nil {
		b.times.publish = time.Since(tCommit)
	}
	if len(a.newOwned) > 0 {
		e.bg.watchOutpoints(a.newOwned)
	}
	if needs := a.gaps; len(needs) > 0 {
		if err := e.extendGaps(ctx, needs, txs, b.times); err != nil {
			// The payments are recorded; the extension is retried (and
			// redone at start-up if the process dies first).
			e.log.Warn("extending gap limits; retrying", "err", err)
			e.bg.retryExtensions(needs)
		}
	}
	return nil
}

// lockSorted locks the reqMu of ts in wallet id order (the lock order).
func lockSorted(ts []*tracked) []*tracked {
	seen := map[*tracked]bool{}
	var out []*tracked
	for _, t := range ts {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rec.ID < out[j].rec.ID })
	for _, t := range out {
		t.reqMu.Lock()
	}
	return out
}

func unlockAll(ts []*tracked) {
	for _, t := range ts {
		t.reqMu.Unlock()
	}
}

// gapUse is how far a wallet's chains are used: one past the highest
// receiving and change index (0: none).
type gapUse struct{ recv, change uint32 }

// useAddress notes that an output paid address r of wallet t: the gap
// limit of deterministic wallets is extended past it after the commit.
func (a *applier) useAddress(t *tracked, r packedRef) {
	if !t.deterministic() {
		return
	}
	if a.gaps == nil {
		a.gaps = map[*tracked]gapUse{}
	}
	u := a.gaps[t]
	if r.change() {
		u.change = max(u.change, r.index()+1)
	} else {
		u.recv = max(u.recv, r.index()+1)
	}
	a.gaps[t] = u
}

// extendGaps keeps the gap limit (the wallet's own receiving gap limit,
// GapChange for change) beyond the used addresses of wallets: it
// derives the missing addresses (CPU) under their reqMu, stores them with
// backfill rows and the new counters in one transaction, indexes them, and
// starts their backfill (watch and history) in the background, with seed
// (transactions just applied) in their windows. Caller holds chainMu.
func (e *Engine) extendGaps(ctx context.Context, needs map[*tracked]gapUse, seed []txAt, times *applyTimes) error {
	t0 := time.Now()
	ts := make([]*tracked, 0, len(needs))
	for t := range needs {
		if !t.gone.Load() {
			ts = append(ts, t)
		}
	}
	locked := lockSorted(ts)
	defer func() { unlockAll(locked) }()
	gaps := e.gapLimits(ctx, locked)
	// Derivation is CPU (an EC multiplication per address): the wallets
	// are derived on every core (a block paying 2,000 wallets derives
	// 2,000 addresses or more).
	planned := make([]*extension, len(locked))
	errs := make([]error, len(locked))
	eachParallel(len(locked), func(i int) {
		t := locked[i]
		u := needs[t]
		r := t.rec
		var ks []newKey
		var mat *keys.Material
		derive := func(change bool, n uint32) error {
			if mat == nil {
				var err error
				if mat, err = e.publicOf(t); err != nil {
					return err
				}
			}
			more, err := deriveKeys(mat, &r, change, int(n))
			ks = append(ks, more...)
			return err
		}
		if upto := u.recv + gaps[t]; upto > r.NextRecv {
			if d := r.derivedRecv(); upto > d {
				if err := derive(false, upto-d); err != nil {
					errs[i] = err
					return
				}
			}
			r.NextRecv = upto
		}
		if upto := u.change + GapChange; upto > r.NextChange {
			if err := derive(true, upto-r.NextChange); err != nil {
				errs[i] = err
				return
			}
		}
		if !sameCounters(&r, &t.rec) {
			planned[i] = &extension{t: t, rec: &r, ks: ks}
		}
	})
	var exts []extension
	for i, x := range planned {
		if errs[i] != nil {
			return errs[i]
		}
		if x != nil {
			exts = append(exts, *x)
		}
	}
	if len(exts) == 0 {
		return nil
	}
	t1 := time.Now()
	if times != nil {
		times.derive = t1.Sub(t0)
		defer func() { times.extend = time.Since(t1) }()
	}
	err := e.update(ctx, func(s kvs) error {
		for _, x := range exts {
			kv := s.of(x.t.rec.ID)
			if err := e.storeKeys(kv, x.t.rec.Num, x.ks); err != nil {
				return err
			}
			if err := addBackfill(kv, x.t.rec.Num, x.ks); err != nil {
				return err
			}
			if err := putRec(kv, bWallets, x.t.wk(), x.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var backfill []*tracked
	e.mu.Lock()
	for _, x := range exts {
		x.t.rec.NextRecv, x.t.rec.NextChange, x.t.rec.DerivedRecv = x.rec.NextRecv, x.rec.NextChange, x.rec.DerivedRecv
		if len(x.ks) > 0 {
			e.indexLocked(x.t.rec.Num, x.ks)
			backfill = append(backfill, x.t)
		}
	}
	e.mu.Unlock()
	seed = shareWindow(seed) // one copy for all the wallets (see windowsApplied)
	for _, t := range backfill {
		if _, open := e.windows[t]; !open {
			e.windows[t] = struct{}{}
			t.win = seed
		}
	}
	unlockAll(locked)
	locked = nil
	e.kick(backfill...)
	return nil
}

// eachParallel runs fn(0) … fn(n-1) on up to GOMAXPROCS goroutines and
// returns when all have returned.
func eachParallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// extension is a gap-limit extension: the keys to store and the wallet's
// new counters.
type extension struct {
	t   *tracked
	rec *walletRecord
	ks  []newKey
}

// applier accumulates one store transaction's wallet changes.
type applier struct {
	e        *Engine
	s        kvs
	touched  map[string]map[chainhash.Hash]bool // wallet → txids changed
	newOwned []wire.OutPoint
	requests map[string]bool // walletID|requestID to re-evaluate
	// txs are the transaction records this transaction wrote, per store
	// (true: volatile), as written (putTx adds wallets to them).
	txs map[bool]map[chainhash.Hash]*txRecord
	// owned overlays Engine.owned with the outpoints whose owners this
	// transaction changed; installed after commit.
	owned map[wire.OutPoint][]string
	// recs are working copies of wallet records changed by this
	// transaction (their reqMu is held); installed after commit.
	recs map[*tracked]*walletRecord
	// confirmed are history txs placed in a block the engine applied:
	// their txids join that block's record (for rollback).
	confirmed map[chainhash.Hash]txAt
	// gaps is how far the batch's outputs use deterministic wallets'
	// chains (their gap limits are extended after the commit).
	gaps map[*tracked]gapUse
	// wtx are the wallet transactions walletTx changed in this
	// transaction, by key: finish reads them back without a lookup and
	// stores each once, with its event flags (walletTx does not write
	// them). Any other path that reads, writes or deletes wallet
	// transactions stores them first and drops them (flushWtx).
	wtx map[string]*pendingWtx
	// stored are the wallet transactions finish stored, by key, as
	// stored (request re-evaluation reads them); paths that change
	// wallet transactions otherwise drop them (flushWtx).
	stored map[string]walletTx
	// credited are the keys of the coins credit stored in this
	// transaction (amounts need not look them up); dropped with wtx.
	credited map[string]bool
	// fresh is the wallet a first load records in this transaction.
	fresh  *freshWallet
	logged []Event
	// last is what the last wallet id asked of info resolved to: a
	// payment's records are written in a row for one wallet, and each
	// write asks its store and key prefix.
	last    walletInfo
	hasLast bool
	infos   map[string]walletInfo // every wallet info resolved
	// events are the seqs of the wallet events logged in this
	// transaction, by wallet: their get_updates index rows are written
	// once per wallet (putWalletEvents) by flushEvents.
	events map[string][]uint64
}

// walletInfo is what the applier needs of a wallet named by id, read
// under Engine.mu once per transaction.
type walletInfo struct {
	id       string
	num      uint32 // 0: not tracked
	diskless bool
	wireKey  string // its name in events
}

// info returns what the applier needs of wallet w (see walletInfo). A
// wallet not tracked has number 0 (which no wallet has), lives on disk
// and has no wire key, as Engine.isDiskless and wireKey say of it.
func (a *applier) info(w string) walletInfo {
	if a.hasLast && a.last.id == w {
		return a.last
	}
	inf, ok := a.infos[w]
	if !ok {
		inf = walletInfo{id: w}
		a.e.mu.RLock()
		if t := a.e.wallets.get(w); t != nil {
			inf.num, inf.diskless, inf.wireKey = t.rec.Num, t.diskless, t.wireKeyLocked()
		}
		a.e.mu.RUnlock()
		if a.infos == nil {
			a.infos = map[string]walletInfo{}
		}
		a.infos[w] = inf
	}
	a.last, a.hasLast = inf, true
	return inf
}

// logEvent is Engine.logEvent in the applier's transaction; a wallet
// event's get_updates index row is written by flushEvents.
func (a *applier) logEvent(w string, r EventRecord) (Event, error) {
	if w == "" {
		return a.e.logEventIn(a.s.disk, a.s.disk, "", "", r, true)
	}
	ev, err := a.e.logEventIn(a.s.disk, a.kv(w), w, a.info(w).wireKey, r, false)
	if err == nil {
		if a.events == nil {
			a.events = map[string][]uint64{}
		}
		a.events[w] = append(a.events[w], ev.Seq)
	}
	return ev, err
}

// flushEvents writes the get_updates index rows of the wallet events
// logged so far: one per wallet. Every path that logs wallet events ends
// with it (updateRequests, the last step of finish, calls it).
func (a *applier) flushEvents() error {
	ws := make([]string, 0, len(a.events))
	for w := range a.events {
		ws = append(ws, w)
	}
	sort.Strings(ws)
	for _, w := range ws {
		if err := putWalletEvents(a.kv(w), w, a.events[w]); err != nil {
			return err
		}
	}
	a.events = nil
	return nil
}

// pendingWtx is a wallet transaction walletTx changed and finish has not
// stored yet.
type pendingWtx struct {
	w  string // its wallet
	wt walletTx
}

// flushWtx stores the wallet transactions walletTx changed and forgets
// them: a path that reads or changes wallet transactions in the store
// calls it first.
func (a *applier) flushWtx() error {
	for k, p := range a.wtx {
		if err := putRec(a.kv(p.w), bWalletTxs, []byte(k), p.wt); err != nil {
			return err
		}
	}
	a.wtx, a.stored, a.credited = nil, nil, nil
	return nil
}

func newApplier(e *Engine, s kvs) *applier {
	return &applier{e: e, s: s, touched: map[string]map[chainhash.Hash]bool{},
		owned: map[wire.OutPoint][]string{}, recs: map[*tracked]*walletRecord{}}
}

// owners returns the wallets owning unspent outpoint op, as this
// transaction sees them. The slice must not be modified.
func (a *applier) owners(op wire.OutPoint) []string {
	if list, ok := a.owned[op]; ok {
		return list
	}
	a.e.mu.RLock()
	defer a.e.mu.RUnlock()
	return a.e.owned[op]
}

func (a *applier) addOwner(op wire.OutPoint, w string) {
	cur := a.owners(op)
	if !slices.Contains(cur, w) {
		if a.owned == nil {
			a.owned = map[wire.OutPoint][]string{}
		}
		a.owned[op] = append(slices.Clone(cur), w)
	}
}

func (a *applier) removeOwner(op wire.OutPoint, w string) {
	cur := a.owners(op)
	if slices.Contains(cur, w) {
		if a.owned == nil {
			a.owned = map[wire.OutPoint][]string{}
		}
		a.owned[op] = slices.DeleteFunc(slices.Clone(cur), func(x string) bool { return x == w })
	}
}

// installOwned writes the overlay into Engine.owned. Caller holds e.mu.
func (a *applier) installOwned() {
	for op, list := range a.owned {
		if len(list) == 0 {
			delete(a.e.owned, op)
		} else {
			a.e.owned[op] = list
		}
	}
}

// rec returns the working copy of t's record. Caller holds t.reqMu.
func (a *applier) rec(t *tracked) *walletRecord {
	if r := a.recs[t]; r != nil {
		return r
	}
	r := t.rec
	a.recs[t] = &r
	return &r
}

// putRecords stores the changed wallet records.
func (a *applier) putRecords() error {
	for t, r := range a.recs {
		if sameCounters(r, &t.rec) {
			continue
		}
		if err := putRec(a.kv(t.rec.ID), bWallets, a.wk(t.rec.ID), r); err != nil {
			return err
		}
	}
	return nil
}

// sameCounters reports whether two records of one wallet have the same
// mutable fields.
func sameCounters(a, b *walletRecord) bool {
	return a.NextRecv == b.NextRecv && a.NextChange == b.NextChange && a.DerivedRecv == b.DerivedRecv && a.Pending == b.Pending
}

// installRecords copies the changed counters into the tracked wallets
// (whose reqMu the batch holds).
func (a *applier) installRecords() {
	for t, r := range a.recs {
		t.rec.NextRecv, t.rec.NextChange, t.rec.DerivedRecv, t.rec.Pending = r.NextRecv, r.NextChange, r.DerivedRecv, r.Pending
	}
}

// wk is the key prefix of wallet w's records (the fresh one included).
func (a *applier) wk(w string) []byte {
	if a.fresh != nil && a.fresh.t.rec.ID == w {
		return numKey(a.fresh.num)
	}
	return numKey(a.info(w).num)
}

// txWallets lists the tracked wallets (of one store) a transaction
// record names, the fresh one included.
func (a *applier) txWallets(rec *txRecord) []string {
	var wallets []string
	for _, num := range rec.Wallets {
		if t := a.ownerOf(num); t != nil {
			wallets = append(wallets, t.rec.ID)
		}
	}
	return wallets
}

// forgetTx drops what putTx remembers of transaction id (its record was
// changed or deleted by another path), in both stores.
func (a *applier) forgetTx(id chainhash.Hash) {
	for _, m := range a.txs {
		delete(m, id)
	}
}

// ownerOf returns the wallet numbered num (the fresh one included).
func (a *applier) ownerOf(num uint32) *tracked {
	if a.fresh != nil && a.fresh.num == num {
		return a.fresh.t
	}
	return a.e.walletByNum(num)
}

// kv is the transaction of the store that holds wallet w's records.
func (a *applier) kv(w string) KV {
	if a.s.mem != nil && a.info(w).diskless {
		return a.s.mem
	}
	return a.s.disk
}

func (a *applier) touch(wallet string, txid chainhash.Hash) {
	m := a.touched[wallet]
	if m == nil {
		m = map[chainhash.Hash]bool{}
		a.touched[wallet] = m
	}
	m[txid] = true
}

// placeHistory checks the confirmed txs of a history lookup against the
// engine's chain: a tx in a block above the cursor, or in a block that is
// not the engine's at its height (a reorg since the lookup), is applied as
// unconfirmed; the block confirms it when the engine applies it. One in an
// applied block is noted for that block's record. Below the first block
// the engine recorded, heights are taken as they are.
func (a *applier) placeHistory(txs []txAt) error {
	cur := a.e.cursorRef().Height
	for i := range txs {
		t := &txs[i]
		if t.height <= 0 {
			continue
		}
		if t.height > cur {
			t.height, t.block = 0, nil
			continue
		}
		var rec blockRecord
		found, err := getRec(a.s.disk, bBlocks, u32(uint32(t.height)), &rec)
		if err != nil {
			return err
		}
		if !found {
			continue
		}
		if t.block == nil || rec.Hash != t.block.String() {
			t.height, t.block = 0, nil
			continue
		}
		if a.confirmed == nil {
			a.confirmed = map[chainhash.Hash]txAt{}
		}
		a.confirmed[t.tx.TxHash()] = *t
	}
	return nil
}

// recordInBlocks adds the history txs placed in applied blocks to those
// blocks' records, in the store of each wallet they touched, so that a
// rollback of the block unconfirms them.
func (a *applier) recordInBlocks(txs []txAt) error {
	if len(a.confirmed) == 0 {
		return nil
	}
	for _, vol := range []bool{false, true} {
		kv := a.s.disk
		if vol {
			if a.s.mem == nil {
				continue
			}
			kv = a.s.mem
		}
		add := map[int32][]string{}
		for w, ids := range a.touched {
			if (a.s.mem != nil && a.e.isDiskless(w)) != vol {
				continue
			}
			for id := range ids {
				if t, ok := a.confirmed[id]; ok {
					add[t.height] = append(add[t.height], id.String())
				}
			}
		}
		for h, ids := range add {
			var rec blockRecord
			found, err := getRec(kv, bBlocks, u32(uint32(h)), &rec)
			if err != nil {
				return err
			}
			if !found {
				// The volatile store has a record for every applied block
				// too; a missing one means the engine ran without it.
				continue
			}
			for _, id := range ids {
				if !slices.Contains(rec.Txs, id) {
					rec.Txs = append(rec.Txs, id)
				}
			}
			sort.Strings(rec.Txs)
			if err := putRec(kv, bBlocks, u32(uint32(h)), rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// newBlock records the applied block, moves the stored cursor to it and
// logs new_block the first time a height is reached.
func (a *applier) newBlock(b chain.BlockRef) error {
	kv := a.s.disk
	if err := a.putBlock(b); err != nil {
		return err
	}
	if err := putCursor(kv, b); err != nil {
		return err
	}
	var notified uint32
	if raw := kv.Get(bMeta, []byte("notified")); len(raw) == 4 {
		notified = uint32FromBytes(raw)
	}
	if uint32(b.Height) <= notified {
		return nil
	}
	ev, err := a.logEvent("", EventRecord{Kind: EventBlock, Height: b.Height})
	if err != nil {
		return err
	}
	a.logged = append(a.logged, ev)
	return kv.Put(bMeta, []byte("notified"), u32(uint32(b.Height)))
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
		if err := putRec(kv, bBlocks, u32(uint32(b.Height)), rec); err != nil {
			return err
		}
	}
	return nil
}

// putTx stores the raw transaction, its place in the chain and wallet w
// among the wallets it touches, in the store of wallet w: the record is
// written once per store and batch, and again only for a wallet it did
// not name yet.
func (a *applier) putTx(w string, t *txAt) error {
	id := t.txid()
	vol := a.info(w).diskless
	num := binary.BigEndian.Uint32(a.wk(w))
	kv := a.kv(w)
	if rec := a.txs[vol][id]; rec != nil {
		if !rec.addWallet(num) {
			return nil
		}
		return putTxRec(kv, hashKey(id), *rec)
	}
	if a.txs == nil {
		a.txs = map[bool]map[chainhash.Hash]*txRecord{false: {}, true: {}}
	}
	// The record without its raw bytes: a block that confirms a known
	// transaction rewrites only its place in the chain.
	rec := &txRecord{}
	found, err := getRec(kv, bTxs, hashKey(id), rec)
	if err != nil {
		return err
	}
	if !found {
		var buf bytes.Buffer
		buf.Grow(t.tx.SerializeSize())
		if err := t.tx.Serialize(&buf); err != nil {
			return err
		}
		if err := putTxRaw(kv, hashKey(id), buf.Bytes()); err != nil {
			return err
		}
		*rec = txRecord{FirstSeen: a.e.cfg.Now(), Coinbase: isCoinbase(t.tx)}
	}
	if t.height > 0 || !found {
		rec.Height = t.height
		rec.Time = t.time
		rec.BlockHash = ""
		if t.block != nil {
			rec.BlockHash = t.block.String()
		}
	}
	rec.addWallet(num)
	a.txs[vol][id] = rec
	return putTxRec(kv, hashKey(id), *rec)
}

func isCoinbase(tx *wire.MsgTx) bool {
	return len(tx.TxIn) == 1 && tx.TxIn[0].PreviousOutPoint.Index == wire.MaxPrevOutIndex &&
		tx.TxIn[0].PreviousOutPoint.Hash == (chainhash.Hash{})
}

// credit records the tx's outputs that pay tracked scripts.
func (a *applier) credit(t *txAt) error {
	var buf [2]packedRef
	for i, out := range t.tx.TxOut {
		script, token := a.e.locking(out.PkScript)
		cands := a.e.candidates(script, buf[:0])
		if a.fresh != nil {
			cands = a.fresh.index.candidates(script, cands)
		}
		for _, c := range cands {
			owner := a.ownerOf(c.num())
			if owner == nil {
				continue
			}
			kv := a.kv(owner.rec.ID)
			op := wire.OutPoint{Hash: t.txid(), Index: uint32(i)}
			k := key(a.wk(owner.rec.ID), outpointKey(op))
			var u utxoRecord
			found, err := getRec(kv, bUTXOs, k, &u)
			if err != nil {
				return err
			}
			// The wallet's coin of this output, recorded for this address,
			// proves the candidate (it was confirmed when the coin was
			// recorded): a transaction seen in the mempool is mined
			// without reading its address record again.
			if !found || u.Change != c.change() || u.Index != c.index() || !bytes.Equal(u.PkScript, script) {
				if ok, err := confirmRef(kv, c, script); err != nil {
					return err
				} else if !ok {
					continue // another script with the same hash
				}
			}
			ref := scriptRef{Wallet: owner.rec.ID, Change: c.change(), Index: c.index()}
			a.useAddress(owner, c)
			if err := a.putTx(ref.Wallet, t); err != nil {
				return err
			}
			if !found {
				u = utxoRecord{Value: out.Value, PkScript: script, Coinbase: isCoinbase(t.tx),
					Change: ref.Change, Index: ref.Index, Token: token}
				a.newOwned = append(a.newOwned, op)
				a.addOwner(op, ref.Wallet)
			}
			if !found || t.height > 0 {
				u.Height = t.height
			}
			if err := putRec(kv, bUTXOs, k, u); err != nil {
				return err
			}
			if a.credited == nil {
				a.credited = map[string]bool{}
			}
			a.credited[string(k)] = true
			if err := a.walletTx(ref.Wallet, t); err != nil {
				return err
			}
			if err := a.markRequests(ref.Wallet, script); err != nil {
				return err
			}
		}
	}
	return nil
}

// debit records the tx's inputs that spend tracked outpoints. Every input
// and every owner of an outpoint is handled: an owner without a record of
// the coin (it cannot happen unless a store lost it) is skipped, not the
// rest of the transaction.
func (a *applier) debit(t *txAt) error {
	if isCoinbase(t.tx) {
		return nil
	}
	for _, in := range t.tx.TxIn {
		op := in.PreviousOutPoint
		for _, w := range a.owners(op) {
			id := t.txid()
			kv := a.kv(w)
			k := key(a.wk(w), outpointKey(op))
			var u utxoRecord
			found, err := getRec(kv, bUTXOs, k, &u)
			if err != nil {
				return err
			}
			if !found {
				continue
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
				if found, err = getRec(kv, bUTXOs, k, &u); err != nil {
					return err
				}
				if !found {
					continue
				}
			}
			if err := a.putTx(w, t); err != nil {
				return err
			}
			u.SpentBy = id.String()
			u.SpentHeight = t.height
			if err := putRec(kv, bUTXOs, k, u); err != nil {
				return err
			}
			if err := a.walletTx(w, t); err != nil {
				return err
			}
			if t.height > 0 {
				a.removeOwner(op, w)
			}
		}
	}
	return nil
}

// walletTx records the tx in the wallet's history. Its amounts are
// recomputed from the utxo records, so re-application is idempotent.
func (a *applier) walletTx(w string, t *txAt) error {
	id := t.txid()
	kv := a.kv(w)
	k := key(a.wk(w), hashKey(id))
	var wt walletTx
	p, found := a.wtx[string(k)]
	if found {
		wt = p.wt
	} else {
		var err error
		if found, err = getRec(kv, bWalletTxs, k, &wt); err != nil {
			return err
		}
	}
	if !found {
		wt = walletTx{FirstSeen: a.e.cfg.Now()}
	}
	var err error
	if wt.Received, wt.Sent, err = a.amounts(w, t.tx, id); err != nil {
		return err
	}
	if !found || t.height > 0 {
		if wt.Height != t.height {
			wt.Verified = false
		}
		wt.Height = t.height
	}
	a.touch(w, id)
	if a.wtx == nil {
		a.wtx = map[string]*pendingWtx{}
	}
	// Stored by finish (once, with its event flags).
	a.wtx[string(k)] = &pendingWtx{w: w, wt: wt}
	return nil
}

// amounts computes what tx pays to and spends from wallet w.
func (a *applier) amounts(w string, tx *wire.MsgTx, id chainhash.Hash) (received, sent int64, err error) {
	kv := a.kv(w)
	wk := a.wk(w)
	num := binary.BigEndian.Uint32(wk)
	for i := range tx.TxOut {
		// Only an output whose script the wallet's index names can be
		// one of its coins (credit records no other): the others are
		// not looked up.
		if !a.mayPay(num, tx.TxOut[i].PkScript) {
			continue
		}
		k := key(wk, outpointKey(wire.OutPoint{Hash: id, Index: uint32(i)}))
		if a.credited[string(k)] || kv.Get(bUTXOs, k) != nil {
			received += tx.TxOut[i].Value
		}
	}
	if !isCoinbase(tx) {
		for _, in := range tx.TxIn {
			var u utxoRecord
			ok, err := getRec(kv, bUTXOs, key(a.wk(w), outpointKey(in.PreviousOutPoint)), &u)
			if err != nil {
				return 0, 0, err
			}
			if ok && u.SpentBy == id.String() {
				sent += u.Value
			}
		}
	}
	return received, sent, nil
}

// mayPay reports whether an output with pkScript may pay wallet number
// num: whether the script index (or the fresh wallet's) has the script
// under that number. False means the wallet has no coin of that output.
func (a *applier) mayPay(num uint32, pkScript []byte) bool {
	var buf [2]packedRef
	script := a.e.lockingScript(pkScript)
	cands := a.e.candidates(script, buf[:0])
	if a.fresh != nil {
		cands = a.fresh.index.candidates(script, cands)
	}
	for _, c := range cands {
		if c.num() == num {
			return true
		}
	}
	return false
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
	if err := a.flushWtx(); err != nil {
		return err
	}
	var rec txRecord
	found, err := getTx(kv, hashKey(id), &rec)
	if err != nil || !found {
		return err
	}
	tx := wire.NewMsgTx(0)
	if err := tx.Deserialize(bytes.NewReader(rec.Raw)); err != nil {
		return err
	}
	rec.Height, rec.BlockHash = 0, ""
	a.forgetTx(id)
	if !rec.Coinbase {
		if err := putTxRec(kv, hashKey(id), rec); err != nil {
			return err
		}
	} else if err := deleteTx(kv, hashKey(id)); err != nil {
		return err
	}
	for _, w := range a.txWallets(&rec) {
		k := key(a.wk(w), hashKey(id))
		var wt walletTx
		if _, err := getRec(kv, bWalletTxs, k, &wt); err != nil {
			return err
		}
		if rec.Coinbase {
			if err := kv.Delete(bWalletTxs, k); err != nil {
				return err
			}
			if wt.Seen {
				// Its new_transaction stays logged: were the block
				// connected again, it is not announced twice.
				if err := kv.Put(bSeen, k, []byte{}); err != nil {
					return err
				}
			}
		} else {
			wt.Height, wt.Verified = 0, false
			if err := putRec(kv, bWalletTxs, k, wt); err != nil {
				return err
			}
		}
		for i, out := range tx.TxOut {
			op := wire.OutPoint{Hash: id, Index: uint32(i)}
			uk := key(a.wk(w), outpointKey(op))
			var u utxoRecord
			ok, err := getRec(kv, bUTXOs, uk, &u)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if rec.Coinbase {
				if err := kv.Delete(bUTXOs, uk); err != nil {
					return err
				}
				a.removeOwner(op, w)
			} else {
				u.Height = 0
				if err := putRec(kv, bUTXOs, uk, u); err != nil {
					return err
				}
			}
			if err := a.markRequests(w, a.e.lockingScript(out.PkScript)); err != nil {
				return err
			}
		}
		if !rec.Coinbase {
			for _, in := range tx.TxIn {
				uk := key(a.wk(w), outpointKey(in.PreviousOutPoint))
				var u utxoRecord
				ok, err := getRec(kv, bUTXOs, uk, &u)
				if err != nil {
					return err
				}
				if ok && u.SpentBy == id.String() {
					u.SpentHeight = 0
					if err := putRec(kv, bUTXOs, uk, u); err != nil {
						return err
					}
					a.addOwner(in.PreviousOutPoint, w)
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
	var ids []chainhash.Hash
	for _, w := range wallets {
		ids = ids[:0]
		for id := range a.touched[w] {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, func(x, y chainhash.Hash) int { return bytes.Compare(x[:], y[:]) })
		for _, id := range ids {
			kv := a.kv(w)
			k := key(a.wk(w), hashKey(id))
			var wt walletTx
			p, found := a.wtx[string(k)]
			changed := found // walletTx changed it and left it to be stored here
			if found {
				wt = p.wt
				delete(a.wtx, string(k))
			} else {
				var err error
				if found, err = getRec(kv, bWalletTxs, k, &wt); err != nil {
					return nil, err
				}
			}
			if !found {
				continue
			}
			if !wt.Seen {
				wt.Seen, changed = true, true
				if kv.Get(bSeen, k) != nil {
					// Logged before its record was deleted (unconfirmIn).
					if err := kv.Delete(bSeen, k); err != nil {
						return nil, err
					}
				} else {
					ev, err := a.logEvent(w, EventRecord{Kind: EventTransaction, TxID: id.String()})
					if err != nil {
						return nil, err
					}
					out = append(out, ev)
				}
			}
			if wt.Height > 0 && !wt.Verified {
				ev, err := a.logEvent(w, EventRecord{Kind: EventVerified, TxID: id.String(), Height: wt.Height})
				if err != nil {
					return nil, err
				}
				out = append(out, ev)
				wt.Verified, changed = true, true
			}
			if changed {
				if err := putRec(kv, bWalletTxs, k, wt); err != nil {
					return nil, err
				}
				if a.stored == nil {
					a.stored = map[string]walletTx{}
				}
				a.stored[string(k)] = wt
			}
		}
	}
	// Every wallet transaction walletTx changed was touched, so none is
	// left; stored anyway if one were.
	if len(a.wtx) > 0 {
		if err := a.flushWtx(); err != nil {
			return nil, err
		}
	}
	evs, err := a.updateRequests(tip)
	if err != nil {
		return nil, err
	}
	return append(out, evs...), nil
}

// publish sends logged events to the hub, in order: the whole commit at
// once to PublishBatch when set.
func (e *Engine) publish(evs []Event) {
	if e.cfg.PublishBatch != nil {
		if len(evs) > 0 {
			e.cfg.PublishBatch(evs)
		}
		return
	}
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
	return e.applyBatch(ctx, batch{txs: []txAt{{tx: tx}}})
}

// removeTx removes an unconfirmed transaction and every wallet transaction
// that spends its outputs from one store: their outputs disappear, the
// coins they spent are unspent again, and requests they paid are
// re-evaluated. It reports whether the store knew root. With strict,
// meeting a mined transaction is ErrNotLocal; without, mined ones are left
// alone (a replacement never removes a mined tx).
func (a *applier) removeTx(kv KV, root chainhash.Hash, strict bool) (bool, error) {
	if err := a.flushWtx(); err != nil {
		return false, err
	}
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
		found, err := getTx(kv, hashKey(id), &rec)
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
		a.forgetTx(id)
		for _, w := range a.txWallets(&rec) {
			for i, out := range tx.TxOut {
				op := wire.OutPoint{Hash: id, Index: uint32(i)}
				uk := key(a.wk(w), outpointKey(op))
				var u utxoRecord
				ok, err := getRec(kv, bUTXOs, uk, &u)
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
				a.removeOwner(op, w)
				if err := a.markRequests(w, a.e.lockingScript(out.PkScript)); err != nil {
					return known, err
				}
			}
			for _, in := range tx.TxIn {
				uk := key(a.wk(w), outpointKey(in.PreviousOutPoint))
				var u utxoRecord
				ok, err := getRec(kv, bUTXOs, uk, &u)
				if err != nil {
					return known, err
				}
				if ok && u.SpentBy == id.String() {
					u.SpentBy, u.SpentHeight = "", 0
					if err := putRec(kv, bUTXOs, uk, u); err != nil {
						return known, err
					}
					a.addOwner(in.PreviousOutPoint, w)
					if err := a.markRequests(w, u.PkScript); err != nil {
						return known, err
					}
				}
			}
			wk := key(a.wk(w), hashKey(id))
			for _, del := range []struct {
				bucket string
				k      []byte
			}{{bWalletTxs, wk}, {bSeen, wk}} {
				if err := kv.Delete(del.bucket, del.k); err != nil {
					return known, err
				}
			}
			if m := a.touched[w]; m != nil {
				delete(m, id)
			}
		}
		if err := deleteTx(kv, hashKey(id)); err != nil {
			return known, err
		}
	}
	return known, nil
}
