// Package wallet is walletd's wallet engine: it tracks many wallets against
// one chain backend, keeps their history, UTXOs and payment requests in a
// Store, applies blocks atomically with a stored chain cursor (rolling back
// on reorgs), and appends every notification to a durable event log before
// it is published.
//
// Secrets: key material that holds private keys lives only in memory (in
// the loaded wallet), never in the Store; wallets are stored by fingerprint
// with their public key material only.
package wallet

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

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
)

// Electrum's gap limits.
const (
	GapReceiving = 20
	GapChange    = 10
)

// Config configures an Engine.
type Config struct {
	Net   *params.Network
	Store Store
	// Volatile holds diskless wallets (nothing about them is written to
	// disk); nil refuses diskless wallets.
	Volatile Store
	Backend  chain.Backend // nil: wallet methods fail with ErrNoBackend
	Log      *slog.Logger
	// Publish receives every event after it is durably logged.
	Publish func(Event)
	// Now is the clock (tests set it); nil means time.Now.
	Now func() time.Time
	// SyncTimeout bounds how long a wallet call waits for sync.
	SyncTimeout time.Duration
	// NoSync makes wallet calls skip the wait for sync.
	NoSync bool
	// PollingCap bounds get_updates' per-wallet queue (default 100).
	PollingCap int
	// IdleEvict drops a loaded wallet's key material from memory after this
	// much idleness (default 10 minutes); it stays tracked.
	IdleEvict time.Duration
	// EventRetention keeps at most this many events (default 1,000,000).
	EventRetention int
	// EventMaxAge drops events older than this (default 30 days).
	EventMaxAge time.Duration
}

// Event is a durably logged notification.
type Event struct {
	Seq uint64
	// WalletID is the fingerprint of the wallet the event is about ("" for
	// global events): stable across key forms and restarts, so consumers
	// match wallets by it rather than by a key string.
	WalletID string
	// WalletKey is the wallet's name on the wire ("" for global events).
	WalletKey string
	// Payload is the event object, with "seq".
	Payload json.RawMessage
}

// Engine tracks wallets. It is safe for concurrent use.
type Engine struct {
	cfg Config
	log *slog.Logger

	// mu guards the in-memory indexes below; chainMu serializes every
	// mutation of chain-derived state (block and tx application, wallet
	// creation), so the indexes only change under both.
	mu      sync.RWMutex
	chainMu sync.Mutex
	index   map[string][]scriptRef     // pkScript → owners
	owned   map[wire.OutPoint][]string // unspent wallet outpoints → wallet ids
	wallets map[string]*tracked
	byKey   map[[32]byte]keyEntry // sha256(key string) → wallet, for loaded wallets
	cursor  chain.BlockRef
	synced  bool
	syncCh  chan struct{} // closed when first synced

	stop chan struct{}
	wg   sync.WaitGroup
}

// tracked is one tracked wallet in memory: its public record, and, while
// loaded, its parsed key material and the key string the client used.
type tracked struct {
	rec      walletRecord
	mat      *keys.Material // nil while evicted
	wireKey  string         // the key string last used by a client; may be a secret: memory only
	lastUsed atomic.Int64   // unix nanoseconds of the last call naming it
	keyHash  [][32]byte     // hashes of the key strings that loaded mat (entries of Engine.byKey)
	diskless bool           // records live in the volatile store only
	reqMu    sync.Mutex     // serializes this wallet's request allocation
	scanFrom uint32         // receiving addresses below are known taken (guarded by reqMu)
}

// storeOf returns the store of a tracked wallet's records.
func (e *Engine) storeOf(t *tracked) Store {
	if t.diskless && e.cfg.Volatile != nil {
		return e.cfg.Volatile
	}
	return e.cfg.Store
}

// isDiskless reports whether wallet id keeps its records in memory only.
func (e *Engine) isDiskless(id string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t := e.wallets[id]
	return t != nil && t.diskless
}

// keyEntry is what a key string's hash resolves to: the wallet, and
// whether that key string itself holds private keys.
type keyEntry struct {
	id      string
	private bool
}

// rememberKey maps a key string's hash to the loaded wallet. Caller holds mu.
func (e *Engine) rememberKey(t *tracked, h [32]byte, private bool) {
	if _, ok := e.byKey[h]; !ok {
		e.byKey[h] = keyEntry{id: t.rec.ID, private: private}
		t.keyHash = append(t.keyHash, h)
	}
}

