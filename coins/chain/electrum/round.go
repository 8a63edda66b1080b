package electrum

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
)

// histEntry is one item of blockchain.scripthash.get_history.
type histEntry struct {
	TxHash string `json:"tx_hash"`
	Height int32  `json:"height"`
}

// round syncs the dirty scripts: their histories (checked against the
// announced statuses), the new transactions (checked against their ids),
// the proofs of claimed confirmations (checked against verified headers),
// the validity of unconfirmed relevant transactions; then it queues the
// events of what changed.
func (b *Backend) round(ctx context.Context, l *link) error {
	if err := b.syncHistories(ctx, l); err != nil {
		return err
	}
	if err := b.prove(ctx, l); err != nil {
		return err
	}
	if err := b.validatePending(ctx, l); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for h, ss := range b.st.scripts {
		if !ss.mismatch.IsZero() && now.Sub(ss.mismatch) > b.cfg.StatusGrace {
			return lie("the history of %s never matched the status it announced", h)
		}
	}
	for id, t := range b.st.txs {
		if !t.pending.IsZero() && now.Sub(t.pending) > b.cfg.StatusGrace && b.st.relevant(t) {
			if t.claimed > 0 {
				return lie("no valid proof that %v is in block %d", id, t.claimed)
			}
			return lie("unconfirmed %v has inputs it cannot show", id)
		}
	}
	if b.ready {
		b.q.push(b.acceptLocked()...)
		if s := b.staleLocked(); s <= b.st.emitted.Height {
			b.log.Info("electrum: a confirmation came after its block was reported; reporting the blocks again", "from", s)
			b.rewindLocked(s)
		}
	}
	return nil
}

// replyPatience is how long the processor, once connected, waits for the
// reply to a get_history or scripthash.subscribe before parking the call
// (link.slowHist, link.slowSub) and going on: a server slow on one
// script (a large history, or a hang) must not hold up the notifications,
// payments and blocks of the others. A parked reply is applied by the step
// after it comes; CallTimeout still bounds it.
const replyPatience = 250 * time.Millisecond

// histReply is the reply to one get_history of syncHistories.
type histReply struct {
	h       shash
	hist    []histItem
	ok      bool
	refused bool
}

