// Package wallet is walletd's wallet engine: it tracks many wallets against
// one chain backend, keeps their history, UTXOs and payment requests in a
// Store, applies blocks atomically with a stored chain cursor (rolling back
// on reorgs), and appends every notification to a durable event log before
// it is published.
//
// Secrets: key material that holds private keys lives only in memory (in
// the loaded wallet), never in the Store; wallets are stored by fingerprint
// with their public key material only.
//
// Locks and I/O. chainMu serialises every change of chain-derived state
// (block, transaction and history application, wallet registration); a
// wallet's reqMu serialises its address allocation; the order is chainMu,
// then reqMu (by wallet id), then a store transaction. None of them is ever
// held across a call to the node: history is fetched first and applied
// under the locks, and every node-side change (watching new scripts) runs
// outside them. In-memory indexes change only after the store transaction
// that records the same change has committed.
package wallet

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// Errors the engine returns; the daemon maps them to contract codes.
var (
	ErrNotSynced       = errors.New("wallet engine is not synchronized with the chain backend yet")
	ErrNoBackend       = errors.New("no chain backend configured (set <COIN>_SERVER)")
	ErrRequestNotFound = errors.New("Request not found")
	ErrGapLimit        = errors.New("Unable to create a new address: the gap limit is reached (use force=true)")
	ErrTxNotFound      = errors.New("Transaction not found")
	// ErrTooManyWallets: tracking one more wallet would pass
	// Config.MaxWallets.
	ErrTooManyWallets = errors.New("too many wallets: the daemon tracks its maximum number of wallets")
)

// Electrum's gap limits.
const (
	GapReceiving = 20
	GapChange    = 10
)

// Defaults of Config fields left zero.
const (
	// DefaultMaxWallets bounds the tracked wallets: each costs about 30
	// scripts in the in-memory index (a few KiB), so a million fits in a
	// few GiB; past it, loading a new wallet fails with ErrTooManyWallets.
	DefaultMaxWallets = 1_000_000
	// DefaultPollingCap is Bitcart's POLLING_CAP default.
	DefaultPollingCap = 100
	// DefaultExpiredRescanWindow: requests expired longer ago than this
	// leave the reconnect rescan (a payment to them still counts when it
	// is mined: their addresses stay watched).
	DefaultExpiredRescanWindow = 7 * 24 * time.Hour
	// DefaultRetryBackoff is the first delay before a failed catch-up or
	// history backfill is tried again; it doubles up to maxRetryBackoff.
	DefaultRetryBackoff = time.Second
	maxRetryBackoff     = time.Minute
	// historyConcurrency bounds the history lookups in flight.
	historyConcurrency = 16
)

// Config configures an Engine.
type Config struct {
	// Coin describes the coin (network, key material, signing, policy).
	Coin Coin
	// Net alone (Coin left zero) means Bitcoin(Net): a Bitcoin-family
	// coin. With Coin set, New sets Net to Coin.Net.
	Net   *params.Network
	Store Store
	// Volatile holds diskless wallets (nothing about them is written to
	// disk); nil refuses diskless wallets.
	Volatile Store
	Backend  chain.Backend // nil: wallet methods fail with ErrNoBackend
	Log      *slog.Logger
	// Publish receives every event after it is durably logged.
	Publish func(Event)
	// PublishBatch, when set, receives instead of Publish each commit's
	// events at once (a block's, a mempool transaction's), in order, after
	// they are durably logged: a websocket hub then knows a burst is whole.
	PublishBatch func([]Event)
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
	// SyncTimeout bounds how long a wallet call waits for sync.
	SyncTimeout time.Duration
	// NoSync makes wallet calls skip the wait for sync.
	NoSync bool
	// PollingCap bounds get_updates' per-wallet queue to its newest
	// PollingCap events; 0 disables the queue (get_updates returns
	// nothing), as Bitcart's POLLING_CAP=0 does. Negative is an error.
	// Daemons pass DefaultPollingCap unless configured.
	PollingCap int
	// IdleEvict drops a loaded wallet's key material from memory after this
	// much idleness (default 10 minutes); it stays tracked.
	IdleEvict time.Duration
	// EventRetention keeps at most this many events (default 1,000,000).
	EventRetention int
	// EventMaxAge drops events older than this (default 30 days).
	EventMaxAge time.Duration
	// MaxWallets bounds the tracked wallets (default DefaultMaxWallets);
	// negative is an error. There is no unlimited setting.
	MaxWallets int
	// ExpiredRescanWindow: requests expired longer ago than this are left
	// out of the rescan made on every (re)connection (default
	// DefaultExpiredRescanWindow).
	ExpiredRescanWindow time.Duration
	// RetryBackoff is the first delay before retrying a failed catch-up,
	// mempool transaction or history backfill (default
	// DefaultRetryBackoff; it doubles up to one minute).
	RetryBackoff time.Duration
	// BackgroundLoad makes New return once the store's schema and chain
	// cursor are read, and read the tracked wallets (their script index,
	// unspent outpoints, pending backfills) in the background: seconds at
	// 100,000 wallets. Until that is done every wallet call waits for it
	// (within SyncTimeout, then ErrNotSynced, even with NoSync), chain
	// events are not followed, and the engine reports no wallet
	// (TotalWallets 0, Synced false). A failure to read them is logged
	// and returned by every wallet call. Without it New reads them
	// itself.
	BackgroundLoad bool
}

// Event is a durably logged notification.
type Event struct {
	Seq uint64
	// WalletID is the fingerprint of the wallet the event is about ("" for
	// global events): stable across key forms and restarts, so consumers
	// match wallets by it rather than by a key string.
	WalletID string
	// WalletKey is the wallet's name on the wire ("" for global events):
	// the public key string a client last used for it, else its stored
	// public key string or master public key (an imported wallet's
	// addresses). Never a seed or private key.
	WalletKey string
	// Record is what happened; the daemon renders it on the wire.
	Record EventRecord
}

