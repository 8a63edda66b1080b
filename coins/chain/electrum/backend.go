// Package electrum is the chain.Backend over Electrum servers (protocol
// 1.4, newline-delimited JSON-RPC over TCP or TLS): Bitcart's default
// backend, with no node of the operator's own. It trusts the server for
// nothing a payment depends on, as Electrum does:
//
//   - Headers: every header the server sends is checked (links, the coin's
//     difficulty rules, proof of work) from a built-in checkpoint or the
//     genesis block (package headers), or from the chain verified on an
//     earlier run and kept in Config.HeadersPath.
//   - Confirmations: a transaction counts as confirmed at a height only
//     once its merkle proof (blockchain.transaction.get_merkle) matches the
//     verified header there; the transaction's bytes must hash to its id.
//   - Unconfirmed payments: a mempool transaction is reported only once
//     every input it spends is shown to exist (its parent is proven in a
//     block, or is itself a valid unconfirmed transaction) and every input
//     script verifies: a server cannot invent a payment.
//   - Histories: a scripthash's history must hash to the status the server
//     announced.
//
// A server caught lying (a bad header, a proof that fails, a transaction
// whose hash does not match, a history that never matches its status) is
// dropped and banned, and the next server is used; nothing it said is ever
// reported. What SPV cannot prevent: a server may hide transactions or new
// blocks (delaying, never faking, a payment), and mining a block with a
// fake payment at the network's difficulty.
//
// On Litecoin, transactions the server serves with MWEB data (a block's
// HogEx, whose outputs carry peg-outs; a peg-in in the mempool) are read
// through coins/chain/ltcwire as their canonical part, whose hash is the
// txid.
//
// Every watched script is subscribed (blockchain.scripthash.subscribe);
// statuses are kept, so a reconnect or a failover refetches only the
// histories whose status changed. Scripts are spread over several sessions
// to the same server (SessionScripts each). The backend keeps the
// histories of the watched scripts in memory and answers FilterBlocks and
// History from them.
//
// A server slow on one script (a subscribe or get_history reply not there
// within 250 ms, once connected) holds up only the Watch or History call
// that needs that script: the call is left in flight, the other scripts'
// payments and blocks are reported meanwhile, and the reply is applied
// when it comes. A reply not there within CallTimeout drops the server.
//
// Block events follow the engine's model: a block is reported only once
// the backend holds the verified set of watched transactions confirmed in
// it (the server notifies the header first, then the statuses it changed:
// the backend waits until they have settled). Should a confirmation still
// arrive for a block already reported, the backend disconnects the
// reported blocks down to it and connects them again with the complete
// contents, so the engine never misses a confirmation.
package electrum

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
)

// errClosed is returned after Close; it wraps chain.ErrNotConnected.
var errClosed = fmt.Errorf("electrum: backend closed: %w", chain.ErrNotConnected)

// Backend is a chain.Backend over Electrum servers; see the package
// documentation. It is safe for concurrent use.
type Backend struct {
	cfg    Config
	log    *slog.Logger
	mweb   bool // the coin's transactions may carry MWEB data (Litecoin)
	hc     *headers.Chain
	q      *fifo
	events chan chain.Event
	reqs   chan request
	wg     sync.WaitGroup

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	link    *link // current link, maybe handshaking
	ready   bool  // the link's EventConnected is queued
	st      *state
	banned  map[servers.Server]time.Time
	// squeezed: how many times each server throttled the backend; its
	// links use sessions and windows halved that many times.
	squeezed map[servers.Server]int
	linkSeq  uint64
	lastHost string    // the host of the last link (ServerHost)
	lastTip  tipNote   // the last tip the main session announced
	tipSince time.Time // when the verified tip last changed

	// The header chain as last written to Config.HeadersPath.
	saveMu    sync.Mutex // one write at a time
	savedHash chainhash.Hash
	savedAt   time.Time

	nSubs, nHist, nTxs, nProofs, nLies, nBusy atomic.Int64
}

var (
	_ chain.Backend          = (*Backend)(nil)
	_ chain.BoundedHistorian = (*Backend)(nil)
)

