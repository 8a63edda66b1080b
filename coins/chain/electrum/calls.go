package electrum

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/rpc"
)

// unknownBlockWait is how long FilterBlocks waits for a block it does not
// know yet (the server may not have announced it) before ErrNotFound.
const unknownBlockWait = 2 * time.Second

// Watch subscribes scripts (which must have an address form: P2PKH, P2SH,
// P2WPKH, P2WSH, P2TR, P2PK; else ErrUnsupported and nothing is added) and
// watches outpoints (their funding script is subscribed; only transactions
// spending them are reported). Items already watched are skipped.
//
// When connected, Watch returns once the new scripts are subscribed and
// their histories synced and verified (History and FilterBlocks then know
// them). Otherwise, or if the connection drops meanwhile, they are
// recorded and subscribed before the next EventConnected; Watch returns
// nil. After Close it returns an error wrapping chain.ErrNotConnected.
func (b *Backend) Watch(ctx context.Context, scripts [][]byte, outpoints []wire.OutPoint) error {
	for _, s := range scripts {
		if !watchable(s) {
			return fmt.Errorf("electrum: watch script %x: %w", s, chain.ErrUnsupported)
		}
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return errClosed
	}
	st := b.st
	changed := false
	var added []shash
	for _, s := range scripts {
		h := hashScript(s)
		ss := st.scripts[h]
		switch {
		case ss == nil:
			st.scripts[h] = &scriptState{script: append([]byte(nil), s...), full: true}
			changed = true
			added = append(added, h)
		case !ss.full:
			ss.full = true
			for _, it := range ss.hist {
				if t := st.txs[it.txid]; t != nil {
					t.outRefs--
					t.fullRefs++
				}
			}
			changed = true
		}
	}
	for _, op := range outpoints {
		if st.ops[op] {
			continue
		}
		st.ops[op] = true
		changed = true
		if t := st.txs[op.Hash]; t != nil && t.tx != nil {
			b.addOutpointLocked(op, t.tx)
		} else {
			st.pendingOps[op] = true
		}
	}
	l, ready := b.link, b.ready
	b.mu.Unlock()
	if !changed || !ready {
		return nil
	}
	return b.ask(ctx, l, nil, added)
}

// ask has the processor of l run a step (refreshing hs first) and waits
// for it, and for the histories of wait should their replies be slow
// (replyPatience). A link lost meanwhile is not an error: what was
// recorded is subscribed on the next one.
func (b *Backend) ask(ctx context.Context, l *link, hs, wait []shash) error {
	r := request{refresh: hs, wait: wait, done: make(chan error, 1)}
	select {
	case b.reqs <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-l.dead:
		return nil
	}
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, chain.ErrNotConnected) && !errors.Is(err, errLie) && !errors.Is(err, rpc.ErrClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-l.dead:
		return nil
	}
}

