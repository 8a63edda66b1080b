package wallet

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/walletd/walletd/coins/keys"
)

// Deriving the addresses a block's gap-limit extensions need while the
// block is applied.
//
// A block paying many wallets makes applyBatch extend each one's gap limit
// once the block is committed (extendGaps): an EC multiplication per new
// address, most of a core for 100 ms for a block paying 2,000 wallets, and
// the block is not done until then. Meanwhile the block's store
// transaction runs on one core and then waits for its fsyncs. So once a
// block's transaction has done its work and before it commits, the batch
// starts prederive: on the cores the commit leaves idle it finds the deterministic wallets the block's outputs pay (the same
// index lookups credit makes) and derives the addresses their extensions
// will need as the wallets' counters stand. An address's keys depend only
// on the wallet's public key and the address's chain and index, so a key
// derived ahead is the key extendGaps would derive, whatever happened in
// between: extendGaps takes the keys whose chain and first index match
// what it needs and derives anything else itself.

// prederiveMin is the fewest paid wallets worth a goroutine.
const prederiveMin = 16

// prederived is the derivation started ahead of a batch's extensions.
type prederived struct {
	stop atomic.Bool
	done chan struct{}
	once sync.Once
	mu   sync.Mutex
	keys map[*tracked]*aheadKeys
}

// aheadKeys are keys derived ahead for one wallet: on each chain, the
// keys from index recvFrom (changeFrom) on.
type aheadKeys struct {
	recvFrom, changeFrom uint32
	recv, change         []keys.Key
}

// prederive starts deriving, in the background, what the gap-limit
// extensions of the wallets txs pay will need (nil when they pay fewer
// than prederiveMin wallets). It reads the transactions, never changes
// them.
func (e *Engine) prederive(ctx context.Context, txs []txAt) *prederived {
	uses := map[*tracked]gapUse{}
	var buf [2]packedRef
	for i := range txs {
		for _, out := range txs[i].tx.TxOut {
			for _, c := range e.candidates(e.lockingScript(out.PkScript), buf[:0]) {
				t := e.walletByNum(c.num())
				if t == nil || !t.deterministic() {
					continue
				}
				u := uses[t]
				if c.change() {
					u.change = max(u.change, c.index()+1)
				} else {
					u.recv = max(u.recv, c.index()+1)
				}
				uses[t] = u
			}
		}
	}
	if len(uses) < prederiveMin {
		return nil
	}
	list := make([]*tracked, 0, len(uses))
	for t := range uses {
		list = append(list, t)
	}
	p := &prederived{done: make(chan struct{}), keys: make(map[*tracked]*aheadKeys, len(uses))}
	workers := max(1, runtime.GOMAXPROCS(0)-1)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(list) && !p.stop.Load(); i = int(next.Add(1) - 1) {
				t := list[i]
				if ak := e.deriveAheadOf(ctx, t, uses[t]); ak != nil {
					p.mu.Lock()
					p.keys[t] = ak
					p.mu.Unlock()
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	return p
}

// deriveAheadOf derives the keys wallet t's extension for use u needs as
// its counters stand now (nil when it needs none, or when the wallet is
// busy: its reqMu is held, and prederive does not wait).
func (e *Engine) deriveAheadOf(ctx context.Context, t *tracked, u gapUse) *aheadKeys {
	if !t.reqMu.TryLock() {
		return nil
	}
	r := t.rec
	t.reqMu.Unlock()
	if t.gone.Load() {
		return nil
	}
	var ak aheadKeys
	if upto := u.recv + e.gapLimit(ctx, t, false); upto > r.NextRecv {
		if d := r.derivedRecv(); upto > d {
			ak.recvFrom = d
			ak.recv = e.deriveOrNil(t, false, d, upto-d)
		}
	}
	if upto := u.change + GapChange; upto > r.NextChange {
		ak.changeFrom = r.NextChange
		ak.change = e.deriveOrNil(t, true, r.NextChange, upto-r.NextChange)
	}
	if ak.recv == nil && ak.change == nil {
		return nil
	}
	return &ak
}

// deriveOrNil derives n keys of t's chain from index from (nil on error:
// extendGaps derives them itself and reports the error).
func (e *Engine) deriveOrNil(t *tracked, change bool, from, n uint32) []keys.Key {
	mat, err := e.publicOf(t)
	if err != nil {
		return nil
	}
	ks, err := mat.DeriveRange(change, from, int(n))
	if err != nil {
		return nil
	}
	return ks
}

// finish stops the derivation and waits for it (a nil p does nothing).
// Keys derived so far stay available to take.
func (p *prederived) finish() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		p.stop.Store(true)
		<-p.done
	})
}

// take returns the n keys of t's chain from index from if they were
// derived ahead (nil otherwise). Call after finish.
func (p *prederived) take(t *tracked, change bool, from, n uint32) []keys.Key {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ak := p.keys[t]
	if ak == nil {
		return nil
	}
	ks, at := ak.recv, ak.recvFrom
	if change {
		ks, at = ak.change, ak.changeFrom
	}
	if at != from || uint32(len(ks)) < n {
		return nil
	}
	return ks[:n]
}