// Engine tracks wallets. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger

	// mu guards the in-memory indexes below; chainMu serializes every
	// mutation of chain-derived state (block, tx and history application,
	// wallet registration and removal). The indexes are only written
	// under both, after the store transaction recording the same change
	// committed.
	mu      sync.RWMutex
	chainMu sync.Mutex
	index   *scriptIndex               // pkScript → owners (candidates: see scriptIndex)
	owned   map[wire.OutPoint][]string // unspent wallet outpoints → wallet ids
	wallets walletTable
	byNum   numTable              // the stored wallets by number
	byKey   map[[32]byte]keyEntry // sha256(key string) → wallet, for loaded wallets
	cursor  chain.BlockRef
	moved   chan struct{} // closed and replaced whenever the cursor moves
	synced  bool
	syncCh  chan struct{} // closed when first synced

	// gens are the generations of wallets' cached records, reqs the
	// cached requests (hot.go).
	gens *generations
	reqs requestCaches

	// windows are the wallets with addresses whose history is not applied
	// yet (guarded by chainMu): the transactions applied meanwhile are
	// kept so the backfill can apply them again with the history.
	windows map[*tracked]struct{}
	histSem chan struct{} // bounds history lookups in flight
	// ahead are the wallets queued for a background derivation of
	// addresses ahead (see deriveAheadInBackground), with the index past
	// which they need them; aheadRunning is set while a goroutine drains
	// the queue.
	aheadMu      sync.Mutex
	ahead        map[*tracked]uint32
	aheadRunning bool

	// loaded is closed once the tracked wallets are read from the store
	// (at once without Config.BackgroundLoad); loadErr, set before, is
	// why they could not be.
	loaded  chan struct{}
	loadErr error
	// local is set by Start when the backend matches blocks and mempool
	// transactions against the engine's own index (chain.LocalMatcher):
	// scripts are then not handed to the backend, and pending holds the
	// scripts watched since start that the index does not have yet (see
	// match.go).
	local     atomic.Bool
	pendingMu sync.Mutex
	pending   map[string]struct{}
	pendingAt int // size of pending after its last pruning

	bg       *worker // background retries: backfills, watches, rescans
	bgCtx    context.Context
	bgCancel context.CancelFunc
	lifeMu   sync.Mutex // guards closed and wg.Add
	closed   bool
	stop     chan struct{}
	wg       sync.WaitGroup
}

// tracked is one tracked wallet in memory: its public record, and, while
// loaded, its parsed key material.
type tracked struct {
	// rec's identity fields (ID, Kind, ScriptType, MPK, PublicKey,
	// Imported, Created, Birthday) never change; the counters and Pending
	// change under reqMu, after the store commit that records them.
	rec      walletRecord
	mat      *keys.Material // loaded key material, maybe private (nil while evicted); guarded by Engine.mu
	pub      *keys.Material // public key material, cached while loaded; guarded by Engine.mu
	wireKey  string         // the public key string a client last used; guarded by Engine.mu
	lastUsed atomic.Int64   // unix nanoseconds of the last call naming it
	keyHash  [][32]byte     // hashes of the key strings that loaded mat (entries of Engine.byKey)
	hash1    [1][32]byte    // keyHash's first entry (no allocation for the usual one key string)
	diskless bool           // records live in the volatile store only; guarded by Engine.mu
	reqMu    sync.Mutex     // serializes this wallet's address allocation and record changes
	scanFrom uint32         // receiving addresses below are known taken (guarded by reqMu)

	// job is the backfill slot (capacity 1, made on first use: see slot):
	// whoever holds it runs this wallet's history backfills. A first load
	// holds it until it ends.
	job   atomic.Pointer[chan struct{}]
	dirty atomic.Bool // backfill rows were added since the holder last looked
	// unstored: a new wallet in its first load, not in the store yet
	// (nor numbered, nor indexed); guarded by chainMu.
	unstored bool
	// ready is set once the wallet's first history is applied (or the
	// first load failed and the wallet was forgotten: gone is set). A flag,
	// not a channel: nothing waits on it (a waiter takes the backfill slot),
	// and a channel per wallet would be one more object to mark.
	ready atomic.Bool
	gone  atomic.Bool
	win   []txAt // transactions applied while it has backfill rows (guarded by chainMu)
	// bal is the balance last computed while loaded (hot.go); dropped on unload.
	bal atomic.Pointer[balanceCache]
}

func newTracked(rec walletRecord) *tracked {
	t := &tracked{rec: rec}
	t.ready.Store(!rec.Pending)
	return t
}

func (t *tracked) markReady() { t.ready.Store(true) }

// slot returns the wallet's backfill slot, making it on first use: most
// tracked wallets never run a backfill, and a channel each would be
// 100,000 more objects for the collector to mark.
func (t *tracked) slot() chan struct{} {
	if c := t.job.Load(); c != nil {
		return *c
	}
	c := make(chan struct{}, 1)
	if t.job.CompareAndSwap(nil, &c) {
		return c
	}
	return *t.job.Load()
}

func (t *tracked) isReady() bool { return t.ready.Load() }

// errForgotten: the wallet was removed (a failed first load, a closed
// diskless wallet) while a call was getting hold of it.
var errForgotten = errors.New("wallet: the wallet was removed")

// storeOf returns the store of a tracked wallet's records.
func (e *Engine) storeOf(t *tracked) Store {
	e.mu.RLock()
	diskless := t.diskless
	e.mu.RUnlock()
	if diskless && e.cfg.Volatile != nil {
		return e.cfg.Volatile
	}
	return e.cfg.Store
}

// isDiskless reports whether wallet id keeps its records in memory only.
func (e *Engine) isDiskless(id string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.wallets.get(id)
	return t != nil && t.diskless
}

// keyEntry is what a key string's hash resolves to: the wallet, and
// whether that key string itself holds private keys.
type keyEntry struct {
	t       *tracked // the wallet (entries are removed with it: unload)
	private bool
}

// rememberKey maps a key string's hash to the loaded wallet. Caller holds mu.
func (e *Engine) rememberKey(t *tracked, h [32]byte, private bool) {
	if _, ok := e.byKey[h]; !ok {
		e.byKey[h] = keyEntry{t: t, private: private}
		if t.keyHash == nil {
			t.keyHash = t.hash1[:0]
		}
		t.keyHash = append(t.keyHash, h)
	}
}

// unload drops a wallet's key material and key-string mappings. Caller
// holds mu.
func (e *Engine) unload(t *tracked) {
	t.mat, t.pub = nil, nil
	t.wireKey = ""
	t.bal.Store(nil)
	for _, h := range t.keyHash {
		delete(e.byKey, h)
	}
	t.keyHash = nil
}

// keyString returns keyStr, as the wallet's stored key string when it is
// that string: a loaded wallet then keeps no copy of the call's key.
func (t *tracked) keyString(keyStr string) string {
	if keyStr == t.rec.PublicKey {
		return t.rec.PublicKey
	}
	return keyStr
}

// deterministic reports whether the wallet derives its addresses.
func (t *tracked) deterministic() bool { return len(t.rec.Imported) == 0 }

