package electrum

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// request asks the processor of the live link for a step.
type request struct {
	// refresh: scripts whose status is asked again (History).
	refresh []shash
	// wait: scripts whose status and history must be synced before done
	// (answered once none of them has a subscribe or get_history parked,
	// see replyPatience).
	wait []shash
	done chan error
}

// waitsOn reports whether r still waits for a parked call of l.
func (r request) waitsOn(l *link) bool {
	for _, h := range r.wait {
		if l.slowHist[h] != nil || l.slowSub[h] != nil {
			return true
		}
	}
	return false
}

// retryEvery is how often pending proofs, validations and status
// mismatches are retried.
const retryEvery = 500 * time.Millisecond

// handshake brings a new link to EventConnected: a session, the anchored
// and verified header chain up to the server's tip, every script
// subscribed (several sessions if needed), the histories whose status
// changed synced and verified; then the blocks the consumer was given that
// are no longer right are disconnected, and EventConnected is queued.
func (b *Backend) handshake(ctx context.Context, l *link) error {
	_, tip, err := l.open(ctx)
	if err != nil {
		return err
	}
	if !b.hc.Anchored() {
		if err := b.anchor(ctx, l); err != nil {
			return err
		}
	}
	b.mu.Lock()
	b.lastTip = tip
	b.restartGraceLocked()
	b.mu.Unlock()
	if err := b.step(ctx, l); err != nil {
		return err
	}
	// Settle the first sync completely: no dirty script, no pending proof.
	for i := 0; ; i++ {
		b.mu.Lock()
		pending := len(b.st.dirty) > 0 || b.unprovenLocked() > 0
		b.mu.Unlock()
		if !pending {
			break
		}
		if err := sleepCtx(ctx, l, retryEvery); err != nil {
			return err
		}
		if err := b.step(ctx, l); err != nil {
			return err
		}
	}
	tipRef, _ := b.hc.Tip()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errClosed
	}
	st := b.st
	// The consumer's blocks that left the chain while we were away, and
	// blocks whose content changed (a confirmation the consumer never
	// got), are disconnected first.
	if st.hasEmitted {
		fork := st.emitted.Height + 1
		for h := st.emitted.Height; h >= 0; h-- {
			ref, ok := st.refs[h]
			if !ok {
				break
			}
			cur, _, err := b.hc.At(h)
			if err == nil && cur.Hash == ref.Hash {
				break
			}
			fork = h
		}
		fork = min(fork, b.staleLocked())
		if fork <= st.emitted.Height {
			b.rewindLocked(fork)
		}
	}
	st.emitted, st.hasEmitted = tipRef, true
	b.giveLocked(tipRef)
	b.markDeliveredLocked(tipRef.Height)
	b.tipSince = time.Now()
	b.ready = true
	b.q.push(chain.Event{Kind: chain.EventConnected, Tip: tipRef})
	b.q.push(b.acceptLocked()...)
	return nil
}

// restartGraceLocked restarts the StatusGrace clocks of the mismatches and
// pending proofs left by an earlier link: the time a link spent before it
// failed (a server cutting the backend off for cost, a network failure)
// must not count against the next server, or the same one again.
func (b *Backend) restartGraceLocked() {
	now := time.Now()
	for _, ss := range b.st.scripts {
		if !ss.mismatch.IsZero() {
			ss.mismatch = now
		}
	}
	for _, t := range b.st.txs {
		if !t.pending.IsZero() {
			t.pending = now
		}
	}
}

func sleepCtx(ctx context.Context, l *link, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.dead:
		return l.err()
	}
}

// anchor fetches the headers from the block before the anchor's retarget
// period to the anchor, and anchors the chain with them.
func (b *Backend) anchor(ctx context.Context, l *link) error {
	from, to := b.hc.AnchorRange()
	hdrs, err := b.fetchHeaders(ctx, l, from, to)
	if err != nil {
		return err
	}
	if err := b.hc.Init(hdrs); err != nil {
		return lie("anchor: %v", err)
	}
	return nil
}