// Tip returns the last block the backend reported (the tip of
// EventConnected or of the last block event).
func (b *Backend) Tip(ctx context.Context) (chain.BlockRef, error) {
	if _, err := b.readyLink(); err != nil {
		return chain.BlockRef{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.st.emitted, nil
}

// BlockAt returns the verified block at height, up to Tip.
func (b *Backend) BlockAt(ctx context.Context, height int32) (chain.BlockRef, error) {
	l, err := b.readyLink()
	if err != nil {
		return chain.BlockRef{}, err
	}
	b.mu.Lock()
	top := b.st.emitted.Height
	b.mu.Unlock()
	if height < 0 || height > top {
		return chain.BlockRef{}, fmt.Errorf("block %d: %w", height, chain.ErrNotFound)
	}
	return b.refAt(ctx, l, height)
}

// refAt returns the verified block at height (old ones verified by their
// chunk).
func (b *Backend) refAt(ctx context.Context, l *link, height int32) (chain.BlockRef, error) {
	if ref, _, err := b.hc.At(height); err == nil {
		return ref, nil
	}
	if _, err := b.headerAt(ctx, l, height); err != nil {
		if errors.Is(err, errLie) {
			l.fail(err)
			return chain.BlockRef{}, fmt.Errorf("%w: %v", chain.ErrNotConnected, err)
		}
		return chain.BlockRef{}, err
	}
	ref, _, err := b.hc.At(height)
	return ref, err
}

// FilterBlocks returns each block (by hash, in order) reduced to the
// watched transactions confirmed in it, as proven. Blocks must be in the
// verified chain at or below Tip; a block announced but not reported yet
// is waited for (bounded), an unknown one is ErrNotFound.
func (b *Backend) FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	if _, err := b.readyLink(); err != nil {
		return nil, err
	}
	out := make([]chain.Block, 0, len(hashes))
	for _, h := range hashes {
		height, err := b.reportedHeight(ctx, h)
		if err != nil {
			return nil, err
		}
		b.mu.Lock()
		ref, _, err := b.hc.At(height)
		if err != nil || ref.Hash != h || height > b.st.emitted.Height {
			b.mu.Unlock()
			return nil, fmt.Errorf("block %v: %w", h, chain.ErrNotFound)
		}
		txs := b.st.confirmedAt(height)
		for _, t := range b.st.txs {
			if t.height == height {
				t.emittedAt = height
			}
		}
		b.giveLocked(ref)
		b.mu.Unlock()
		out = append(out, chain.Block{BlockRef: ref, Txs: txs})
	}
	return out, nil
}

// reportedHeight returns the height of a block of the verified chain once
// it is reported (at or below Tip), waiting a bounded time for one the
// server has not announced or the backend not reported yet.
func (b *Backend) reportedHeight(ctx context.Context, h chainhash.Hash) (int32, error) {
	deadline := time.Now().Add(unknownBlockWait)
	for {
		if _, err := b.readyLink(); err != nil {
			return 0, err
		}
		height, known := b.hc.HeightOf(h)
		b.mu.Lock()
		top := b.st.emitted.Height
		b.mu.Unlock()
		if known && height <= top {
			return height, nil
		}
		if known {
			// Announced, waiting for its statuses to settle.
			deadline = maxTime(deadline, time.Now().Add(b.cfg.MaxSettle))
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("block %v: %w", h, chain.ErrNotFound)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, ctx.Err()
		case <-t.C:
		}
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// History returns the transactions paying to or spending from scripts:
// those proven in a block up to Tip as confirmed, the validated
// unconfirmed ones as mempool (a transaction mined above Tip but not
// validated while unconfirmed comes with its block event instead), as the
// server knows them at the call. Watched scripts are answered from memory
// once their status is asked again (a changed one is synced first);
// others are fetched and verified on the spot.
func (b *Backend) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, 0)
}

// HistoryAtMost is History that gives up with chain.ErrTooMuchHistory
// once the scripts' histories (the server's lists) name more than max
// distinct transactions, before fetching them (chain.BoundedHistorian).
func (b *Backend) HistoryAtMost(ctx context.Context, scripts [][]byte, max int) ([]chain.TxInfo, error) {
	return b.history(ctx, scripts, max)
}

// history is History bounded by max distinct transactions when max > 0.
func (b *Backend) history(ctx context.Context, scripts [][]byte, max int) ([]chain.TxInfo, error) {
	for _, s := range scripts {
		if !watchable(s) {
			return nil, fmt.Errorf("electrum: history of script %x: %w", s, chain.ErrUnsupported)
		}
	}
	l, err := b.readyLink()
	if err != nil {
		return nil, err
	}
	var stale []shash
	var unwatched [][]byte
	seen := map[shash]bool{}
	b.mu.Lock()
	for _, s := range scripts {
		h := hashScript(s)
		if seen[h] {
			continue
		}
		seen[h] = true
		ss := b.st.scripts[h]
		switch {
		case ss == nil:
			unwatched = append(unwatched, s)
		default:
			stale = append(stale, h)
		}
	}
	b.mu.Unlock()
	if len(stale) > 0 {
		if err := b.ask(ctx, l, stale, stale); err != nil {
			return nil, err
		}
		if _, err := b.readyLink(); err != nil {
			return nil, err
		}
	}
	var out []chain.TxInfo
	got := map[chainhash.Hash]bool{}
	b.mu.Lock()
	top := b.st.emitted.Height
	if max > 0 {
		named := map[chainhash.Hash]bool{}
		for h := range seen {
			if ss := b.st.scripts[h]; ss != nil {
				for _, it := range ss.hist {
					named[it.txid] = true
				}
			}
		}
		if len(named) > max {
			b.mu.Unlock()
			return nil, chain.TooMuchHistory(max)
		}
	}
	for h := range seen {
		ss := b.st.scripts[h]
		if ss == nil {
			continue
		}
		if ss.refused {
			b.mu.Unlock()
			return nil, fmt.Errorf("electrum: the server refuses the history of scripthash %s (too large for it)", h)
		}
		for _, it := range ss.hist {
			t := b.st.txs[it.txid]
			if got[it.txid] || t == nil || t.tx == nil {
				continue
			}
			switch {
			case t.height > 0 && t.height <= top:
				ref, _, err := b.hc.At(t.height)
				if err != nil {
					continue // below the window: resolved below
				}
				out = append(out, confirmedInfo(t.tx, ref, top))
				t.emittedAt = t.height
			case t.valid:
				out = append(out, chain.TxInfo{Tx: t.tx})
				t.accepted = true
			default:
				continue
			}
			got[it.txid] = true
		}
	}
	// Old confirmations below the kept window.
	var old []*txState
	for h := range seen {
		if ss := b.st.scripts[h]; ss != nil {
			for _, it := range ss.hist {
				if t := b.st.txs[it.txid]; t != nil && t.tx != nil && !got[it.txid] && t.height > 0 && t.height <= top {
					old = append(old, t)
					got[it.txid] = true
				}
			}
		}
	}
	b.mu.Unlock()
	for _, t := range old {
		ref, err := b.refAt(ctx, l, t.height)
		if err != nil {
			return nil, err
		}
		out = append(out, confirmedInfo(t.tx, ref, top))
	}
	for _, s := range unwatched {
		infos, err := b.historyOnce(ctx, l, s, top, got, max)
		if err != nil {
			return nil, err
		}
		for _, inf := range infos {
			if id := inf.Tx.TxHash(); !got[id] {
				got[id] = true
				out = append(out, inf)
			}
		}
	}
	return out, nil
}

func confirmedInfo(tx *wire.MsgTx, ref chain.BlockRef, top int32) chain.TxInfo {
	h := ref.Hash
	return chain.TxInfo{Tx: tx, BlockHash: &h, Height: ref.Height, Confirmations: int64(top-ref.Height) + 1, Time: ref.Time}
}

// historyOnce fetches and verifies the history of a script that is not
// watched: confirmations up to top are proven, others must validate as
// unconfirmed transactions.
//
// With max > 0 it fetches nothing when the server's list would take the
// transactions already got past max, and returns chain.ErrTooMuchHistory.
func (b *Backend) historyOnce(ctx context.Context, l *link, script []byte, top int32, got map[chainhash.Hash]bool, max int) ([]chain.TxInfo, error) {
	var es []histEntry
	if err := l.call(ctx, l.any(), &es, "blockchain.scripthash.get_history", hashScript(script).String()); err != nil {
		return nil, b.callErr(l, err)
	}
	if max > 0 {
		fresh := 0
		for _, e := range es {
			if id, err := chainhash.NewHashFromStr(e.TxHash); err != nil || !got[*id] {
				fresh++
			}
		}
		if len(got)+fresh > max {
			return nil, chain.TooMuchHistory(max)
		}
	}
	v := &validator{b: b, l: l, parents: map[chainhash.Hash]*parent{}}
	var out []chain.TxInfo
	for _, e := range es {
		id, err := chainhash.NewHashFromStr(e.TxHash)
		if err != nil {
			return nil, b.callErr(l, lie("get_history: bad txid %q", e.TxHash))
		}
		tx, err := b.getTx(ctx, l, *id)
		if err != nil {
			var rpcErr *rpc.Error
			if errors.As(err, &rpcErr) {
				continue
			}
			return nil, b.callErr(l, err)
		}
		if e.Height > 0 && e.Height <= top {
			p, err := v.parent(ctx, wire.OutPoint{Hash: *id, Index: outputTo(tx, script)}, 0)
			if err != nil {
				return nil, b.callErr(l, err)
			}
			if p == nil || p.height != e.Height {
				continue
			}
			ref, err := b.refAt(ctx, l, e.Height)
			if err != nil {
				return nil, err
			}
			out = append(out, confirmedInfo(tx, ref, top))
			continue
		}
		ok, err := v.check(ctx, tx, 0)
		if err != nil {
			return nil, b.callErr(l, err)
		}
		if ok {
			out = append(out, chain.TxInfo{Tx: tx})
		}
	}
	return out, nil
}

// outputTo returns the index of tx's first output paying script (0 when
// none: the tx spends from it).
func outputTo(tx *wire.MsgTx, script []byte) uint32 {
	for i, o := range tx.TxOut {
		if bytes.Equal(o.PkScript, script) {
			return uint32(i)
		}
	}
	return 0
}

// callErr turns an error of a call made outside the processor into the
// caller's: a lie drops the link (the processor moves on), a lost link is
// ErrNotConnected.
func (b *Backend) callErr(l *link, err error) error {
	if errors.Is(err, errLie) {
		l.fail(err)
		return fmt.Errorf("%w: %v", chain.ErrNotConnected, err)
	}
	return err
}

// Transaction looks a transaction up: from the watched histories, or from
// the server (its bytes checked against txid; its block, if any, proven).
// ErrNotFound when the server does not know it.
func (b *Backend) Transaction(ctx context.Context, txid chainhash.Hash) (*chain.TxInfo, error) {
	l, err := b.readyLink()
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	top := b.st.emitted.Height
	if t := b.st.txs[txid]; t != nil && t.tx != nil && (t.height > 0 || t.claimed == 0) {
		tx, height := t.tx, t.height
		b.mu.Unlock()
		if height > 0 && height <= top {
			ref, err := b.refAt(ctx, l, height)
			if err != nil {
				return nil, err
			}
			info := confirmedInfo(tx, ref, top)
			return &info, nil
		}
		return &chain.TxInfo{Tx: tx}, nil
	}
	b.mu.Unlock()
	v := &validator{b: b, l: l, parents: map[chainhash.Hash]*parent{}}
	var raw json.RawMessage
	err = l.call(ctx, l.any(), &raw, "blockchain.transaction.get", txid.String(), true)
	var rpcErr *rpc.Error
	if errors.As(err, &rpcErr) {
		// Unknown, or a server without the verbose form: ask plainly.
		tx, err := b.getTx(ctx, l, txid)
		if errors.As(err, &rpcErr) {
			return nil, fmt.Errorf("transaction %v: %w", txid, chain.ErrNotFound)
		}
		if err != nil {
			return nil, b.callErr(l, err)
		}
		return &chain.TxInfo{Tx: tx}, nil
	}
	if err != nil {
		return nil, b.callErr(l, err)
	}
	var vt verboseTx
	if len(raw) > 0 && raw[0] == '"' {
		err = json.Unmarshal(raw, &vt.Hex)
	} else {
		err = json.Unmarshal(raw, &vt)
	}
	if err != nil {
		return nil, b.callErr(l, lie("transaction.get: %v", err))
	}
	tx, err := b.decodeTx(txid, vt.Hex)
	if err != nil {
		return nil, b.callErr(l, err)
	}
	if vt.BlockHash != "" && vt.Confirmations > 0 {
		if height, ok := v.blockHeight(ctx, vt.BlockHash, vt.Confirmations); ok && height <= top {
			v.parents = map[chainhash.Hash]*parent{}
			p, err := v.parent(ctx, wire.OutPoint{Hash: txid}, 0)
			if err != nil {
				return nil, b.callErr(l, err)
			}
			if p != nil && p.height == height {
				ref, err := b.refAt(ctx, l, height)
				if err != nil {
					return nil, err
				}
				info := confirmedInfo(tx, ref, top)
				return &info, nil
			}
		}
	}
	return &chain.TxInfo{Tx: tx}, nil
}

// Broadcast submits tx (blockchain.transaction.broadcast); a refusal wraps
// chain.ErrRejected with the server's reason.
func (b *Backend) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	l, err := b.readyLink()
	if err != nil {
		return chainhash.Hash{}, err
	}
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		return chainhash.Hash{}, err
	}
	var id string
	err = l.call(ctx, l.any(), &id, "blockchain.transaction.broadcast", hex.EncodeToString(buf.Bytes()))
	var rpcErr *rpc.Error
	if errors.As(err, &rpcErr) {
		// ElectrumX appends the raw transaction: keep the reason.
		msg, _, _ := strings.Cut(rpcErr.Message, "\n[")
		msg = strings.Join(strings.Fields(msg), " ")
		return chainhash.Hash{}, fmt.Errorf("%w: %s", chain.ErrRejected, msg)
	}
	if err != nil {
		return chainhash.Hash{}, err
	}
	want := tx.TxHash()
	if id != want.String() {
		b.log.Warn("electrum: broadcast answered another txid", "sent", want, "answer", id)
	}
	return want, nil
}

