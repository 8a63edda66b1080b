// Package faulttest injects faults into the engine's two dependencies for
// tests: a wallet.Store whose chosen commits fail (after the transaction's
// function ran, so the store rolls it back as a failed disk commit would),
// and a chain.Backend whose chosen calls fail, run with a cancelled
// context, wait, or block until released.
package faulttest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/wallet"
)

// ErrInjected is the error of every injected fault.
var ErrInjected = errors.New("faulttest: injected fault")

// Store is a wallet.Store whose write transactions (Update and Batch
// calls) are counted and can be made to fail.
type Store struct {
	wallet.Store
	mu      sync.Mutex
	commits int
	fail    map[int]bool
}

// NewStore wraps st.
func NewStore(st wallet.Store) *Store { return &Store{Store: st, fail: map[int]bool{}} }

// FailCommit makes the nth write transaction from now fail (1: the next
// one): its function runs, then the transaction is rolled back and the
// call returns ErrInjected.
func (s *Store) FailCommit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail[s.commits+n] = true
}

// Commits returns how many write transactions were started.
func (s *Store) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// Pending reports whether an injected failure has not fired yet.
func (s *Store) Pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for n := range s.fail {
		if n > s.commits {
			return true
		}
	}
	return false
}

func (s *Store) next() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	f := s.fail[s.commits]
	delete(s.fail, s.commits)
	return f
}

func wrap(fail bool, fn func(wallet.KV) error) func(wallet.KV) error {
	if !fail {
		return fn
	}
	return func(kv wallet.KV) error {
		if err := fn(kv); err != nil {
			return err
		}
		return ErrInjected
	}
}

// Update is the wrapped store's Update, failing when chosen.
func (s *Store) Update(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.Update(ctx, wrap(s.next(), fn))
}

// Batch is the wrapped store's Batch, failing when chosen.
func (s *Store) Batch(ctx context.Context, fn func(wallet.KV) error) error {
	return s.Store.Batch(ctx, wrap(s.next(), fn))
}

// Backend methods that faults can target.
const (
	Watch        = "Watch"
	Tip          = "Tip"
	BlockAt      = "BlockAt"
	FilterBlocks = "FilterBlocks"
	History      = "History"
	Transaction  = "Transaction"
	Broadcast    = "Broadcast"
	EstimateFee  = "EstimateFee"
)

// Fault describes what happens to a chosen backend call.
type Fault struct {
	// Method is the call (one of the constants above).
	Method string
	// Nth picks the nth call of Method from when the fault is added (1:
	// the next one); 0 means every call.
	Nth int
	// Scripts, when set, restricts the fault to Watch and History calls
	// whose scripts it accepts (calls it rejects are not counted).
	Scripts func([][]byte) bool
	// Err is returned instead of calling the backend (nil: ErrInjected,
	// unless Cancel, Delay, Block or After is set).
	Err error
	// Cancel runs the call with an already cancelled context.
	Cancel bool
	// Delay waits this long before the call.
	Delay time.Duration
	// Block waits until it is closed (or the call's context ends) before
	// the call.
	Block <-chan struct{}
	// After runs once the call returned (say, to cancel the caller's
	// context just then: the client goes away as the answer arrives).
	After func()
}

type fault struct {
	Fault
	seen int
	done bool
}

// Backend is a chain.Backend whose calls can be made to fail, be cancelled,
// wait or block.
type Backend struct {
	chain.Backend
	mu      sync.Mutex
	faults  []*fault
	calls   map[string]int
	blocked int
}

// NewBackend wraps b.
func NewBackend(b chain.Backend) *Backend { return &Backend{Backend: b, calls: map[string]int{}} }

// Inject adds a fault.
func (b *Backend) Inject(f Fault) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &fault{Fault: f})
}

// Clear removes every fault.
func (b *Backend) Clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = nil
}

// Calls returns how many calls of method were made.
func (b *Backend) Calls(method string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls[method]
}

// Blocked returns how many calls are waiting on a Block fault now.
func (b *Backend) Blocked() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.blocked
}

// Pending reports whether a fault with Nth > 0 has not fired yet.
func (b *Backend) Pending() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range b.faults {
		if f.Nth > 0 && !f.done {
			return true
		}
	}
	return false
}