// New validates cfg, applies defaults and returns an unstarted Backend. It
// does no I/O.
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	if cfg.OneServer {
		cfg.Servers = cfg.Servers[:1]
	}
	return &Backend{
		cfg:      cfg,
		log:      log,
		mweb:     cfg.Rules.Net != nil && cfg.Rules.Net.MWEBHRP != "",
		hc:       headers.NewChain(cfg.Rules, cfg.KeepHeaders),
		q:        newFIFO(),
		events:   make(chan chain.Event, cfg.EventBuffer),
		reqs:     make(chan request),
		st:       newState(),
		banned:   map[servers.Server]time.Time{},
		squeezed: map[servers.Server]int{},
	}, nil
}

// Start connects in the background and returns the event channel at once.
// The backend moves through its servers (the first that answers is the
// main one; when it fails or lies, the next), with backoff after a full
// round of failures, until Close. ctx bounds Start only.
//
// Events: EventConnected (all scripts subscribed and synced, Tip set),
// then EventTxAccepted and block events, then EventDisconnected when the
// server is lost (only after an EventConnected), and so on. Events queue
// without bound for a slow consumer (Backlog) and are never dropped,
// except those still queued at Close.
func (b *Backend) Start(ctx context.Context) (<-chan chain.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if b.started {
		return nil, errors.New("electrum: already started")
	}
	b.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		b.run(runCtx)
	}()
	go func() {
		defer b.wg.Done()
		b.q.run(runCtx, b.events)
	}()
	return b.events, nil
}

// Close stops the backend, closes its connections (calls in flight fail
// with chain.ErrNotConnected), waits for its goroutines and closes the
// event channel. Idempotent; always nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cancel, l := b.cancel, b.link
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if l != nil {
		l.fail(errClosed)
	}
	b.wg.Wait()
	b.saveHeaders(true)
	close(b.events)
	return nil
}

// Connected reports whether a server is connected and its EventConnected
// queued.
func (b *Backend) Connected() bool {
	_, err := b.readyLink()
	return err == nil
}

// Backlog returns how many events wait beyond the channel's buffer.
func (b *Backend) Backlog() int { return b.q.size() }

// Server returns the server in use ("" when none).
func (b *Backend) Server() string {
	l, err := b.readyLink()
	if err != nil {
		return ""
	}
	return l.srv.String()
}

// ServerHost returns the host of the server in use, or being tried while
// none is ("" before the first attempt): what Electrum's getinfo shows as
// its server.
func (b *Backend) ServerHost() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.link != nil {
		b.lastHost = b.link.srv.Host
	}
	return b.lastHost
}

// Stats counts the backend's work since it was made.
type Stats struct {
	// Subscriptions: blockchain.scripthash.subscribe requests answered.
	Subscriptions int64
	// Histories: histories fetched (a status changed or was new).
	Histories int64
	// Transactions: transactions fetched (each checked against its id).
	Transactions int64
	// Proofs: merkle proofs checked against verified headers.
	Proofs int64
	// Lies: servers dropped for lying.
	Lies int64
	// Throttled: links a server cut for cost ("excessive resource
	// usage", "server busy"); the server is not banned.
	Throttled int64
	// HeadersVerified: headers whose difficulty and proof of work were
	// checked (those resumed from Config.HeadersPath are not).
	HeadersVerified int64
}

// Stats returns the counters.
func (b *Backend) Stats() Stats {
	return Stats{Subscriptions: b.nSubs.Load(), Histories: b.nHist.Load(), Transactions: b.nTxs.Load(),
		Proofs: b.nProofs.Load(), Lies: b.nLies.Load(), Throttled: b.nBusy.Load(), HeadersVerified: b.hc.Verified()}
}

// Watched returns how many scripthashes are subscribed (or to be) and how
// many sessions the current link has.
func (b *Backend) Watched() (scripts, sessions int) {
	b.mu.Lock()
	n := len(b.st.scripts)
	l := b.link
	b.mu.Unlock()
	if l != nil {
		sessions = l.count()
	}
	return n, sessions
}

func (b *Backend) readyLink() (*link, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errClosed
	}
	if b.link == nil || !b.ready || b.link.err() != nil {
		return nil, chain.ErrNotConnected
	}
	return b.link, nil
}