// EstimateFee returns blockchain.estimatefee's rate, BTC per kB, converted
// exactly to satoshis per kvB (rounded up); ok is false when the server
// has no estimate (-1).
func (b *Backend) EstimateFee(ctx context.Context, target int) (int64, bool, error) {
	l, err := b.readyLink()
	if err != nil {
		return 0, false, err
	}
	var n json.Number
	if err := l.call(ctx, l.any(), &n, "blockchain.estimatefee", target); err != nil {
		var rpcErr *rpc.Error
		if errors.As(err, &rpcErr) {
			return 0, false, nil
		}
		return 0, false, err
	}
	return coinPerKBToSat(n)
}

// maxFeeRate bounds a believable estimate: 1 coin per kvB.
const maxFeeRate = 100_000_000

// coinPerKBToSat converts a decimal amount of coins per kB (as JSON
// writes it, "0.00012", "1e-05") to satoshis per kB, rounding up, without
// floating point.
func coinPerKBToSat(n json.Number) (int64, bool, error) {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return 0, false, fmt.Errorf("electrum: fee estimate %q is not a number", string(n))
	}
	if r.Sign() <= 0 {
		return 0, false, nil
	}
	r.Mul(r, big.NewRat(100_000_000, 1))
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	if !q.IsInt64() || q.Int64() > maxFeeRate {
		return 0, false, fmt.Errorf("electrum: fee estimate %s per kB is not believable", string(n))
	}
	return q.Int64(), true, nil
}