// syncHistories fetches the histories of the dirty scripts and applies
// those that match their status. Once connected, a reply slower than
// replyPatience is parked and applied by a later step.
func (b *Backend) syncHistories(ctx context.Context, l *link) error {
	came, err := l.collect(ctx, l.slowHist)
	if err != nil {
		return err
	}
	var items []*histReply
	for _, sc := range came {
		items = append(items, sc.it)
	}
	patience := b.patience()
	b.mu.Lock()
	var asked []*histReply
	var jobs []job
	for h := range b.st.dirty {
		ss := b.st.scripts[h]
		if ss == nil || ss.sub != l.id {
			delete(b.st.dirty, h)
			continue
		}
		s := l.session(ss.sess)
		if s == nil || l.slowHist[h] != nil || came[h] != nil {
			continue
		}
		it := &histReply{h: h}
		asked = append(asked, it)
		jobs = append(jobs, job{sess: s, method: "blockchain.scripthash.get_history", params: []any{h.String()},
			done: func(raw json.RawMessage, err error) error {
				var rpcErr *rpc.Error
				if errors.As(err, &rpcErr) {
					// ElectrumX refuses histories beyond MAX_SEND
					// ("history too large").
					b.log.Warn("electrum: server refuses a history", "scripthash", it.h, "err", err)
					it.refused = true
					return nil
				}
				if err != nil {
					return err
				}
				b.nHist.Add(1)
				var es []histEntry
				if err := json.Unmarshal(raw, &es); err != nil {
					return lie("get_history: %v", err)
				}
				it.hist = make([]histItem, len(es))
				for i, e := range es {
					id, err := chainhash.NewHashFromStr(e.TxHash)
					if err != nil || len(e.TxHash) != 64 {
						return lie("get_history: bad txid %q", e.TxHash)
					}
					it.hist[i] = histItem{txid: *id, height: e.Height}
				}
				it.ok = true
				return nil
			}})
	}
	b.mu.Unlock()
	if len(jobs) > 0 {
		slow, err := l.bulkPatient(ctx, jobs, patience)
		if err != nil {
			return err
		}
		keys := make([]shash, len(asked))
		for i, it := range asked {
			keys[i] = it.h
		}
		l.park(l.slowHist, slow, keys, asked)
		for _, it := range asked {
			if l.slowHist[it.h] == nil {
				items = append(items, it)
			}
		}
	}
	if len(items) == 0 {
		return nil
	}

	// Histories that do not match the announced status: ask the status
	// again (a notification may have crossed the request).
	var again []shash
	b.mu.Lock()
	for _, it := range items {
		ss := b.st.scripts[it.h]
		if it.ok && ss != nil && status(it.hist) != ss.announced {
			again = append(again, it.h)
		}
	}
	b.mu.Unlock()
	if err := b.refresh(ctx, l, again); err != nil {
		return err
	}

	// Transactions not seen before.
	need := map[chainhash.Hash]bool{}
	b.mu.Lock()
	for _, it := range items {
		ss := b.st.scripts[it.h]
		if !it.ok || ss == nil || status(it.hist) != ss.announced {
			continue
		}
		for _, e := range it.hist {
			if t := b.st.txs[e.txid]; t == nil || t.tx == nil {
				need[e.txid] = true
			}
		}
	}
	b.mu.Unlock()
	got, err := b.fetchTxs(ctx, l, need)
	if err != nil {
		return err
	}

	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for _, it := range items {
		ss := b.st.scripts[it.h]
		if ss != nil && it.refused {
			// Not retried until its status changes again; History
			// says so.
			ss.refused = true
			delete(b.st.dirty, it.h)
			continue
		}
		if ss == nil || !it.ok {
			continue
		}
		ss.refused = false
		if status(it.hist) != ss.announced {
			if ss.mismatch.IsZero() {
				ss.mismatch = now
			}
			continue
		}
		missing := false
		for _, e := range it.hist {
			if t := b.st.txs[e.txid]; (t == nil || t.tx == nil) && got[e.txid] == nil {
				missing = true
			}
		}
		if missing {
			// The server lists a tx it cannot serve (replaced meanwhile?):
			// retry; StatusGrace bounds it.
			if ss.mismatch.IsZero() {
				ss.mismatch = now
			}
			continue
		}
		first := !ss.hasSynced
		existed := map[chainhash.Hash]bool{}
		for _, e := range it.hist {
			if t := b.st.txs[e.txid]; t != nil && t.tx != nil {
				existed[e.txid] = true
			}
		}
		b.st.setHist(ss, it.hist)
		for _, e := range it.hist {
			t := b.st.txs[e.txid]
			if t.tx == nil {
				t.tx = got[e.txid]
			}
			if first && !existed[e.txid] {
				// Learned by a first sync: the consumer gets it from
				// History (backfill), not as news.
				t.backfill = true
			}
			b.notePendingLocked(t)
		}
		ss.synced, ss.hasSynced = ss.announced, true
		ss.mismatch = time.Time{}
		delete(b.st.dirty, it.h)
	}
	return nil
}

// notePendingLocked marks t as waiting for a proof (a claimed
// confirmation) or a validation (a relevant unconfirmed tx), and settles
// a backfilled unconfirmed tx as known to the consumer.
func (b *Backend) notePendingLocked(t *txState) {
	switch {
	case t.claimed > 0 && t.height == 0:
		if t.pending.IsZero() {
			t.pending = time.Now()
		}
	case t.claimed == 0 && !t.valid && b.st.relevant(t):
		if t.pending.IsZero() {
			t.pending = time.Now()
		}
	case t.claimed == 0 && t.backfill:
		t.accepted, t.backfill = true, false
		t.pending = time.Time{}
	default:
		t.pending = time.Time{}
	}
}

// fetchTxs gets transactions by id, each checked against its id. Those the
// server cannot serve are left out.
func (b *Backend) fetchTxs(ctx context.Context, l *link, ids map[chainhash.Hash]bool) (map[chainhash.Hash]*wire.MsgTx, error) {
	got := make(map[chainhash.Hash]*wire.MsgTx, len(ids))
	var jobs []job
	for id := range ids {
		id := id
		jobs = append(jobs, job{sess: l.any(), method: "blockchain.transaction.get", params: []any{id.String()},
			done: func(raw json.RawMessage, err error) error {
				if err != nil {
					return nil // *rpc.Error: left out
				}
				var s string
				if err := json.Unmarshal(raw, &s); err != nil {
					return lie("transaction.get: %v", err)
				}
				tx, err := b.decodeTx(id, s)
				if err != nil {
					return err
				}
				b.nTxs.Add(1)
				got[id] = tx
				return nil
			}})
	}
	return got, l.bulk(ctx, jobs)
}