// New opens the engine over its store: it brings the store's schema up to
// date (ErrStoreVersion for a newer one), reads the chain cursor, and loads
// the tracked wallets' scripts and unspent outpoints into memory (in the
// background with Config.BackgroundLoad).
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Publish == nil {
		cfg.Publish = func(Event) {}
	}
	if cfg.Coin.Net == nil && cfg.Net == nil {
		return nil, errors.New("wallet: no coin or network configured")
	}
	cfg.Coin = coinOf(cfg)
	cfg.Net = cfg.Coin.Net
	if cfg.Coin.Parse == nil || cfg.Coin.Signer == nil || cfg.Coin.RequestID == nil ||
		cfg.Coin.Policy.Dust == nil || cfg.Coin.Policy.FeeFor == nil {
		return nil, errors.New("wallet: the coin description is incomplete (Parse, Signer, RequestID, Policy.Dust, Policy.FeeFor)")
	}
	if cfg.PollingCap < 0 {
		return nil, fmt.Errorf("wallet: PollingCap %d is negative (0 disables get_updates)", cfg.PollingCap)
	}
	if cfg.MaxWallets < 0 {
		return nil, fmt.Errorf("wallet: MaxWallets %d is negative", cfg.MaxWallets)
	}
	if cfg.MaxWallets == 0 {
		cfg.MaxWallets = DefaultMaxWallets
	}
	if cfg.SyncTimeout <= 0 {
		cfg.SyncTimeout = 30 * time.Second
	}
	if cfg.IdleEvict <= 0 {
		cfg.IdleEvict = 10 * time.Minute
	}
	if cfg.EventRetention <= 0 {
		cfg.EventRetention = 1_000_000
	}
	if cfg.EventMaxAge <= 0 {
		cfg.EventMaxAge = 30 * 24 * time.Hour
	}
	if cfg.ExpiredRescanWindow <= 0 {
		cfg.ExpiredRescanWindow = DefaultExpiredRescanWindow
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	from, err := migrate(ctx, cfg.Store, cfg.Net)
	if err != nil {
		return nil, err
	}
	if from < SchemaVersion {
		cfg.Log.Info("wallet store migrated", "from", from, "to", SchemaVersion)
	}
	e := &Engine{cfg: cfg, log: cfg.Log, index: newScriptIndex(), owned: map[wire.OutPoint][]string{},
		byKey: map[[32]byte]keyEntry{}, syncCh: make(chan struct{}), moved: make(chan struct{}),
		windows: map[*tracked]struct{}{}, histSem: make(chan struct{}, historyConcurrency), stop: make(chan struct{}),
		gens: new(generations), loaded: make(chan struct{}), pending: map[string]struct{}{}}
	e.cfg.Store, e.cfg.Volatile = e.noting(cfg.Store), e.noting(cfg.Volatile) // hot.go: cache invalidation
	e.bgCtx, e.bgCancel = context.WithCancel(context.Background())
	e.bg = newWorker(e)
	if err := cfg.Store.View(ctx, func(kv KV) error {
		var err error
		e.cursor, err = getCursor(kv)
		return err
	}); err != nil {
		return nil, fmt.Errorf("wallet: loading store: %w", err)
	}
	if !cfg.BackgroundLoad {
		if err := e.loadTracked(ctx); err != nil {
			return nil, err
		}
		return e, nil
	}
	// The loader holds chainMu until the wallets are installed: whatever
	// changes chain-derived state (AddTransaction, …) waits for them.
	e.chainMu.Lock()
	e.spawn(func() {
		t0 := time.Now()
		err := e.loadTracked(e.bgCtx)
		e.chainMu.Unlock()
		if err != nil {
			if e.bgCtx.Err() == nil {
				e.log.Error("reading the tracked wallets from the store failed: wallet calls fail", "err", err)
			}
			return
		}
		e.log.Info("tracked wallets read", "wallets", e.TotalWallets(), "scripts", e.scriptCount(), "took", time.Since(t0))
		// Then the derivation table, so that the first new wallet
		// does not wait for it.
		keys.PrepareDerivation()
	})
	return e, nil
}

// scriptCount returns the number of entries of the script index.
func (e *Engine) scriptCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.index.len()
}

// loadTracked reads the tracked wallets, their script index, unspent
// outpoints and pending backfills from the store and installs them, then
// closes loaded (with loadErr set on failure). The caller holds chainMu
// or nobody else has the engine yet.
func (e *Engine) loadTracked(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("wallet: loading store: %w", err)
			e.loadErr = err
		}
		close(e.loaded)
	}()
	cfg := e.cfg
	index := newScriptIndex()
	owned := map[wire.OutPoint][]string{}
	var wallets walletTable
	var byNum numTable
	ld := newTrackLoader()
	windows := map[*tracked]struct{}{}
	used := map[*tracked]gapUse{} // how far each wallet's coins use its chains
	gaps := map[*tracked]uint32{} // each wallet's receiving gap limit
	err = cfg.Store.View(ctx, func(kv KV) error {
		if err := kv.Scan(bWallets, nil, nil, func(k, v []byte) error {
			var rec walletRecord
			if err := decodeRec(v, &rec); err != nil {
				return err
			}
			storedNextRecv(kv, &rec)
			t := ld.track(rec)
			wallets.set(t.rec.ID, t)
			byNum.set(rec.Num, t)
			gaps[t] = storedGap(kv, t)
			return nil
		}); err != nil {
			return err
		}
		// The script index is derived from the address records.
		n := 0
		if err := kv.Scan(bAddrs, nil, nil, func(k, v []byte) error {
			if n++; n%(1<<16) == 0 && ctx.Err() != nil {
				return ctx.Err() // Close during a long read
			}
			num := binary.BigEndian.Uint32(k)
			if byNum.get(num) == nil {
				return nil
			}
			var a addrRecord
			if err := decodeRec(v, &a); err != nil {
				return err
			}
			index.add(a.PkScript, num, k[numLen] == 1, binary.BigEndian.Uint32(k[numLen+1:]))
			return nil
		}); err != nil {
			return err
		}
		// Wallets with addresses whose history is not applied yet get
		// their window now: blocks applied during catch-up are kept for
		// their backfill.
		if err := kv.Scan(bBackfill, nil, nil, func(k, _ []byte) error {
			if t := byNum.get(binary.BigEndian.Uint32(k)); t != nil {
				windows[t] = struct{}{}
			}
			return nil
		}); err != nil {
			return err
		}
		return kv.Scan(bUTXOs, nil, nil, func(k, v []byte) error {
			var u utxoRecord
			if err := decodeRec(v, &u); err != nil {
				return err
			}
			t := byNum.get(binary.BigEndian.Uint32(k))
			if t == nil {
				return nil
			}
			if u.SpentHeight == 0 {
				op := outpointFromKey(k[numLen:])
				owned[op] = append(owned[op], t.rec.ID)
			}
			g := used[t]
			if u.Change {
				g.change = max(g.change, u.Index+1)
			} else {
				g.recv = max(g.recv, u.Index+1)
			}
			used[t] = g
			return nil
		})
	})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.index, e.owned, e.wallets, e.byNum = index, owned, wallets, byNum
	e.mu.Unlock()
	e.windows = windows // guarded by chainMu, which the caller holds
	// A crash between a batch and its gap-limit extension leaves used
	// addresses too close to the end of a chain: extend them at start.
	lagging := map[*tracked]gapUse{}
	for t, g := range used {
		if t.deterministic() && (g.recv > 0 && g.recv+gaps[t] > t.rec.NextRecv || g.change > 0 && g.change+GapChange > t.rec.NextChange) {
			lagging[t] = g
		}
	}
	if len(lagging) > 0 {
		cfg.Log.Info("extending gap limits left behind by an interrupted run", "wallets", len(lagging))
		e.bg.retryExtensions(lagging)
	}
	for t := range e.windows {
		t.dirty.Store(true)
	}
	return nil
}