// before applies the matching fault: it returns the context to call with,
// or the error to return instead, and what to run after the call.
func (b *Backend) before(ctx context.Context, method string, scripts [][]byte) (context.Context, func(), error) {
	ctx, hit, err := b.apply(ctx, method, scripts)
	after := func() {}
	if hit != nil && hit.After != nil {
		after = hit.After
	}
	return ctx, after, err
}

func (b *Backend) apply(ctx context.Context, method string, scripts [][]byte) (context.Context, *fault, error) {
	b.mu.Lock()
	b.calls[method]++
	var hit *fault
	for _, f := range b.faults {
		if f.Method != method || f.done || f.Scripts != nil && !f.Scripts(scripts) {
			continue
		}
		f.seen++
		if f.Nth == 0 || f.seen == f.Nth {
			if f.Nth > 0 {
				f.done = true
			}
			hit = f
			break
		}
	}
	b.mu.Unlock()
	if hit == nil {
		return ctx, nil, nil
	}
	if hit.Delay > 0 {
		t := time.NewTimer(hit.Delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx, hit, ctx.Err()
		}
	}
	if hit.Block != nil {
		b.mu.Lock()
		b.blocked++
		b.mu.Unlock()
		defer func() {
			b.mu.Lock()
			b.blocked--
			b.mu.Unlock()
		}()
		select {
		case <-hit.Block:
		case <-ctx.Done():
			return ctx, hit, ctx.Err()
		}
	}
	if hit.Cancel {
		c, cancel := context.WithCancel(ctx)
		cancel()
		return c, hit, nil
	}
	if hit.Err != nil {
		return ctx, hit, hit.Err
	}
	if hit.Delay == 0 && hit.Block == nil && hit.After == nil {
		return ctx, hit, ErrInjected
	}
	return ctx, hit, nil
}

// Watch is the wrapped backend's, with faults.
func (b *Backend) Watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	ctx, after, err := b.before(ctx, Watch, scripts)
	if err != nil {
		return err
	}
	defer after()
	return b.Backend.Watch(ctx, scripts, ops)
}

// Tip is the wrapped backend's, with faults.
func (b *Backend) Tip(ctx context.Context) (chain.BlockRef, error) {
	ctx, after, err := b.before(ctx, Tip, nil)
	if err != nil {
		return chain.BlockRef{}, err
	}
	defer after()
	return b.Backend.Tip(ctx)
}

// BlockAt is the wrapped backend's, with faults.
func (b *Backend) BlockAt(ctx context.Context, h int32) (chain.BlockRef, error) {
	ctx, after, err := b.before(ctx, BlockAt, nil)
	if err != nil {
		return chain.BlockRef{}, err
	}
	defer after()
	return b.Backend.BlockAt(ctx, h)
}

// FilterBlocks is the wrapped backend's, with faults.
func (b *Backend) FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	ctx, after, err := b.before(ctx, FilterBlocks, nil)
	if err != nil {
		return nil, err
	}
	defer after()
	return b.Backend.FilterBlocks(ctx, hashes)
}

// History is the wrapped backend's, with faults.
func (b *Backend) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	ctx, after, err := b.before(ctx, History, scripts)
	if err != nil {
		return nil, err
	}
	defer after()
	return b.Backend.History(ctx, scripts)
}

// Transaction is the wrapped backend's, with faults.
func (b *Backend) Transaction(ctx context.Context, txid chainhash.Hash) (*chain.TxInfo, error) {
	ctx, after, err := b.before(ctx, Transaction, nil)
	if err != nil {
		return nil, err
	}
	defer after()
	return b.Backend.Transaction(ctx, txid)
}

// Broadcast is the wrapped backend's, with faults.
func (b *Backend) Broadcast(ctx context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	ctx, after, err := b.before(ctx, Broadcast, nil)
	if err != nil {
		return chainhash.Hash{}, err
	}
	defer after()
	return b.Backend.Broadcast(ctx, tx)
}

// EstimateFee is the wrapped backend's, with faults.
func (b *Backend) EstimateFee(ctx context.Context, target int) (int64, bool, error) {
	ctx, after, err := b.before(ctx, EstimateFee, nil)
	if err != nil {
		return 0, false, err
	}
	defer after()
	return b.Backend.EstimateFee(ctx, target)
}