// candidates returns the servers to try, in order: banned ones are skipped
// while another is available.
func (b *Backend) candidates() []servers.Server {
	b.mu.Lock()
	defer b.mu.Unlock()
	var ok []servers.Server
	now := time.Now()
	for _, s := range b.cfg.Servers {
		if until, banned := b.banned[s]; banned && now.Before(until) {
			continue
		}
		ok = append(ok, s)
	}
	if len(ok) == 0 {
		return b.cfg.Servers
	}
	return ok
}

// run is the connection loop.
func (b *Backend) run(ctx context.Context) {
	b.restoreHeaders()
	backoff := b.cfg.ReconnectMin
	for ctx.Err() == nil {
		served := false
		for _, srv := range b.candidates() {
			if ctx.Err() != nil {
				return
			}
			t0 := time.Now()
			ready, err := b.serve(ctx, srv)
			if ctx.Err() != nil {
				return
			}
			busy := errors.Is(err, errBusy)
			// A throttled link does not reset the backoff: the server's
			// cost accounting needs time to cool down.
			served = served || (ready && !busy)
			switch {
			case errors.Is(err, errLie):
				b.nLies.Add(1)
				b.log.Error("electrum: server lied; dropping it", "server", srv.String(), "err", err)
				b.mu.Lock()
				b.banned[srv] = time.Now().Add(b.cfg.BanTime)
				b.mu.Unlock()
			case busy:
				b.nBusy.Add(1)
				per, win := b.squeeze(srv)
				b.log.Warn("electrum: server throttles us for cost; using it again with smaller sessions after a backoff",
					"server", srv.String(), "session_scripts", per, "window", win, "err", err)
			case ready:
				b.log.Warn("electrum: server connection lost", "server", srv.String(), "after", time.Since(t0).Round(time.Millisecond), "err", err)
			default:
				b.log.Warn("electrum: cannot use server", "server", srv.String(), "err", err)
			}
		}
		if served {
			backoff = b.cfg.ReconnectMin
			continue
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return
		}
		backoff = min(backoff*2, b.cfg.ReconnectMax)
	}
}

// limitsLocked returns the sessions' size and window for a new link to
// srv: Config's, halved for each time srv throttled the backend, down to
// MinSessionScripts and MinWindow (or Config's own when lower).
func (b *Backend) limitsLocked(srv servers.Server) (perSession, window int) {
	k := b.squeezed[srv]
	return max(b.cfg.SessionScripts>>k, min(MinSessionScripts, b.cfg.SessionScripts)),
		max(b.cfg.Window>>k, min(MinWindow, b.cfg.Window))
}

// squeeze records that srv throttled the backend and returns the limits
// of the next link to it.
func (b *Backend) squeeze(srv servers.Server) (perSession, window int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, w := b.limitsLocked(srv); p > min(MinSessionScripts, b.cfg.SessionScripts) || w > min(MinWindow, b.cfg.Window) {
		b.squeezed[srv]++
	}
	return b.limitsLocked(srv)
}

// serve runs one link to srv until it ends; ready reports whether it got
// as far as EventConnected.
func (b *Backend) serve(ctx context.Context, srv servers.Server) (ready bool, err error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return false, errClosed
	}
	b.linkSeq++
	per, win := b.limitsLocked(srv)
	l := newLink(b.linkSeq, srv, &b.cfg, per, win)
	b.link = l
	b.mu.Unlock()
	defer func() {
		if l.busy.Load() && !errors.Is(err, errLie) && !errors.Is(err, errBusy) {
			// The session the server closed after refusing may have
			// failed the link first.
			err = fmt.Errorf("%w: %v", errBusy, err)
		}
		l.close(err)
		b.mu.Lock()
		ready = b.ready
		if b.link == l {
			b.link, b.ready = nil, false
		}
		if ready && !b.closed {
			b.q.push(chain.Event{Kind: chain.EventDisconnected})
		}
		b.mu.Unlock()
	}()
	if err := b.handshake(ctx, l); err != nil {
		return false, err
	}
	b.log.Info("electrum: connected", "server", srv.String(), "sessions", l.count(), "tip", b.hc.Height())
	return true, b.loop(ctx, l)
}