// fetchHeaders returns the server's headers from..to (fewer if its chain
// is shorter), in requests of at most a chunk.
func (b *Backend) fetchHeaders(ctx context.Context, l *link, from, to int32) ([]wire.BlockHeader, error) {
	var out []wire.BlockHeader
	for h := from; h <= to; {
		n := min(to-h+1, headers.ChunkSize)
		var r struct {
			Count int32  `json:"count"`
			Hex   string `json:"hex"`
		}
		if err := l.call(ctx, l.session(0), &r, "blockchain.block.headers", h, n); err != nil {
			return nil, fmt.Errorf("block.headers(%d, %d): %w", h, n, err)
		}
		raw, err := hex.DecodeString(r.Hex)
		if err != nil || len(raw) != int(r.Count)*80 || r.Count > n {
			return nil, lie("block.headers(%d, %d): %d bytes for %d headers", h, n, len(raw), r.Count)
		}
		for i := int32(0); i < r.Count; i++ {
			var hdr wire.BlockHeader
			if err := hdr.Deserialize(bytes.NewReader(raw[i*80 : (i+1)*80])); err != nil {
				return nil, lie("block.headers: %v", err)
			}
			out = append(out, hdr)
		}
		if r.Count < n {
			break
		}
		h += n
	}
	return out, nil
}

// loop is the processor of a ready link: notifications, requests and
// timers drive steps until the link fails.
func (b *Backend) loop(ctx context.Context, l *link) (err error) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	// Requests whose scripts have a history parked: answered by the step
	// that applies it, or with the link's end.
	var waiting []request
	defer func() {
		for _, r := range waiting {
			r.done <- err
		}
	}()
	answer := func() {
		kept := waiting[:0]
		for _, r := range waiting {
			if r.waitsOn(l) {
				kept = append(kept, r)
			} else {
				r.done <- nil
			}
		}
		clear(waiting[len(kept):])
		waiting = kept
	}
	// What arrived during the handshake (a Watch recorded meanwhile).
	if err := b.step(ctx, l); err != nil {
		return err
	}
	for {
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(b.nextWake(l))
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.dead:
			return l.err()
		case <-l.noteSig:
		case <-l.slowSig:
		case <-timer.C:
		case r := <-b.reqs:
			err := b.refresh(ctx, l, r.refresh)
			if err == nil {
				err = b.step(ctx, l)
			}
			if err != nil {
				r.done <- err
				return err
			}
			waiting = append(waiting, r)
			answer()
			continue
		}
		if err := b.step(ctx, l); err != nil {
			return err
		}
		answer()
	}
}

// nextWake is when the processor must look again without a notification:
// a block waiting for its statuses to settle, or a pending retry.
func (b *Backend) nextWake(l *link) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := time.Hour
	if len(b.st.dirty) > 0 || b.unprovenLocked() > 0 {
		d = retryEvery
	}
	if tip := b.hc.Height(); b.st.hasEmitted && tip > b.st.emitted.Height {
		l.mu.Lock()
		quiet := b.cfg.Settle - time.Since(l.lastNote)
		l.mu.Unlock()
		d = min(d, max(quiet, time.Millisecond), max(b.cfg.MaxSettle-time.Since(b.tipSince), time.Millisecond))
	}
	return d
}

// step applies what arrived: new tips (headers verified, reorganisations),
// statuses; subscribes what is not yet; syncs the changed histories; and
// reports the blocks that are complete.
func (b *Backend) step(ctx context.Context, l *link) error {
	b.takeNotes(l)
	b.mu.Lock()
	tip := b.lastTip
	b.mu.Unlock()
	if err := b.syncHeaders(ctx, l, tip); err != nil {
		return err
	}
	if err := b.resolveOps(ctx, l); err != nil {
		return err
	}
	if err := b.subscribe(ctx, l); err != nil {
		return err
	}
	if err := b.round(ctx, l); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ready {
		b.advanceLocked(l)
	}
	return nil
}