// unload drops a wallet's key material and key-string mappings. Caller
// holds mu.
func (e *Engine) unload(t *tracked) {
	t.mat = nil
	t.wireKey = ""
	for _, h := range t.keyHash {
		delete(e.byKey, h)
	}
	t.keyHash = nil
}

// deterministic reports whether the wallet derives its addresses.
func (t *tracked) deterministic() bool { return len(t.rec.Imported) == 0 }

// New opens the engine over its store: it loads the tracked wallets' scripts
// and unspent outpoints into memory and the chain cursor.
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
	if cfg.PollingCap <= 0 {
		cfg.PollingCap = 100
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
	e := &Engine{cfg: cfg, log: cfg.Log, index: map[string][]scriptRef{}, owned: map[wire.OutPoint][]string{},
		wallets: map[string]*tracked{}, byKey: map[[32]byte]keyEntry{}, syncCh: make(chan struct{}), stop: make(chan struct{})}
	err := cfg.Store.View(ctx, func(kv KV) error {
		if _, err := getJSON(kv, bMeta, []byte("cursor"), &e.cursor); err != nil {
			return err
		}
		if err := kv.Scan(bWallets, nil, nil, func(k, v []byte) error {
			var rec walletRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return err
			}
			e.wallets[rec.ID] = &tracked{rec: rec}
			return nil
		}); err != nil {
			return err
		}
		// The script index is derived from the address records; each ref
		// shares its wallet's id string.
		if err := kv.Scan(bAddrs, nil, nil, func(k, v []byte) error {
			t := e.wallets[string(k[:walletIDLen])]
			if t == nil {
				return nil
			}
			var a addrRecord
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			ref := scriptRef{Wallet: t.rec.ID, Change: k[walletIDLen] == 1, Index: uint32FromBytes(k[walletIDLen+1:])}
			e.index[string(a.PkScript)] = append(e.index[string(a.PkScript)], ref)
			return nil
		}); err != nil {
			return err
		}
		return kv.Scan(bUTXOs, nil, nil, func(k, v []byte) error {
			var u utxoRecord
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			if u.SpentHeight == 0 {
				op := outpointFromKey(k[walletIDLen:])
				e.owned[op] = append(e.owned[op], string(k[:walletIDLen]))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("wallet: loading store: %w", err)
	}
	return e, nil
}

// Start starts following the backend (if any) in the background.
func (e *Engine) Start(ctx context.Context) error {
	if e.cfg.Backend == nil {
		return nil
	}
	scripts := e.allScripts()
	events, err := e.cfg.Backend.Start(ctx)
	if err != nil {
		return err
	}
	if len(scripts) > 0 {
		if err := e.watch(ctx, scripts, e.ownedOutpoints()); err != nil {
			e.log.Warn("initial watch", "err", err)
		}
	}
	e.wg.Add(2)
	go e.follow(events)
	go e.janitor()
	return nil
}

// Close stops following; the store is the caller's to close.
func (e *Engine) Close() {
	select {
	case <-e.stop:
	default:
		close(e.stop)
	}
	e.wg.Wait()
}

func (e *Engine) allScripts() [][]byte {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := make([][]byte, 0, len(e.index))
	for s := range e.index {
		out = append(out, []byte(s))
	}
	return out
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

func (e *Engine) watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	if e.cfg.Backend == nil {
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
	return len(e.wallets)
}

// waitSynced blocks until the engine is synced, ctx ends or SyncTimeout
// passes (ErrNotSynced); NoSync skips the wait.
func (e *Engine) waitSynced(ctx context.Context) error {
	if e.cfg.Backend == nil {
		return ErrNoBackend
	}
	if e.cfg.NoSync {
		return nil
	}
	t := time.NewTimer(e.cfg.SyncTimeout)
	defer t.Stop()
	select {
	case <-e.syncCh:
		return nil
	case <-t.C:
		return ErrNotSynced
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wallet is a handle on a loaded wallet for one call.
type Wallet struct {
	e       *Engine
	t       *tracked
	ID      string
	private bool // this call's key string holds private keys
}

// CanSign reports whether this call may sign: its own key string holds
// private keys. The seed, xprv and xpub forms of one wallet share its
// loaded state, so a call made with the xpub never signs with a seed
// another call loaded.
func (w *Wallet) CanSign() bool {
	return w.private && w.t.mat != nil && w.t.mat.HasPrivateKeys()
}

// Material returns the wallet's key material (with private keys when the
// client gave them).
func (w *Wallet) Material() *keys.Material { return w.t.mat }

// Open returns the wallet named by key material keyStr, loading it on first
// use: parse, derive the gap-limit addresses, store its public record, add
// its scripts to the index and the backend filter, and backfill its history.
// Later calls with the same wallet (under any of its key forms) reuse it.
func (e *Engine) Open(ctx context.Context, keyStr string) (*Wallet, error) {
	return e.OpenWith(ctx, keyStr, OpenOptions{})
}

// OpenOptions adjust how a wallet is loaded the first time.
type OpenOptions struct {
	// Diskless keeps every record of a new wallet in the volatile store:
	// nothing about it is written to disk, and it is forgotten on restart.
	// A wallet already tracked on disk stays there.
	Diskless bool
}

// ErrDisklessUnsupported is returned for a diskless wallet when the engine
// has no volatile store.
var ErrDisklessUnsupported = errors.New("diskless wallets are not supported by this engine")

// OpenWith is Open with options for a wallet's first load.
func (e *Engine) OpenWith(ctx context.Context, keyStr string, opts OpenOptions) (*Wallet, error) {
	// A loaded wallet is found by a hash of the key string, without
	// parsing it again (parsing costs base58 and EC work per call).
	h := sha256.Sum256([]byte(keyStr))
	now := e.cfg.Now()
	e.mu.RLock()
	if ke, ok := e.byKey[h]; ok {
		if t := e.wallets[ke.id]; t != nil && t.mat != nil {
			same := t.wireKey == keyStr
			t.lastUsed.Store(now.UnixNano())
			e.mu.RUnlock()
			if !same {
				e.mu.Lock()
				t.wireKey = keyStr
				e.mu.Unlock()
			}
			if err := e.waitSynced(ctx); err != nil {
				return nil, err
			}
			return &Wallet{e: e, t: t, ID: ke.id, private: ke.private}, nil
		}
	}
	e.mu.RUnlock()
	mat, err := keys.Parse(keyStr, e.cfg.Net)
	if err != nil {
		return nil, err
	}
	if err := e.waitSynced(ctx); err != nil {
		return nil, err
	}
	id := mat.Fingerprint()
	e.mu.Lock()
	t, ok := e.wallets[id]
	if ok {
		if t.mat == nil || (mat.HasPrivateKeys() && !t.mat.HasPrivateKeys()) {
			t.mat = mat
		}
		t.wireKey = keyStr
		t.lastUsed.Store(now.UnixNano())
		e.rememberKey(t, h, mat.HasPrivateKeys())
	}
	e.mu.Unlock()
	if ok {
		return &Wallet{e: e, t: t, ID: id, private: mat.HasPrivateKeys()}, nil
	}
	return e.create(ctx, keyStr, mat, opts)
}

// create tracks a new wallet.
func (e *Engine) create(ctx context.Context, keyStr string, mat *keys.Material, opts OpenOptions) (*Wallet, error) {
	if opts.Diskless && e.cfg.Volatile == nil {
		return nil, ErrDisklessUnsupported
	}
	e.chainMu.Lock()
	defer e.chainMu.Unlock()
	id := mat.Fingerprint()
	e.mu.RLock()
	t, ok := e.wallets[id]
	e.mu.RUnlock()
	if ok { // created concurrently
		return &Wallet{e: e, t: t, ID: id, private: mat.HasPrivateKeys()}, nil
	}
	rec := walletRecord{ID: id, Kind: mat.Kind().String(), ScriptType: mat.ScriptType().String(),
		MPK: mat.MasterPublicKey(), Created: e.cfg.Now(), Birthday: e.Height()}
	if !mat.HasPrivateKeys() {
		rec.PublicKey = keyStr
	}
	t = &tracked{rec: rec, mat: mat, wireKey: keyStr, diskless: opts.Diskless}
	t.lastUsed.Store(e.cfg.Now().UnixNano())
	st := e.storeOf(t)
	// Derive first (CPU only), then overlap the durable write with the
	// node round trips: the index is in memory before history is applied.
	var ks []newKey
	if mat.Deterministic() {
		recv, err := e.derive(t, false, GapReceiving)
		if err != nil {
			return nil, err
		}
		t.rec.NextRecv = GapReceiving
		change, err := e.derive(t, true, GapChange)
		if err != nil {
			return nil, err
		}
		ks = append(recv, change...)
	} else {
		for i, k := range mat.Imported() {
			t.rec.Imported = append(t.rec.Imported, k.Address)
			ks = append(ks, newKey{k: k, index: uint32(i)})
		}
	}
	scripts := make([][]byte, len(ks))
	for i, k := range ks {
		scripts[i] = k.k.PkScript
	}
	e.indexKeys(id, ks)
	stored := make(chan error, 1)
	go func() {
		stored <- st.Update(ctx, func(kv KV) error {
			if err := storeKeys(kv, id, ks); err != nil {
				return err
			}
			return putJSON(kv, bWallets, []byte(id), t.rec)
		})
	}()
	err := e.watch(ctx, scripts, nil)
	var hist []txAt
	if err == nil {
		hist, err = e.fetchHistory(ctx, scripts)
	}
	if serr := <-stored; serr != nil || err != nil {
		e.dropScripts(id, scripts)
		if serr == nil {
			// Stored but not watched: untrack it so a retry starts clean.
			_ = st.Update(context.WithoutCancel(ctx), func(kv KV) error { return forgetWallet(kv, id, ks) })
		}
		return nil, errors.Join(serr, err)
	}
	e.mu.Lock()
	e.wallets[id] = t
	e.rememberKey(t, sha256.Sum256([]byte(keyStr)), mat.HasPrivateKeys())
	e.mu.Unlock()
	if len(hist) > 0 {
		if err := e.applyBatch(ctx, hist, nil); err != nil {
			return nil, err
		}
	}
	return &Wallet{e: e, t: t, ID: id, private: mat.HasPrivateKeys()}, nil
}

// newKey is a derived (or imported) key not yet recorded.
type newKey struct {
	k      keys.Key
	change bool
	index  uint32
}

// derive derives n more keys on a chain (CPU only) and advances the
// wallet's derived count (receiving: DerivedRecv; change: NextChange).
// Caller holds t.reqMu, or t is not shared yet.
func (e *Engine) derive(t *tracked, change bool, n int) ([]newKey, error) {
	var next uint32
	if change {
		next = t.rec.NextChange
	} else {
		next = t.rec.derivedRecv()
	}
	mat := t.mat
	if mat == nil {
		var err error
		if mat, err = e.publicMaterial(t); err != nil {
			return nil, err
		}
	}
	out := make([]newKey, 0, n)
	for i := 0; i < n; i++ {
		k, err := mat.Derive(change, next+uint32(i))
		if err != nil {
			return nil, err
		}
		out = append(out, newKey{k: k, change: change, index: next + uint32(i)})
	}
	if change {
		t.rec.NextChange = next + uint32(n)
	} else {
		t.rec.DerivedRecv = next + uint32(n)
	}
	return out, nil
}

// indexKeys adds keys to the in-memory script index.
func (e *Engine) indexKeys(id string, ks []newKey) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, k := range ks {
		refs := e.index[string(k.k.PkScript)]
		dup := false
		for _, r := range refs {
			dup = dup || r.Wallet == id
		}
		if !dup {
			e.index[string(k.k.PkScript)] = append(refs, scriptRef{Wallet: id, Change: k.change, Index: k.index})
		}
	}
}

// storeKeys records a wallet's keys; the script index is rebuilt from
// them at start-up.
func storeKeys(kv KV, id string, ks []newKey) error {
	for _, k := range ks {
		if err := putJSON(kv, bAddrs, key([]byte(id), chainByte(k.change), u32(k.index)),
			addrRecord{Address: k.k.Address, PkScript: k.k.PkScript, PubKey: k.k.PubKey}); err != nil {
			return err
		}
	}
	return nil
}

// forgetWallet removes a wallet's records written by a failed creation.
func forgetWallet(kv KV, id string, ks []newKey) error {
	for _, k := range ks {
		if err := kv.Delete(bAddrs, key([]byte(id), chainByte(k.change), u32(k.index))); err != nil {
			return err
		}
	}
	return kv.Delete(bWallets, []byte(id))
}

// reveal makes the first upto addresses of a chain visible, deriving,
// storing and indexing what is missing (deriveAhead prepares receiving
// addresses for forced requests). It returns the new scripts to watch.
// Caller holds chainMu and t.reqMu.
func (e *Engine) reveal(kv KV, t *tracked, change bool, upto uint32) ([][]byte, error) {
	var ks []newKey
	var err error
	switch {
	case change && upto > t.rec.NextChange:
		ks, err = e.derive(t, true, int(upto-t.rec.NextChange))
	case !change && upto > t.rec.derivedRecv():
		ks, err = e.derive(t, false, int(upto-t.rec.derivedRecv()))
	}
	if err != nil {
		return nil, err
	}
	if !change && upto > t.rec.NextRecv {
		t.rec.NextRecv = upto
	}
	e.indexKeys(t.rec.ID, ks)
	if err := storeKeys(kv, t.rec.ID, ks); err != nil {
		return nil, err
	}
	out := make([][]byte, len(ks))
	for i, k := range ks {
		out[i] = k.k.PkScript
	}
	return out, putJSON(kv, bWallets, []byte(t.rec.ID), t.rec)
}

// publicMaterial rebuilds a deterministic wallet's public key material from
// its stored account key (after a restart, or once evicted).
func (e *Engine) publicMaterial(t *tracked) (*keys.Material, error) {
	if t.rec.PublicKey != "" {
		return keys.Parse(t.rec.PublicKey, e.cfg.Net)
	}
	if t.rec.MPK != "" {
		return keys.Parse(t.rec.MPK, e.cfg.Net)
	}
	return nil, fmt.Errorf("wallet %s: no public key material stored", t.rec.ID)
}

// dropScripts undoes index additions of a failed creation.
func (e *Engine) dropScripts(id string, scripts [][]byte) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range scripts {
		refs := e.index[string(s)]
		kept := refs[:0]
		for _, r := range refs {
			if r.Wallet != id {
				kept = append(kept, r)
			}
		}
		if len(kept) == 0 {
			delete(e.index, string(s))
		} else {
			e.index[string(s)] = kept
		}
	}
}

// WireKey returns the name of a wallet in events: the key string a client
// last used in this process, else its stored public key string, else its
// master public key.
func (e *Engine) wireKey(id string) string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	t, ok := e.wallets[id]
	if !ok {
		return ""
	}
	switch {
	case t.wireKey != "":
		return t.wireKey
	case t.rec.PublicKey != "":
		return t.rec.PublicKey
	default:
		return t.rec.MPK
	}
}

// Close unloads the wallet named by keyStr: its key material leaves
// memory. It stays tracked (payments keep being recorded). It reports
// whether the wallet was loaded.
func (e *Engine) CloseWallet(keyStr string) bool {
	mat, err := keys.Parse(keyStr, e.cfg.Net)
	if err != nil {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.wallets[mat.Fingerprint()]
	if !ok || t.mat == nil {
		return false
	}
	e.unload(t)
	return true
}

// janitor evicts idle wallets' key material and prunes the event log.
func (e *Engine) janitor() {
	defer e.wg.Done()
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			if err := e.Maintain(context.Background()); err != nil {
				e.log.Warn("maintenance", "err", err)
			}
		}
	}
}

func (e *Engine) evictIdle() {
	cut := e.cfg.Now().Add(-e.cfg.IdleEvict)
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, t := range e.wallets {
		if t.mat != nil && t.lastUsed.Load() < cut.UnixNano() {
			e.unload(t)
		}
	}
}

// LoadedWallets returns the number of wallets whose key material is in
// memory.
func (e *Engine) LoadedWallets() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	for _, t := range e.wallets {
		if t.mat != nil {
			n++
		}
	}
	return n
}

// Maintain drops the key material of wallets idle longer than IdleEvict
// (they stay tracked) and prunes the event log to its retention bounds. A
// background janitor calls it every minute.
func (e *Engine) Maintain(ctx context.Context) error {
	e.evictIdle()
	return e.pruneEvents(ctx)
}
