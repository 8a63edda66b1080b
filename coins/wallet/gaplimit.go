package wallet

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/walletd/walletd/coins/keys"
)

// bGapLimit holds a wallet's receiving gap limit when changed from
// GapReceiving (Electrum's changegaplimit): num → uint32.
const bGapLimit = "gl"

// MaxGapLimit bounds a wallet's gap limit: each unit is one more address
// derived, stored and watched.
const MaxGapLimit = 10_000

// ErrGapLimitRange is returned for a gap limit outside 1..MaxGapLimit.
var ErrGapLimitRange = errors.New("the gap limit must be between 1 and 10000")

// gapLimit returns the receiving gap limit of a wallet (GapChange for the
// change chain, which Electrum does not let users change).
func (e *Engine) gapLimit(ctx context.Context, t *tracked, change bool) uint32 {
	if change {
		return GapChange
	}
	gap := uint32(GapReceiving)
	_ = e.storeOf(t).View(ctx, func(kv KV) error {
		gap = storedGap(kv, t)
		return nil
	})
	return gap
}

// gapLimits returns the receiving gap limits of wallets (as gapLimit),
// read in one transaction per store: a block paying 2,000 wallets checks
// the gap limit of each.
func (e *Engine) gapLimits(ctx context.Context, ts []*tracked) map[*tracked]uint32 {
	gaps := make(map[*tracked]uint32, len(ts))
	byStore := map[Store][]*tracked{}
	for _, t := range ts {
		gaps[t] = GapReceiving
		st := e.storeOf(t)
		byStore[st] = append(byStore[st], t)
	}
	for st, group := range byStore {
		_ = st.View(ctx, func(kv KV) error {
			for _, t := range group {
				gaps[t] = storedGap(kv, t)
			}
			return nil
		})
	}
	return gaps
}

// storedGap reads a wallet's receiving gap limit (GapReceiving unless
// changed).
func storedGap(kv KV, t *tracked) uint32 {
	if v := kv.Get(bGapLimit, t.wk()); len(v) == 4 {
		return binary.BigEndian.Uint32(v)
	}
	return GapReceiving
}

// GapLimit returns the wallet's receiving gap limit.
func (w *Wallet) GapLimit(ctx context.Context) uint32 { return w.e.gapLimit(ctx, w.t, false) }

// MinAcceptableGap is Electrum's min_acceptable_gap: one more than the
// longest run of unused receiving addresses before the last used one.
func (w *Wallet) MinAcceptableGap(ctx context.Context) (uint32, error) {
	addrs, err := w.Addresses(ctx)
	if err != nil {
		return 0, err
	}
	// Runs of unused addresses up to the last used one; the trailing
	// unused addresses do not count.
	var run, longest uint32
	last := -1
	for i, a := range addrs {
		if !a.Change && a.Used {
			last = i
		}
	}
	for i, a := range addrs {
		if i > last {
			break
		}
		if a.Change {
			continue
		}
		if a.Used {
			run = 0
		} else {
			run++
			longest = max(longest, run)
		}
	}
	return longest + 1, nil
}

// SetGapLimit changes the wallet's receiving gap limit, as Electrum's
// change_gap_limit: a limit below MinAcceptableGap is refused (false); a
// larger one derives, watches and backfills the addresses it reveals past
// the last used one.
func (w *Wallet) SetGapLimit(ctx context.Context, n uint32) (bool, error) {
	if n < 1 || n > MaxGapLimit {
		return false, ErrGapLimitRange
	}
	if !w.t.deterministic() {
		return false, keys.ErrNotDeterministic
	}
	minGap, err := w.MinAcceptableGap(ctx)
	if err != nil {
		return false, err
	}
	if n < minGap {
		return false, nil
	}
	addrs, err := w.Addresses(ctx)
	if err != nil {
		return false, err
	}
	var used uint32
	for _, a := range addrs {
		if !a.Change && a.Used {
			used = max(used, a.Index+1)
		}
	}
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], n)
	if err := w.store().Update(ctx, func(kv KV) error {
		return kv.Put(bGapLimit, w.t.wk(), v[:])
	}); err != nil {
		return false, err
	}
	e := w.e
	e.chainMu.Lock()
	err = e.extendGaps(ctx, map[*tracked]gapUse{w.t: {recv: used}}, nil, nil)
	e.chainMu.Unlock()
	if err != nil {
		return false, err
	}
	// The addresses it reveals are watched and their history applied
	// before it returns.
	return true, e.ensureBackfilled(ctx, w.t)
}
