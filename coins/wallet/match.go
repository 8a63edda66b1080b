package wallet

import (
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// engineMatcher is the engine as a chain.Matcher: a backend that matches
// blocks and mempool transactions locally asks it, instead of a node-side
// filter holding every tracked script.
type engineMatcher struct{ e *Engine }

var _ chain.Matcher = engineMatcher{}

// WatchesScript reports whether the script index has a candidate owner of
// script (a 64-bit hash: a rare false positive is confirmed or dropped by
// the engine when it applies the transaction), or the script was watched
// since start and is not indexed yet (a wallet in its first load, addresses
// of a gap extension).
func (m engineMatcher) WatchesScript(script []byte) bool {
	e := m.e
	e.mu.RLock()
	_, ok := e.index.one[e.index.hash(script)]
	e.mu.RUnlock()
	if ok {
		return true
	}
	e.pendingMu.Lock()
	_, ok = e.pending[string(script)]
	e.pendingMu.Unlock()
	return ok
}

// WatchesOutpoint reports whether op is an unspent outpoint of a tracked
// wallet. Outputs matched but not applied yet are the backend's to
// remember (chain.LocalMatcher).
func (m engineMatcher) WatchesOutpoint(op wire.OutPoint) bool {
	e := m.e
	e.mu.RLock()
	_, ok := e.owned[op]
	e.mu.RUnlock()
	return ok
}

// addPending adds scripts watched while the engine matches locally; once
// the set has doubled since it was last pruned, the scripts the index has
// by now (their wallet's records committed) leave it.
func (e *Engine) addPending(scripts [][]byte) {
	e.pendingMu.Lock()
	defer e.pendingMu.Unlock()
	for _, s := range scripts {
		e.pending[string(s)] = struct{}{}
	}
	if len(e.pending) < 2*e.pendingAt+1024 {
		return
	}
	e.mu.RLock()
	for s := range e.pending {
		if _, ok := e.index.one[e.index.hash([]byte(s))]; ok {
			delete(e.pending, s)
		}
	}
	e.mu.RUnlock()
	e.pendingAt = len(e.pending)
}