// awaitLoaded waits until the tracked wallets are read (see
// Config.BackgroundLoad), ctx ends or timer fires (ErrNotSynced).
func (e *Engine) awaitLoaded(ctx context.Context, timer <-chan time.Time) error {
	select {
	case <-e.loaded:
		return e.loadErr
	default:
	}
	select {
	case <-e.loaded:
		return e.loadErr
	case <-timer:
		return fmt.Errorf("%w: still reading the tracked wallets from the store", ErrNotSynced)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Start starts following the backend (if any) in the background, and the
// background work: backfills left by a previous run, retries, maintenance.
// A backend that matches locally (chain.LocalMatcher) is given the
// engine's index to match with. With Config.BackgroundLoad all of it waits
// (in the background) until the tracked wallets are read, the backend's
// own Start included.
func (e *Engine) Start(ctx context.Context) error {
	if e.cfg.Backend == nil {
		return nil
	}
	if lm, ok := e.cfg.Backend.(chain.LocalMatcher); ok && lm.MatchLocally(engineMatcher{e}) {
		e.local.Store(true)
		e.log.Info("the chain backend matches blocks and mempool transactions against the engine's index (no node-side filter)")
	}
	select {
	case <-e.loaded:
		if e.loadErr != nil {
			return e.loadErr
		}
		return e.startFollowing(ctx)
	default:
	}
	if !e.spawn(func() {
		select {
		case <-e.loaded:
		case <-e.stop:
			return
		}
		if e.loadErr != nil {
			return
		}
		if err := e.startFollowing(e.bgCtx); err != nil && e.bgCtx.Err() == nil {
			e.log.Error("starting the chain backend", "err", err)
		}
	}) {
		return errors.New("wallet: engine closed")
	}
	return nil
}

// startFollowing starts the backend, hands it every tracked script (unless
// it matches locally) and starts the goroutines that follow it.
func (e *Engine) startFollowing(ctx context.Context) error {
	events, err := e.cfg.Backend.Start(ctx)
	if err != nil {
		return err
	}
	if !e.local.Load() {
		if err := e.watchAll(ctx); err != nil {
			e.log.Warn("initial watch", "err", err)
		}
	}
	if !e.spawn(func() { e.follow(events) }) || !e.spawn(e.janitor) || !e.spawn(e.bg.run) {
		return errors.New("wallet: engine closed")
	}
	e.chainMu.Lock()
	pending := make([]*tracked, 0, len(e.windows))
	for t := range e.windows {
		pending = append(pending, t)
	}
	e.chainMu.Unlock()
	e.kick(pending...)
	return nil
}

// spawn runs f in a goroutine the engine waits for on Close; false after
// Close.
func (e *Engine) spawn(f func()) bool {
	e.lifeMu.Lock()
	defer e.lifeMu.Unlock()
	if e.closed {
		return false
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		f()
	}()
	return true
}

// Close stops following and every background task; the store is the
// caller's to close.
func (e *Engine) Close() {
	e.lifeMu.Lock()
	if !e.closed {
		e.closed = true
		close(e.stop)
		if e.bgCancel != nil {
			e.bgCancel()
		}
	}
	e.lifeMu.Unlock()
	e.wg.Wait()
}

// watchChunk is how many scripts watchAll hands the backend at once.
const watchChunk = 10_000

// watchAll adds every tracked script (read from the address records: the
// index keeps none) and unspent outpoint to the backend's filter, a chunk
// at a time.
func (e *Engine) watchAll(ctx context.Context) error {
	var chunk [][]byte
	flush := func() error {
		err := e.watch(ctx, chunk, nil)
		chunk = chunk[:0]
		return err
	}
	err := e.view(ctx, func(s kvs) error {
		for _, kv := range s.all() {
			if err := kv.Scan(bAddrs, nil, nil, func(_, v []byte) error {
				var a addrRecord
				if err := decodeRec(v, &a); err != nil {
					return err
				}
				if chunk = append(chunk, a.PkScript); len(chunk) == watchChunk {
					return flush()
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flush(); err != nil {
		return err
	}
	return e.watch(ctx, nil, e.ownedOutpoints())
}

func (e *Engine) ownedOutpoints() []wire.OutPoint {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([]wire.OutPoint, 0, len(e.owned))
	for op := range e.owned {
		out = append(out, op)
	}
	return out
}

// watch adds scripts and outpoints to the backend's filter; with a backend
// that matches locally, the scripts join the pending set it matches with
// until the index has them (outpoints it learns by itself).
func (e *Engine) watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	if e.cfg.Backend == nil || len(scripts) == 0 && len(ops) == 0 {
		return nil
	}
	if e.local.Load() {
		e.addPending(scripts)
		return nil
	}
	return e.cfg.Backend.Watch(ctx, scripts, ops)
}

// Synced reports whether the engine has caught up with the backend's tip.
func (e *Engine) Synced() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.synced
}

// setCursorLocked moves the in-memory cursor and wakes those waiting for
// it. Caller holds mu.
func (e *Engine) setCursorLocked(ref chain.BlockRef) {
	e.cursor = ref
	close(e.moved)
	e.moved = make(chan struct{})
}

// waitHeight waits until the cursor reaches height h (true), ctx ends or
// limit passes (false).
func (e *Engine) waitHeight(ctx context.Context, h int32, limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		e.mu.RLock()
		reached, moved := e.cursor.Height >= h, e.moved
		e.mu.RUnlock()
		if reached {
			return true
		}
		select {
		case <-moved:
		case <-ctx.Done():
			return false
		case <-t.C:
			return false
		}
	}
}

// Height returns the height of the last applied block.
func (e *Engine) Height() int32 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.cursor.Height
}

// TotalWallets returns the number of tracked wallets.
func (e *Engine) TotalWallets() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.wallets.len()
}

// waitSynced blocks until the engine is synced, ctx ends or SyncTimeout
// passes (ErrNotSynced); NoSync skips the wait for sync, not the one for
// the tracked wallets (Config.BackgroundLoad).
func (e *Engine) waitSynced(ctx context.Context) error {
	if e.cfg.Backend == nil {
		return ErrNoBackend
	}
	select {
	case <-e.loaded: // the common case: no timer to make and stop per call
		if e.loadErr != nil {
			return e.loadErr
		}
		if e.cfg.NoSync {
			return nil
		}
		select {
		case <-e.syncCh:
			return nil
		default:
		}
	default:
	}
	t := time.NewTimer(e.cfg.SyncTimeout)
	defer t.Stop()
	if err := e.awaitLoaded(ctx, t.C); err != nil {
		return err
	}
	if e.cfg.NoSync {
		return nil
	}
	select {
	case <-e.syncCh:
		return nil
	case <-t.C:
		return ErrNotSynced
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wallet is a handle on a loaded wallet for one call. It holds the key
// material that call carried: private keys only when the call's own key
// string had them, so a call made with the xpub never signs, whatever
// another call loaded, and an eviction or close_wallet during the call
// does not change what it may do.
type Wallet struct {
	e   *Engine
	t   *tracked
	ID  string
	mat *keys.Material
}

// CanSign reports whether this call may sign: its own key string holds
// private keys.
func (w *Wallet) CanSign() bool { return w.mat.HasPrivateKeys() }

// Material returns the key material of this call: with private keys only
// when the call's key string had them.
func (w *Wallet) Material() *keys.Material { return w.mat }

// Open returns the wallet named by key material keyStr, loading it on first
// use: parse, derive the gap-limit addresses, store its public record, add
// its scripts to the index and the backend filter, and backfill its history.
// Later calls with the same wallet (under any of its key forms) reuse it.
func (e *Engine) Open(ctx context.Context, keyStr string) (*Wallet, error) {
	return e.OpenWith(ctx, keyStr, OpenOptions{})
}

// OpenOptions adjust how a wallet is loaded.
type OpenOptions struct {
	// Diskless keeps every record of a new wallet in the volatile store:
	// nothing about it is written to disk, and it is forgotten on restart
	// or when it is closed (CloseWallet). A wallet already tracked on disk
	// stays there; a later open without Diskless moves a diskless wallet
	// to the durable store (its requests then survive restarts).
	Diskless bool
}

// ErrDisklessUnsupported is returned for a diskless wallet when the engine
// has no volatile store.
var ErrDisklessUnsupported = errors.New("diskless wallets are not supported by this engine")

// OpenWith is Open with options (see OpenOptions).
func (e *Engine) OpenWith(ctx context.Context, keyStr string, opts OpenOptions) (*Wallet, error) {
	// A loaded wallet is found by a hash of the key string, without
	// parsing it again (parsing costs base58 and EC work per call).
	h := sha256.Sum256([]byte(keyStr))
	if w := e.openLoaded(h, keyStr); w != nil {
		if err := e.waitSynced(ctx); err != nil {
			return nil, err
		}
		if w, err := e.finishOpen(ctx, w, opts); !errors.Is(err, errForgotten) {
			return w, err
		}
	}
	mat, err := e.cfg.Coin.Parse(keyStr, e.cfg.Net)
	if err != nil {
		return nil, err
	}
	if err := e.waitSynced(ctx); err != nil {
		return nil, err
	}
	id := mat.Fingerprint()
	for attempt := 0; ; attempt++ {
		e.mu.Lock()
		t := e.wallets.get(id)
		if t != nil {
			e.load(t, h, keyStr, mat)
		}
		e.mu.Unlock()
		var w *Wallet
		if t == nil {
			w, err = e.create(ctx, keyStr, mat, opts)
		} else {
			w, err = e.finishOpen(ctx, &Wallet{e: e, t: t, ID: id, mat: mat}, opts)
		}
		if !errors.Is(err, errForgotten) || attempt >= 3 {
			return w, err
		}
	}
}

// openLoaded returns a handle on the loaded wallet of key string hash h,
// or nil when it must be parsed.
func (e *Engine) openLoaded(h [32]byte, keyStr string) *Wallet {
	e.mu.RLock()
	ke := e.byKey[h]
	t := ke.t
	if t == nil || t.mat == nil {
		e.mu.RUnlock()
		return nil
	}
	mat := t.pub
	if ke.private {
		mat = t.mat
	}
	newKey := !ke.private && t.wireKey != keyStr
	t.lastUsed.Store(e.cfg.Now().UnixNano())
	e.mu.RUnlock()
	if mat == nil || ke.private && !mat.HasPrivateKeys() {
		return nil
	}
	if newKey {
		e.mu.Lock()
		t.wireKey = t.keyString(keyStr)
		e.mu.Unlock()
	}
	return &Wallet{e: e, t: t, ID: t.rec.ID, mat: mat}
}

// load records key material a call parsed on its tracked wallet. Caller
// holds mu.
func (e *Engine) load(t *tracked, h [32]byte, keyStr string, mat *keys.Material) {
	private := mat.HasPrivateKeys()
	if t.mat == nil || private && !t.mat.HasPrivateKeys() {
		t.mat = mat
	}
	if !private {
		if t.pub == nil {
			t.pub = mat
		}
		t.wireKey = t.keyString(keyStr)
	}
	t.lastUsed.Store(e.cfg.Now().UnixNano())
	e.rememberKey(t, h, private)
}

// finishOpen waits until the wallet's first history is applied (running
// the backfill when a crash left it pending), and moves a diskless wallet
// to the durable store on a durable open.
func (e *Engine) finishOpen(ctx context.Context, w *Wallet, opts OpenOptions) (*Wallet, error) {
	if err := e.awaitReady(ctx, w.t); err != nil {
		return nil, err
	}
	if !opts.Diskless && e.isDiskless(w.ID) {
		if err := e.promote(ctx, w.t); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// awaitReady returns once t's first history is applied; errForgotten when
// t was removed meanwhile.
func (e *Engine) awaitReady(ctx context.Context, t *tracked) error {
	if t.isReady() {
		if t.gone.Load() {
			return errForgotten
		}
		return nil
	}
	// A first load in progress holds the backfill slot: wait for it, then
	// finish what it left (a crash or a failure may leave it pending).
	select {
	case t.slot() <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := e.backfillLoop(ctx, t)
	e.release(t)
	if t.gone.Load() {
		return errForgotten
	}
	if err != nil {
		return fmt.Errorf("loading the wallet's history: %w", err)
	}
	return nil
}

// create tracks a new wallet. It is enlisted in memory (concurrent opens
// of it wait, and the transactions the engine applies from then on are
// kept in its window), its addresses are derived (CPU) in chunks, the
// scripts of each chunk watched and their history fetched while the next
// chunk is derived (no lock held), and then, in one store
// transaction under chainMu, the wallet is recorded with its addresses,
// its history and the window's transactions that concern it applied: one
// commit, after which it is indexed and handed out. If that cannot be
// done, nothing of it was stored: it is dropped from memory and the error
// returned. The work after enlisting runs to its end even when the caller
// goes away.
func (e *Engine) create(ctx context.Context, keyStr string, mat *keys.Material, opts OpenOptions) (*Wallet, error) {
	if opts.Diskless && e.cfg.Volatile == nil {
		return nil, ErrDisklessUnsupported
	}
	id := mat.Fingerprint()
	rec := walletRecord{ID: id, Kind: mat.Kind().String(), ScriptType: mat.ScriptType().String(),
		MPK: mat.MasterPublicKey(), Created: e.cfg.Now(), Birthday: e.Height(), Pending: true}
	if !mat.HasPrivateKeys() {
		rec.PublicKey = keyStr
	}
	t := newTracked(rec)
	t.unstored = true
	t.mat, t.diskless = mat, opts.Diskless
	if !mat.HasPrivateKeys() {
		t.pub, t.wireKey = mat, keyStr
	}
	t.lastUsed.Store(e.cfg.Now().UnixNano())
	// The key steps of the first load (see firstLoad): an imported
	// wallet's keys at once; a deterministic one's addresses in chunks of
	// firstLoadChunk, so that the node looks the first ones up while the
	// next are derived. The record's counters are those the steps reach.
	var steps []func() ([]newKey, error)
	if mat.Deterministic() {
		recv, change := t.rec, t.rec
		for n := 0; n < GapReceiving; n += firstLoadChunk {
			steps = append(steps, func() ([]newKey, error) {
				return deriveKeys(mat, &recv, false, min(firstLoadChunk, GapReceiving-n))
			})
		}
		for n := 0; n < GapChange; n += firstLoadChunk {
			steps = append(steps, func() ([]newKey, error) {
				return deriveKeys(mat, &change, true, min(firstLoadChunk, GapChange-n))
			})
		}
		t.rec.DerivedRecv, t.rec.NextRecv, t.rec.NextChange = GapReceiving, GapReceiving, GapChange
	} else {
		var ks []newKey
		for i, k := range mat.Imported() {
			t.rec.Imported = append(t.rec.Imported, k.Address)
			ks = append(ks, newKey{k: k, index: uint32(i)})
		}
		steps = append(steps, func() ([]newKey, error) { return ks, nil })
	}
	// Hold the backfill slot: a concurrent open of the same wallet waits
	// for this load to end.
	t.slot() <- struct{}{}
	if err := e.enlist(t, sha256.Sum256([]byte(keyStr)), mat.HasPrivateKeys()); err != nil {
		<-t.slot()
		return nil, err
	}
	bctx := context.WithoutCancel(ctx)
	err := e.firstLoad(bctx, t, steps)
	if err != nil {
		e.drop(t)
	}
	e.release(t)
	if err != nil {
		return nil, fmt.Errorf("loading the wallet's history: %w", err)
	}
	return &Wallet{e: e, t: t, ID: id, mat: mat}, nil
}

// enlist makes a new wallet known in memory (not in the store, not in the
// script index): concurrent opens find it and wait for its first load,
// and its window opens. errForgotten when it was created concurrently.
func (e *Engine) enlist(t *tracked, h [32]byte, private bool) error {
	id := t.rec.ID
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.wallets.get(id) != nil {
		return errForgotten // the caller opens the other one
	}
	if e.wallets.len() >= e.cfg.MaxWallets {
		return ErrTooManyWallets
	}
	e.wallets.set(id, t)
	e.rememberKey(t, h, private)
	e.windows[t] = struct{}{}
	return nil
}

// firstLoadChunk is how many addresses of a new wallet are derived before
// the node is asked about them: the node looks a chunk up while the next
// is derived (a first load's two costs, about equal, overlap).
const firstLoadChunk = 10

// firstLoad runs steps (each derives some of a new wallet's keys, CPU
// only), watches the scripts of each step and fetches their history as
// soon as the step is done, while the next step runs, then records the
// wallet with its keys and history (see create). Caller holds t's slot.
func (e *Engine) firstLoad(ctx context.Context, t *tracked, steps []func() ([]newKey, error)) error {
	type lookup struct {
		hist []txAt
		err  error
		done chan struct{}
	}
	var (
		ks      []newKey
		lookups []*lookup
		errs    []error
	)
	for _, step := range steps {
		more, err := step()
		if err != nil {
			errs = append(errs, err)
			break
		}
		ks = append(ks, more...)
		scripts := make([][]byte, len(more))
		for i, k := range more {
			scripts[i] = k.k.PkScript
		}
		l := &lookup{done: make(chan struct{})}
		lookups = append(lookups, l)
		go func() {
			defer close(l.done)
			l.hist, l.err = e.watchHistory(ctx, scripts)
		}()
	}
	parts := make([][]txAt, 0, len(lookups))
	for _, l := range lookups {
		<-l.done
		errs = append(errs, l.err)
		parts = append(parts, l.hist)
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	hist := mergeHistory(parts)
	scripts := make([][]byte, len(ks))
	for i, k := range ks {
		scripts[i] = k.k.PkScript
	}
	e.awaitBlocksOf(ctx, hist)
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	if t.gone.Load() {
		return errForgotten
	}
	var fresh *freshWallet
	return e.applyBatch(ctx, batch{txs: append(hist, e.relevantWindow(t.win, hist, scripts)...), history: true,
		lock: []*tracked{t},
		prepare: func(a *applier) error {
			// The wallet's number, record, addresses and get_updates
			// cursor, before its history is credited.
			num, err := a.s.disk.NextSequence(bNums)
			if err != nil {
				return err
			}
			if num > maxWalletNum {
				return ErrTooManyWallets
			}
			rec := t.rec
			rec.Num, rec.Pending = uint32(num), false
			kv := a.kv(t.rec.ID)
			if err := e.storeKeys(kv, rec.Num, ks); err != nil {
				return err
			}
			last, err := lastSeq(a.s)
			if err != nil {
				return err
			}
			if err := kv.Put(bPolls, []byte(rec.ID), u64(last)); err != nil {
				return err
			}
			if err := putRec(kv, bWallets, numKey(rec.Num), rec); err != nil {
				return err
			}
			fresh = &freshWallet{t: t, num: rec.Num, index: newScriptIndex()}
			for _, k := range ks {
				fresh.index.add(k.k.PkScript, rec.Num, k.change, k.index)
			}
			a.fresh = fresh
			return nil
		},
		after: func() {
			e.mu.Lock()
			t.rec.Num, t.rec.Pending, t.unstored = fresh.num, false, false
			e.byNum.set(t.rec.Num, t)
			e.indexLocked(t.rec.Num, ks)
			e.mu.Unlock()
			delete(e.windows, t)
			t.win = nil
			t.markReady()
		},
	})
}

// watchHistory watches a new wallet's scripts, then fetches their history
// (fetchHistory): in one exchange with the node when the backend can
// (chain.WatchHistorian; a first load waits for it), else Watch then
// History. A backend that cannot look history up still has to watch them.
func (e *Engine) watchHistory(ctx context.Context, scripts [][]byte) ([]txAt, error) {
	wh, ok := e.cfg.Backend.(chain.WatchHistorian)
	// A backend matching against the engine's own index (chain.LocalMatcher)
	// watches nothing node-side: the scripts go to the engine's pending set
	// (watch) before the lookup, so nothing paid meanwhile is missed.
	ok = ok && !e.local.Load()
	if ok {
		hist, err := e.lookupHistory(ctx, func(ctx context.Context) ([]chain.TxInfo, error) {
			return wh.WatchHistory(ctx, scripts)
		})
		if err != nil || hist != nil {
			return hist, err
		}
		// No history: there is none, or the backend cannot look it up
		// (and may not have watched the scripts); watching them again
		// is harmless.
	}
	if err := e.watch(ctx, scripts, nil); err != nil {
		return nil, fmt.Errorf("watching: %w", err)
	}
	if ok {
		return nil, nil
	}
	return e.fetchHistory(ctx, scripts)
}

// mergeHistory joins the histories of a wallet's chunks (fetchHistory's
// order in each): a transaction touching scripts of two chunks comes once,
// in its confirmed state if either lookup saw it mined, and the whole is in
// chain order, confirmed by height, then mempool ones.
func mergeHistory(parts [][]txAt) []txAt {
	if len(parts) == 1 {
		return parts[0]
	}
	var out []txAt
	at := map[chainhash.Hash]int{}
	for _, part := range parts {
		for _, h := range part {
			id := h.tx.TxHash()
			if i, ok := at[id]; ok {
				if out[i].block == nil && h.block != nil {
					out[i] = h
				}
				continue
			}
			at[id] = len(out)
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return chainOrder(out[i].height, out[j].height, time.Time{}, time.Time{})
	})
	return out
}

// freshWallet is the wallet a first load records, while its batch runs:
// it is neither numbered in memory nor indexed until the batch commits.
type freshWallet struct {
	t     *tracked
	num   uint32
	index *scriptIndex // its scripts
}

// drop forgets a wallet whose first load failed: nothing of it was
// stored, so only memory changes. Caller holds t's slot.
func (e *Engine) drop(t *tracked) {
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	if t.gone.Load() {
		return
	}
	e.mu.Lock()
	if e.wallets.get(t.rec.ID) == t {
		e.wallets.del(t.rec.ID)
	}
	e.unload(t)
	e.mu.Unlock()
	t.gone.Store(true)
	delete(e.windows, t)
	t.win = nil
	t.markReady()
}

// newKey is a derived (or imported) key not yet recorded.
type newKey struct {
	k      keys.Key
	change bool
	index  uint32
}

// deriveKeys derives n more keys on a chain of rec (CPU only) and advances
// rec's derived count (receiving: DerivedRecv; change: NextChange). rec is
// the caller's copy: nothing shared changes.
func deriveKeys(mat *keys.Material, rec *walletRecord, change bool, n int) ([]newKey, error) {
	next := rec.derivedRecv()
	if change {
		next = rec.NextChange
	}
	ks, err := mat.DeriveRange(change, next, n)
	if err != nil {
		return nil, err
	}
	out := make([]newKey, len(ks))
	for i, k := range ks {
		out[i] = newKey{k: k, change: change, index: next + uint32(i)}
	}
	if change {
		rec.NextChange = next + uint32(n)
	} else {
		rec.DerivedRecv = next + uint32(n)
	}
	return out, nil
}

// indexLocked adds wallet num's keys to the in-memory script index.
// Caller holds mu.
func (e *Engine) indexLocked(num uint32, ks []newKey) {
	for _, k := range ks {
		e.index.add(k.k.PkScript, num, k.change, k.index)
	}
}

// indexKeys adds wallet num's keys to the in-memory script index.
func (e *Engine) indexKeys(num uint32, ks []newKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.indexLocked(num, ks)
}

// candidates returns the index's candidate owners of script (see
// scriptIndex), appended to buf.
func (e *Engine) candidates(script []byte, buf []packedRef) []packedRef {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.index.candidates(script, buf)
}

// confirmRef reports whether the address record of r (in kv, the store of
// r's wallet) holds script: whether the index's candidate is an owner.
func confirmRef(kv KV, r packedRef, script []byte) (bool, error) {
	var a addrRecord
	found, err := getRec(kv, bAddrs, addrKey(r.num(), r.change(), r.index()), &a)
	return found && bytes.Equal(a.PkScript, script), err
}

// walletRef returns t's reference for script, if script is one of its
// addresses.
func (e *Engine) walletRef(t *tracked, script []byte) (scriptRef, bool) {
	var buf [2]packedRef
	for _, c := range e.candidates(script, buf[:0]) {
		if c.num() != t.rec.Num {
			continue
		}
		ok := false
		err := e.storeOf(t).View(context.Background(), func(kv KV) error {
			var err error
			ok, err = confirmRef(kv, c, script)
			return err
		})
		if err == nil && ok {
			return scriptRef{Wallet: t.rec.ID, Change: c.change(), Index: c.index()}, true
		}
	}
	return scriptRef{}, false
}

// maxWalletNum bounds wallet numbers (the script index packs them in 31
// bits).
const maxWalletNum = 1<<31 - 1

// storeKeys records wallet num's keys; the script index is rebuilt from
// them at start-up. An address that is its script's own encoding is not
// stored (getAddr derives it).
func (e *Engine) storeKeys(kv KV, num uint32, ks []newKey) error {
	for _, k := range ks {
		a := addrRecord{Address: k.k.Address, PkScript: k.k.PkScript, PubKey: k.k.PubKey}
		if own, ok := e.cfg.Net.AddressFromScript(a.PkScript); ok && own == a.Address {
			a.own = true
		}
		if err := putRec(kv, bAddrs, addrKey(num, k.change, k.index), a); err != nil {
			return err
		}
	}
	return nil
}

// addrKey is the key of an address record (and of its backfill row).
func addrKey(num uint32, change bool, index uint32) []byte {
	return key(numKey(num), chainByte(change), u32(index))
}

// getAddr reads an address record, deriving its address when the record
// does not hold it.
func (e *Engine) getAddr(kv KV, k []byte) (addrRecord, bool, error) {
	var a addrRecord
	found, err := getRec(kv, bAddrs, k, &a)
	if err != nil || !found {
		return a, found, err
	}
	e.fillAddr(&a)
	return a, true, nil
}

// fillAddr sets the address of a decoded record that does not hold it.
func (e *Engine) fillAddr(a *addrRecord) {
	if a.Address == "" {
		a.Address, _ = e.cfg.Net.AddressFromScript(a.PkScript)
	}
}

// addBackfill records that the history of keys is to be fetched and
// applied.
func addBackfill(kv KV, num uint32, ks []newKey) error {
	for _, k := range ks {
		if err := kv.Put(bBackfill, addrKey(num, k.change, k.index), k.k.PkScript); err != nil {
			return err
		}
	}
	return nil
}

// wk is the key prefix of the wallet's records.
func (t *tracked) wk() []byte { return numKey(t.rec.Num) }

// walletByNum returns tracked wallet number num (nil when not tracked).
func (e *Engine) walletByNum(num uint32) *tracked {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.byNum.get(num)
}

// publicMaterial rebuilds a wallet's public key material from its stored
// public record (after a restart, or once evicted).
func (e *Engine) publicMaterial(t *tracked) (*keys.Material, error) {
	switch {
	case t.rec.PublicKey != "":
		return e.cfg.Coin.Parse(t.rec.PublicKey, e.cfg.Net)
	case t.rec.MPK != "":
		return e.cfg.Coin.Parse(t.rec.MPK, e.cfg.Net)
	case len(t.rec.Imported) > 0:
		return e.cfg.Coin.Parse(strings.Join(t.rec.Imported, " "), e.cfg.Net)
	}
	return nil, fmt.Errorf("wallet %s: no public key material stored", t.rec.ID)
}

// publicOf returns t's public key material: the cached one, the loaded one
// when it is public, or one rebuilt from the stored record.
func (e *Engine) publicOf(t *tracked) (*keys.Material, error) {
	e.mu.RLock()
	m := t.pub
	if m == nil && t.mat != nil && !t.mat.HasPrivateKeys() {
		m = t.mat
	}
	e.mu.RUnlock()
	if m != nil {
		return m, nil
	}
	return e.publicMaterial(t)
}

// wireKey returns the name of a wallet in events: the public key string a
// client last used in this process, else its stored public key string,
// else its master public key, else (an imported wallet opened with private
// keys) its addresses. Never a secret.
func (e *Engine) wireKey(id string) string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.wallets.get(id)
	if t == nil {
		return ""
	}
	return t.wireKeyLocked()
}

// wireKeyLocked is Engine.wireKey of a tracked wallet. Caller holds
// Engine.mu.
func (t *tracked) wireKeyLocked() string {
	switch {
	case t.wireKey != "":
		return t.wireKey
	case t.rec.PublicKey != "":
		return t.rec.PublicKey
	case t.rec.MPK != "":
		return t.rec.MPK
	default:
		return strings.Join(t.rec.Imported, " ")
	}
}

// CloseWallet unloads the wallet named by keyStr: its key material leaves
// memory. A durable wallet stays tracked (payments keep being recorded); a
// diskless one is forgotten entirely, as Bitcart drops its in-memory
// wallet (a later open loads it afresh). It reports whether the wallet
// was loaded.
func (e *Engine) CloseWallet(keyStr string) bool {
	mat, err := e.cfg.Coin.Parse(keyStr, e.cfg.Net)
	if err != nil {
		return false
	}
	e.mu.Lock()
	t := e.wallets.get(mat.Fingerprint())
	ok := t != nil
	if !ok || t.mat == nil {
		e.mu.Unlock()
		return false
	}
	e.unload(t)
	diskless := t.diskless
	e.mu.Unlock()
	if diskless {
		if err := e.forget(context.Background(), t); err != nil {
			e.log.Warn("cannot forget a closed diskless wallet", "wallet", t.rec.ID, "err", err)
		}
	}
	return true
}

// janitor evicts idle wallets' key material and prunes the event log.
func (e *Engine) janitor() {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			if err := e.Maintain(e.bgCtx); err != nil && e.bgCtx.Err() == nil {
				e.log.Warn("maintenance", "err", err)
			}
		}
	}
}

func (e *Engine) evictIdle() {
	cut := e.cfg.Now().Add(-e.cfg.IdleEvict)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wallets.all(func(t *tracked) bool {
		if t.mat != nil && t.lastUsed.Load() < cut.UnixNano() {
			e.unload(t)
		}
		return true
	})
}

// LoadedWallets returns the number of wallets whose key material is in
// memory.
func (e *Engine) LoadedWallets() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	e.wallets.all(func(t *tracked) bool {
		if t.mat != nil {
			n++
		}
		return true
	})
	return n
}

// Maintain drops the key material of wallets idle longer than IdleEvict
// (they stay tracked) and prunes the event log to its retention bounds. A
// background janitor calls it every minute.
func (e *Engine) Maintain(ctx context.Context) error {
	e.evictIdle()
	return e.pruneEvents(ctx)
}