// takeNotes applies queued notifications to the state.
func (b *Backend) takeNotes(l *link) {
	notes := l.drain()
	if len(notes) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range notes {
		switch n.n.Method {
		case "blockchain.headers.subscribe":
			var p []tipNote
			if err := json.Unmarshal(n.n.Params, &p); err != nil || len(p) != 1 {
				b.log.Warn("electrum: bad header notification", "err", err)
				continue
			}
			// The main session's notifications are the server's tip, in
			// order; the others only tell that their session has seen
			// it (a slow session may announce a tip already passed).
			if n.sess == 0 {
				b.lastTip = p[0]
			}
			if s := l.session(n.sess); s != nil {
				s.tipSeen = max(s.tipSeen, p[0].Height)
			}
		case "blockchain.scripthash.subscribe":
			var p []json.RawMessage
			var sh string
			var st *string
			if json.Unmarshal(n.n.Params, &p) != nil || len(p) != 2 || json.Unmarshal(p[0], &sh) != nil || json.Unmarshal(p[1], &st) != nil {
				b.log.Warn("electrum: bad status notification")
				continue
			}
			h, ok := parseScripthash(sh)
			if !ok {
				continue
			}
			if ss := b.st.scripts[h]; ss != nil && ss.sub == l.id {
				b.announceLocked(h, ss, deref(st))
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func parseScripthash(s string) (shash, bool) {
	raw, err := hex.DecodeString(s)
	if err != nil || len(raw) != 32 {
		return shash{}, false
	}
	var h shash
	for i := range raw {
		h[i] = raw[31-i]
	}
	return h, true
}

// syncHeaders makes the verified chain follow the server's tip: extends
// it, or finds the fork point and reorganises.
func (b *Backend) syncHeaders(ctx context.Context, l *link, tip tipNote) error {
	raw, err := hex.DecodeString(tip.Hex)
	var hdr wire.BlockHeader
	if err != nil || hdr.Deserialize(bytes.NewReader(raw)) != nil || tip.Height < 0 {
		return lie("malformed tip header")
	}
	ours, _ := b.hc.Tip()
	if tip.Height <= ours.Height {
		if ref, _, err := b.hc.At(tip.Height); err == nil && ref.Hash == hdr.BlockHash() {
			if tip.Height < ours.Height {
				gone, err := b.hc.Truncate(tip.Height)
				if err != nil {
					return lie("%v", err)
				}
				b.disconnected(gone)
			}
			return nil
		}
	}
	// Find where the server's chain attaches to ours: try the next
	// height, then further back (doubling), never below the anchor.
	anchor := b.cfg.Rules.Anchor().Height
	from := min(tip.Height, ours.Height+1)
	back := int32(1)
	var gone []chain.BlockRef
	for {
		hdrs, err := b.fetchHeaders(ctx, l, from, min(tip.Height, from+headers.ChunkSize-1))
		if err != nil {
			return err
		}
		if len(hdrs) == 0 {
			return nil // the server's chain moved back meanwhile: its next tip tells
		}
		g, err := b.hc.Extend(from, hdrs)
		if errors.Is(err, headers.ErrDisconnected) {
			if from <= anchor+1 {
				return lie("its chain does not connect to %s's anchor", b.cfg.Rules.Name)
			}
			from = max(anchor+1, from-back)
			back *= 2
			continue
		}
		if err != nil {
			return lie("%v", err)
		}
		gone = g
		from += int32(len(hdrs))
		break
	}
	// Then follow it up to its tip, a chunk at a time.
	for from <= tip.Height {
		hdrs, err := b.fetchHeaders(ctx, l, from, min(tip.Height, from+headers.ChunkSize-1))
		if err != nil {
			return err
		}
		if len(hdrs) == 0 {
			break
		}
		g, err := b.hc.Extend(from, hdrs)
		if errors.Is(err, headers.ErrDisconnected) {
			break // the server's chain moved meanwhile: its next tip tells
		}
		if err != nil {
			return lie("%v", err)
		}
		gone = append(gone, g...)
		from += int32(len(hdrs))
		b.saveHeaders(false) // a long catch-up is kept as it goes
	}
	b.disconnected(gone)
	b.saveHeaders(false)
	b.mu.Lock()
	b.tipSince = time.Now()
	b.mu.Unlock()
	return nil
}

// disconnected handles blocks that left the verified chain: their
// transactions lose their proofs, and the consumer's copies are
// disconnected.
func (b *Backend) disconnected(gone []chain.BlockRef) {
	if len(gone) == 0 {
		return
	}
	fork := gone[len(gone)-1].Height
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, t := range b.st.txs {
		if t.height >= fork {
			t.height, t.pos = 0, 0
			if t.claimed > 0 && t.pending.IsZero() {
				t.pending = time.Now()
			}
		}
	}
	if b.st.hasEmitted && b.st.emitted.Height >= fork {
		b.rewindLocked(fork, gone...)
	}
	b.log.Info("electrum: chain reorganised", "fork", fork, "disconnected", len(gone))
}

// rewindLocked disconnects the consumer's blocks from the last given down
// to height, so that the consumer's cursor is the block below it. A block
// is named as the consumer got it: from the blocks given (events,
// FilterBlocks), else from gone (the blocks a reorganisation removed),
// else the verified chain's (unchanged there).
func (b *Backend) rewindLocked(height int32, gone ...chain.BlockRef) {
	st := b.st
	old := make(map[int32]chain.BlockRef, len(gone))
	for _, g := range gone {
		old[g.Height] = g
	}
	for h := st.emitted.Height; h >= height; h-- {
		ref, ok := st.refs[h]
		if !ok {
			ref, ok = old[h]
		}
		if !ok && h == st.emitted.Height {
			ref, ok = st.emitted, true
		}
		if !ok {
			cur, _, err := b.hc.At(h)
			if err != nil {
				break // deeper than anything kept: the consumer's catch-up sorts it out
			}
			ref = cur
		}
		b.q.push(chain.Event{Kind: chain.EventBlockDisconnected, Block: &chain.Block{BlockRef: ref}})
		delete(st.refs, h)
	}
	below, _, err := b.hc.At(height - 1)
	if err != nil {
		below = chain.BlockRef{Height: height - 1}
	}
	st.emitted = below
	st.refs[below.Height] = below
	for _, t := range st.txs {
		if t.emittedAt >= height {
			t.emittedAt = 0
		}
	}
}

// giveLocked records that the consumer got block ref (an event or
// FilterBlocks), forgetting records older than two retarget periods.
func (b *Backend) giveLocked(ref chain.BlockRef) {
	b.st.refs[ref.Height] = ref
	keep := int32(b.cfg.Rules.Params.TargetTimespan/b.cfg.Rules.Params.TargetTimePerBlock) * 2
	delete(b.st.refs, ref.Height-keep)
}

// staleLocked returns the lowest height at or below the last block given
// where a relevant transaction is proven but was not given there (a
// confirmation that came late); MaxInt32 when none.
func (b *Backend) staleLocked() int32 {
	low := int32(1<<31 - 1)
	if !b.st.hasEmitted {
		return low
	}
	for _, t := range b.st.txs {
		if t.height > 0 && t.height <= b.st.emitted.Height && t.emittedAt != t.height && b.st.relevant(t) {
			low = min(low, t.height)
		}
	}
	return low
}

// markDeliveredLocked records that every relevant proven transaction up to
// height is known to the consumer (it catches up from the tip given).
func (b *Backend) markDeliveredLocked(height int32) {
	for _, t := range b.st.txs {
		if t.height > 0 && t.height <= height && t.emittedAt == 0 {
			t.emittedAt = t.height
		}
	}
}

// acceptLocked returns EventTxAccepted for every relevant valid
// unconfirmed transaction not reported yet.
func (b *Backend) acceptLocked() []chain.Event {
	var evs []chain.Event
	for _, t := range b.st.txs {
		if t.claimed == 0 && t.valid && !t.accepted && t.tx != nil && b.st.relevant(t) {
			t.accepted = true
			evs = append(evs, chain.Event{Kind: chain.EventTxAccepted, Tx: t.tx})
		}
	}
	return evs
}

// unprovenLocked counts relevant transactions whose claimed confirmation,
// or validity, is not yet proven.
func (b *Backend) unprovenLocked() int {
	n := 0
	for _, t := range b.st.txs {
		if !t.pending.IsZero() {
			n++
		}
	}
	return n
}

// advanceLocked gives the consumer the blocks above the last one given
// whose content is complete: the server's statuses for them have settled
// and every claimed confirmation in them is proven.
func (b *Backend) advanceLocked(l *link) {
	st := b.st
	tip, ok := b.hc.Tip()
	if !ok || !st.hasEmitted || tip.Height <= st.emitted.Height {
		return
	}
	for h := range st.dirty {
		// A script watched as such and never synced (its first history
		// still coming, maybe parked) holds nothing a block could miss:
		// what its first sync finds is backfill, which its Watch waits for
		// and History gives. Any other dirty script may hold a
		// confirmation of the new blocks.
		if ss := st.scripts[h]; ss != nil && (ss.hasSynced || !ss.full) {
			return
		}
	}
	limit := tip.Height
	for _, t := range st.txs {
		if t.claimed > 0 && t.height == 0 {
			limit = min(limit, t.claimed-1)
		}
	}
	if limit <= st.emitted.Height {
		return
	}
	if time.Since(b.tipSince) < b.cfg.MaxSettle {
		l.mu.Lock()
		quiet := time.Since(l.lastNote) >= b.cfg.Settle
		seen := true
		for _, s := range l.sessions {
			seen = seen && s.tipSeen >= tip.Height
		}
		l.mu.Unlock()
		if !quiet || !seen {
			return
		}
	}
	for h := st.emitted.Height + 1; h <= limit; h++ {
		ref, _, err := b.hc.At(h)
		if err != nil {
			return
		}
		txs := st.confirmedAt(h)
		for _, t := range st.txs {
			if t.height == h {
				t.emittedAt = h
			}
		}
		b.q.push(chain.Event{Kind: chain.EventBlockConnected, Block: &chain.Block{BlockRef: ref, Txs: txs}})
		b.giveLocked(ref)
		st.emitted = ref
	}
}

// refresh asks the server again for the status of scripts (History wants
// the server's state now, not the last notification's).
func (b *Backend) refresh(ctx context.Context, l *link, hs []shash) error {
	if len(hs) == 0 {
		return nil
	}
	var jobs []job
	var keys []shash
	patience := b.patience()
	b.mu.Lock()
	for _, h := range hs {
		ss := b.st.scripts[h]
		if ss == nil || ss.sub != l.id || l.slowSub[h] != nil {
			continue
		}
		s := l.session(ss.sess)
		if s == nil {
			continue
		}
		jobs = append(jobs, b.statusJob(l, s, h))
		keys = append(keys, h)
	}
	b.mu.Unlock()
	slow, err := l.bulkPatient(ctx, jobs, patience)
	l.park(l.slowSub, slow, keys, nil)
	return err
}

// statusJob subscribes h on s (again) and records the status.
func (b *Backend) statusJob(l *link, s *session, h shash) job {
	return job{sess: s, method: "blockchain.scripthash.subscribe", params: []any{h.String()},
		done: func(raw json.RawMessage, err error) error {
			if err != nil {
				return fmt.Errorf("scripthash.subscribe: %w", err)
			}
			b.nSubs.Add(1)
			var st *string
			if err := json.Unmarshal(raw, &st); err != nil {
				return lie("scripthash.subscribe: %v", err)
			}
			b.mu.Lock()
			defer b.mu.Unlock()
			ss := b.st.scripts[h]
			if ss == nil {
				return nil
			}
			ss.sub, ss.sess = l.id, s.idx
			b.announceLocked(h, ss, deref(st))
			return nil
		}}
}

// announceLocked records the status the server announced for h: the same
// as the synced history's confirms it; an empty one is an empty history,
// applied at once; any other makes the script dirty (its history is
// fetched and checked against it).
func (b *Backend) announceLocked(h shash, ss *scriptState, st string) {
	ss.announced, ss.hasAnn = st, true
	switch {
	case ss.hasSynced && st == ss.synced:
	case st == "":
		b.st.setHist(ss, nil)
		ss.synced, ss.hasSynced = "", true
	default:
		b.st.dirty[h] = true
		return
	}
	ss.mismatch = time.Time{}
	delete(b.st.dirty, h)
}

// subscribe subscribes every script not yet subscribed on l, opening
// sessions as needed (l.perSession each: SessionScripts, less for a server
// that throttled the backend before).
func (b *Backend) subscribe(ctx context.Context, l *link) error {
	// Subscriptions parked by earlier steps whose reply came.
	if _, err := l.collect(ctx, l.slowSub); err != nil {
		return err
	}
	patience := b.patience()
	b.mu.Lock()
	var todo []shash
	for h, ss := range b.st.scripts {
		if ss.sub != l.id && l.slowSub[h] == nil {
			todo = append(todo, h)
		}
	}
	b.mu.Unlock()
	if len(todo) == 0 {
		return nil
	}
	t0 := time.Now()
	// Enough sessions for all, the new scripts spread over them so that
	// every session has requests in flight.
	total := len(todo)
	for i := 0; i < l.count(); i++ {
		total += l.session(i).scripts
	}
	for l.count() < (total+l.perSession-1)/l.perSession {
		if err := b.openSession(ctx, l); err != nil {
			return err
		}
	}
	ss := make([]*session, l.count())
	for i := range ss {
		ss[i] = l.session(i)
	}
	var jobs []job
	next := 0
	for _, h := range todo {
		for ss[next].scripts >= l.perSession {
			next = (next + 1) % len(ss)
		}
		s := ss[next]
		next = (next + 1) % len(ss)
		s.scripts++
		jobs = append(jobs, b.statusJob(l, s, h))
	}
	slow, err := l.bulkPatient(ctx, jobs, patience)
	l.park(l.slowSub, slow, todo, nil)
	if len(todo) > 1000 {
		b.log.Info("electrum: subscribed", "scripts", len(todo), "sessions", l.count(), "took", time.Since(t0).Round(time.Millisecond))
	}
	return err
}

// openSession opens one more session on l.
func (b *Backend) openSession(ctx context.Context, l *link) error {
	n := l.count()
	if _, _, err := l.open(ctx); err != nil {
		return fmt.Errorf("open session %d: %w", n, err)
	}
	return nil
}

// resolveOps finds the scripts of watched outpoints whose script is not
// known yet, from the funding transaction.
func (b *Backend) resolveOps(ctx context.Context, l *link) error {
	b.mu.Lock()
	var todo []wire.OutPoint
	for op := range b.st.pendingOps {
		if t := b.st.txs[op.Hash]; t != nil && t.tx != nil {
			b.addOutpointLocked(op, t.tx)
			continue
		}
		todo = append(todo, op)
	}
	b.mu.Unlock()
	for _, op := range todo {
		tx, err := b.getTx(ctx, l, op.Hash)
		var rpcErr *rpc.Error
		if errors.As(err, &rpcErr) {
			b.log.Warn("electrum: funding tx of a watched outpoint unknown to the server", "outpoint", op, "err", err)
			continue
		}
		if err != nil {
			return err
		}
		b.mu.Lock()
		b.addOutpointLocked(op, tx)
		b.mu.Unlock()
	}
	return nil
}

// addOutpointLocked watches op, an output of tx: its script is subscribed
// (outpoint-only unless it is watched as a script).
func (b *Backend) addOutpointLocked(op wire.OutPoint, tx *wire.MsgTx) {
	delete(b.st.pendingOps, op)
	if int(op.Index) >= len(tx.TxOut) {
		return
	}
	script := tx.TxOut[op.Index].PkScript
	h := hashScript(script)
	if _, ok := b.st.scripts[h]; !ok {
		b.st.scripts[h] = &scriptState{script: script}
	}
}

// getTx fetches a transaction and checks that it hashes to txid.
func (b *Backend) getTx(ctx context.Context, l *link, txid chainhash.Hash) (*wire.MsgTx, error) {
	var s string
	if err := l.call(ctx, l.any(), &s, "blockchain.transaction.get", txid.String()); err != nil {
		return nil, err
	}
	return b.decodeTx(txid, s)
}

// decodeTx decodes a transaction the server gave for txid and checks that
// it hashes to txid. On a coin with MWEB (Litecoin), a transaction
// serialized with MWEB data (a block's HogEx, whose outputs carry peg-outs;
// a peg-in still in the mempool) is read through ltcwire, keeping its
// canonical part, whose hash is the txid; a pure MWEB transaction cannot be
// in a script's history, so serving one is a lie.
func (b *Backend) decodeTx(txid chainhash.Hash, s string) (*wire.MsgTx, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, lie("transaction %v: %v", txid, err)
	}
	var tx *wire.MsgTx
	if b.mweb {
		tx, err = ltcwire.DecodeTx(raw)
	} else {
		tx = wire.NewMsgTx(0)
		err = tx.Deserialize(bytes.NewReader(raw))
	}
	if err != nil {
		return nil, lie("transaction %v: %v", txid, err)
	}
	if got := tx.TxHash(); got != txid {
		return nil, lie("transaction %v hashes to %v", txid, got)
	}
	return tx, nil
}