// merkleProof is blockchain.transaction.get_merkle's result.
type merkleProof struct {
	BlockHeight int32    `json:"block_height"`
	Merkle      []string `json:"merkle"`
	Pos         int      `json:"pos"`
}

// prove fetches and checks the merkle proofs of claimed confirmations.
func (b *Backend) prove(ctx context.Context, l *link) error {
	tip := b.hc.Height()
	b.mu.Lock()
	type want struct {
		id     chainhash.Hash
		height int32
	}
	var wants []want
	above := false
	for id, t := range b.st.txs {
		if t.claimed > 0 && t.height == 0 && t.tx != nil {
			if t.claimed > tip {
				above = true
				continue
			}
			wants = append(wants, want{id, t.claimed})
		}
	}
	b.mu.Unlock()
	if above {
		// The server claims a block we have not verified yet: follow
		// its tip first (its header notification may be queued).
		b.takeNotes(l)
		b.mu.Lock()
		tipNote := b.lastTip
		b.mu.Unlock()
		if err := b.syncHeaders(ctx, l, tipNote); err != nil {
			return err
		}
	}
	if len(wants) == 0 {
		return nil
	}
	hdrs := map[int32]wire.BlockHeader{}
	for _, w := range wants {
		if _, ok := hdrs[w.height]; ok {
			continue
		}
		hdr, err := b.headerAt(ctx, l, w.height)
		if err != nil {
			return err
		}
		hdrs[w.height] = hdr
	}
	proven := map[chainhash.Hash]int{}
	var jobs []job
	for _, w := range wants {
		w := w
		jobs = append(jobs, job{sess: l.any(), method: "blockchain.transaction.get_merkle", params: []any{w.id.String(), w.height},
			done: func(raw json.RawMessage, err error) error {
				if err != nil {
					return nil // not (or no longer) at that height: retried, bounded by StatusGrace
				}
				var p merkleProof
				if err := json.Unmarshal(raw, &p); err != nil {
					return lie("get_merkle: %v", err)
				}
				if p.BlockHeight != w.height {
					return lie("get_merkle of %v: block %d asked, %d given", w.id, w.height, p.BlockHeight)
				}
				branch := make([]chainhash.Hash, len(p.Merkle))
				for i, s := range p.Merkle {
					h, err := chainhash.NewHashFromStr(s)
					if err != nil || len(s) != 64 {
						return lie("get_merkle: bad hash %q", s)
					}
					branch[i] = *h
				}
				hdr := hdrs[w.height]
				if err := headers.VerifyMerkle(w.id, branch, p.Pos, &hdr); err != nil {
					return lie("%v", err)
				}
				b.nProofs.Add(1)
				proven[w.id] = p.Pos
				return nil
			}})
	}
	if err := l.bulk(ctx, jobs); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range wants {
		pos, ok := proven[w.id]
		t := b.st.txs[w.id]
		if !ok || t == nil || t.claimed != w.height {
			continue
		}
		// The header may have changed while we asked (a reorg): only a
		// proof against the current header counts.
		if ref, hdr, err := b.hc.At(w.height); err != nil || hdr != hdrs[w.height] {
			_ = ref
			continue
		}
		t.height, t.pos = w.height, pos
		t.pending = time.Time{}
		if t.backfill {
			t.emittedAt, t.backfill = t.height, false
		}
	}
	return nil
}

// headerAt returns the verified header at height, fetching and verifying
// its chunk when it is older than the kept window.
func (b *Backend) headerAt(ctx context.Context, l *link, height int32) (wire.BlockHeader, error) {
	_, hdr, err := b.hc.At(height)
	if err == nil {
		return hdr, nil
	}
	start, n, ok := b.hc.OldChunk(height)
	if !ok {
		return wire.BlockHeader{}, fmt.Errorf("no verifiable header at %d: %w", height, err)
	}
	hdrs, err := b.fetchHeaders(ctx, l, start, start+n-1)
	if err != nil {
		return wire.BlockHeader{}, err
	}
	if err := b.hc.VerifyOldChunk(start, hdrs); err != nil {
		return wire.BlockHeader{}, lie("old chunk at %d: %v", start, err)
	}
	_, hdr, err = b.hc.At(height)
	return hdr, err
}
