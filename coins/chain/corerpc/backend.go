// Package corerpc is the chain.Backend for Core-style nodes (Bitcoin Core,
// Litecoin Core, BCHN, and btcd's HTTP RPC for the calls it has) over their
// HTTP JSON-RPC (http:// or https://user:pass@host:port, or the node's cookie
// file).
//
// The node keeps no filter for us: the backend holds the watched scripts and
// outpoints and matches transactions itself.
//
//   - Following: one poller goroutine asks getbestblockhash every
//     PollInterval (default 250 ms); a new tip is walked back by
//     previousblockhash to the last block it knows, the blocks that left the
//     best chain are reported disconnected (tip first) and the new ones read
//     raw (getblock verbosity 0, MWEB data included on Litecoin: see
//     ltcwire) and reported connected, reduced to the relevant
//     transactions. The mempool is polled in the same cycle (getrawmempool,
//     then getrawtransaction for the new txids, batched): a relevant new
//     transaction is reported accepted.
//   - ZMQ (optional): subscribed endpoints wake the poller at once, and
//     their rawtx/sequence notifications are processed without a full
//     mempool poll; polling continues as a safety net (default every 2 s).
//   - Backfill (History): the node's BIP158 block filters (getblockfilter,
//     -blockfilterindex) pick the blocks to read; without them every block
//     is read, from Config.Birthday, except those whose summary (kept for
//     every block read, within Config.SummaryCache) rules them out. Then
//     the mempool. BackfillStatus says which method and how far.
//   - Transaction uses getrawtransaction (needs -txindex for confirmed
//     transactions, except those this backend saw in a block: it remembers
//     their block and passes it); Broadcast sendrawtransaction; EstimateFee
//     estimatesmartfee (estimatefee on btcd).
//
// Events are sent in the order the poller produced them; when the consumer
// is slow the poller waits (nothing is dropped and nothing is queued beyond
// the channel's buffer).
package corerpc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// errClosed is returned after Close; it wraps chain.ErrNotConnected.
var errClosed = fmt.Errorf("corerpc: backend closed: %w", chain.ErrNotConnected)

// followWindow is how many recent best-chain blocks the poller remembers to
// find a fork point; a reorg deeper than this (or a gap longer) is left to
// the consumer's own catch-up (it receives the new tip's block, whose parent
// it does not have).
const followWindow = 1000

// mempoolDuty: a full mempool poll that took d waits mempoolDuty×d before
// the next one, so the poller spends at most a quarter of its time reading
// a large mempool (a small one is still read every PollInterval).
const mempoolDuty = 4

// knownTxs bounds the txid → block map kept for Transaction without -txindex.
const knownTxs = 100_000

// Backend is a chain.Backend over a Core-style node's HTTP JSON-RPC. It is
// safe for concurrent use. Calls made while the node is unreachable fail
// with chain.ErrNotConnected.
type Backend struct {
	cfg Config
	log *slog.Logger
	ep  endpoint
	rpc *rpcClient

	events chan chain.Event
	wake   chan struct{}
	wg     sync.WaitGroup

	mu      sync.Mutex // lifecycle
	started bool
	closed  bool
	cancel  context.CancelFunc

	connected atomic.Bool
	filters   atomic.Bool // the node serves getblockfilter
	firstTip  atomic.Int32
	tipKnown  atomic.Bool

	watchMu sync.Mutex
	watch   *matcher

	// recent is the best chain as the poller last saw it (poller only).
	recent []chain.BlockRef

	mpMu   sync.Mutex
	mp     *mpView  // the node's mempool as last polled: txids and summaries
	zmqTxs *txCache // transactions announced by ZMQ, not yet processed

	knownMu sync.Mutex
	known   map[chainhash.Hash]chainhash.Hash // txid → block, for Transaction
	knownQ  []chainhash.Hash

	sums     *summaries
	scanMu   sync.Mutex // one History scan at a time
	progMu   sync.Mutex
	progress chain.BackfillStatus
}

var (
	_ chain.Backend          = (*Backend)(nil)
	_ chain.BoundedHistorian = (*Backend)(nil)
	_ chain.BackfillReporter = (*Backend)(nil)
)

// New validates cfg, applies defaults and returns an unstarted Backend. It
// does no I/O. log receives connection state changes (never the password).
func New(cfg Config, log *slog.Logger) (*Backend, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := parseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.withDefaults(); err != nil {
		return nil, err
	}
	b := &Backend{
		cfg:    cfg,
		log:    log,
		ep:     ep,
		rpc:    newRPCClient(ep, cfg.CookieFile, cfg.tlsConfig(ep), cfg.CallTimeout, cfg.MaxRequests),
		events: make(chan chain.Event, cfg.EventBuffer),
		wake:   make(chan struct{}, 1),
		watch:  newMatcher(),
		mp:     newMPView(cfg.MempoolSummaries),
		zmqTxs: newTxCache(4096),
		known:  map[chainhash.Hash]chainhash.Hash{},
		sums:   newSummaries(cfg.SummaryCache),
	}
	b.progress.Method = MethodBlocks
	return b, nil
}

// Start begins connecting in the background and returns the event channel at
// once. The backend reconnects with exponential backoff until Close. ctx only
// bounds Start itself. Start may be called once.
//
// Events: EventConnected (Tip set) after every (re)connection, then block
// and mempool events in node order, then EventDisconnected when the node
// stops answering (only after an EventConnected). After a reconnection the
// blocks mined meanwhile are reported (from the last block seen, up to 1000
// of them; a longer gap is reported as its tip alone) and the mempool is
// read afresh, so the relevant transactions still in it are reported again.
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
		return nil, errors.New("corerpc: already started")
	}
	b.started = true
	if b.cfg.TLS.InsecureSkipVerify && b.ep.tls {
		b.log.Warn("corerpc: TLS certificate verification is disabled", "url", b.ep.redacted)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.run(runCtx)
	}()
	for _, z := range b.cfg.ZMQ {
		ep, _ := parseZMQEndpoint(z)
		sub := &zmqSubscriber{addr: ep, topics: zmqTopics(), onMessage: b.onZMQ, log: b.log,
			reconnectMin: b.cfg.ReconnectMin, reconnectMax: b.cfg.ReconnectMax}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			sub.run(runCtx)
		}()
	}
	return b.events, nil
}

// Close stops the poller and the ZMQ subscribers, waits for them, and closes
// the event channel; events not yet received are dropped. Calls in flight
// fail. Close is idempotent and returns nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cancel, started := b.cancel, b.started
	b.mu.Unlock()
	b.connected.Store(false)
	if cancel != nil {
		cancel()
	}
	b.wg.Wait()
	if started {
		close(b.events)
	}
	b.rpc.close()
	return nil
}

// Connected reports whether the node answered the poller's last call.
func (b *Backend) Connected() bool { return b.connected.Load() }

// ready returns nil when calls may be made.
func (b *Backend) ready() error {
	if !b.connected.Load() {
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return errClosed
		}
		return chain.ErrNotConnected
	}
	return nil
}

// call is rpc.call with the ready check and CallTimeout.
func (b *Backend) call(ctx context.Context, out any, method string, params ...any) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	return b.rpc.call(ctx, out, method, params...)
}

// batch is rpc.batch with the ready check and CallTimeout.
func (b *Backend) batch(ctx context.Context, calls []batchCall) error {
	if err := b.ready(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	return b.rpc.batch(ctx, calls)
}

// Watch adds scripts and outpoints to the set the backend matches
// transactions against. A script that can never be paid (empty, OP_RETURN,
// longer than 10,000 bytes) makes Watch return an error wrapping
// chain.ErrUnsupported and add nothing. Watch works while disconnected (the
// set lives in the backend); after Close it returns an error.
func (b *Backend) Watch(_ context.Context, scripts [][]byte, outpoints []wire.OutPoint) error {
	for _, s := range scripts {
		if err := checkScript(s); err != nil {
			return err
		}
	}
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errClosed
	}
	b.watchMu.Lock()
	for _, s := range scripts {
		b.watch.scripts[string(s)] = struct{}{}
	}
	for _, op := range outpoints {
		b.watch.outpoints[op] = struct{}{}
	}
	b.watchMu.Unlock()
	return nil
}

// Watched returns how many scripts and outpoints are watched (outpoints
// include those learned from outputs paying watched scripts).
func (b *Backend) Watched() (scripts, outpoints int) {
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	return len(b.watch.scripts), len(b.watch.outpoints)
}

// matchLive filters txs (parents first) against the watched set, learning
// outpoints.
func (b *Backend) matchLive(txs []*wire.MsgTx) []*wire.MsgTx {
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	return b.watch.matchAll(txs)
}

// remember records the block of confirmed relevant transactions, so
// Transaction finds them on a node without -txindex.
func (b *Backend) remember(block chainhash.Hash, txs []*wire.MsgTx) {
	b.knownMu.Lock()
	defer b.knownMu.Unlock()
	for _, tx := range txs {
		id := tx.TxHash()
		if _, ok := b.known[id]; !ok {
			b.knownQ = append(b.knownQ, id)
		}
		b.known[id] = block
	}
	for len(b.knownQ) > knownTxs {
		delete(b.known, b.knownQ[0])
		b.knownQ = b.knownQ[1:]
	}
}

func (b *Backend) blockOf(txid chainhash.Hash) (chainhash.Hash, bool) {
	b.knownMu.Lock()
	defer b.knownMu.Unlock()
	h, ok := b.known[txid]
	return h, ok
}

// emit sends ev, waiting for the consumer; false when the backend stops.
func (b *Backend) emit(ctx context.Context, ev chain.Event) bool {
	select {
	case b.events <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// kick wakes the poller (a ZMQ notification, a broadcast).
func (b *Backend) kick() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// isDown reports whether err means the node is not serving: a transport
// failure, or a node still warming up (or shutting down).
func isDown(err error) bool {
	if errors.Is(err, chain.ErrNotConnected) {
		return true
	}
	code, ok := rpcCode(err)
	return ok && code == codeInWarmup
}

// run is the poller: connect, then poll until the node stops answering,
// then reconnect with backoff.
func (b *Backend) run(ctx context.Context) {
	backoff := b.cfg.ReconnectMin
	failures := 0
	for ctx.Err() == nil {
		tip, err := b.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			if failures == 1 || failures%10 == 0 {
				b.log.Warn("corerpc: cannot reach node", "url", b.ep.redacted,
					"attempt", failures, "retry_in", backoff, "err", err)
			}
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, b.cfg.ReconnectMax)
			continue
		}
		failures = 0
		backoff = b.cfg.ReconnectMin
		b.log.Info("corerpc: connected to node", "url", b.ep.redacted, "tip", tip.Height,
			"filters", b.filters.Load())
		if len(b.recent) == 0 {
			b.recent = []chain.BlockRef{tip}
		}
		// After a reconnection the poller goes on from the last block
		// it saw: the blocks mined meanwhile are read (and reported)
		// like any new block, so outpoints they pay are learned.
		b.mpMu.Lock()
		b.mp.reset()
		b.mpMu.Unlock()
		b.connected.Store(true)
		if !b.emit(ctx, chain.Event{Kind: chain.EventConnected, Tip: tip}) {
			return
		}
		err = b.follow(ctx)
		b.connected.Store(false)
		// A node shutting down waits for idle keep-alive connections to
		// close (up to its -rpcservertimeout): let go of ours.
		b.rpc.close()
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("corerpc: node stopped answering", "url", b.ep.redacted, "err", err)
		if !b.emit(ctx, chain.Event{Kind: chain.EventDisconnected}) {
			return
		}
		if !sleep(ctx, backoff) {
			return
		}
	}
}

// connect checks the node answers (credentials, tip) and whether it serves
// block filters.
func (b *Backend) connect(ctx context.Context) (chain.BlockRef, error) {
	if err := b.rpc.loadCredentials(); err != nil {
		return chain.BlockRef{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	tip, err := b.tipVia(cctx, b.rpc.call)
	if err != nil {
		return chain.BlockRef{}, err
	}
	if b.cfg.Filters != MethodBlocks {
		var f struct {
			Filter string `json:"filter"`
		}
		err := b.rpc.call(cctx, &f, "getblockfilter", tip.Hash.String())
		if isDown(err) {
			return chain.BlockRef{}, err
		}
		b.filters.Store(err == nil && f.Filter != "")
		if err != nil && b.cfg.Filters == MethodBIP158 {
			b.log.Warn("corerpc: the node serves no block filters (run it with -blockfilterindex=1); History will fail", "err", err)
		}
	}
	if !b.tipKnown.Swap(true) {
		b.firstTip.Store(tip.Height)
	}
	b.progMu.Lock()
	b.progress.Method = b.method()
	b.progMu.Unlock()
	return tip, nil
}

// method is the backfill method in use.
func (b *Backend) method() string {
	if b.filters.Load() {
		return MethodBIP158
	}
	return MethodBlocks
}

// follow polls until the node stops answering (returning why) or ctx ends.
func (b *Backend) follow(ctx context.Context) error {
	tick := time.NewTicker(b.cfg.PollInterval)
	defer tick.Stop()
	full := true
	var mpNext time.Time // the earliest next full mempool poll
	var lastErr string
	logErr := func(what string, err error) {
		// A failure that repeats at every poll is logged once.
		if msg := what + err.Error(); msg != lastErr {
			lastErr = msg
			b.log.Error("corerpc: "+what, "err", err)
		}
	}
	for {
		if err := b.followTip(ctx); err != nil {
			if isDown(err) || ctx.Err() != nil {
				return err
			}
			logErr("following the tip", err)
		}
		var err error
		if full || b.zmqTxs.len() == 0 {
			// A full poll of a mainnet-size mempool costs a good part of
			// a core (BenchmarkMempoolPoll): at most one in mempoolDuty
			// of the poller's time goes to it; the tip is still polled
			// every interval.
			if now := time.Now(); !now.Before(mpNext) {
				err = b.syncMempool(ctx)
				mpNext = now.Add(mempoolDuty * time.Since(now))
			}
		} else {
			err = b.processAnnounced(ctx)
		}
		if err != nil {
			if isDown(err) || ctx.Err() != nil {
				return err
			}
			logErr("reading the mempool", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			full = true
		case <-b.wake:
			full = false
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// BackfillStatus reports the backfill method and the progress of the
// current or last History scan.
func (b *Backend) BackfillStatus() chain.BackfillStatus {
	b.progMu.Lock()
	defer b.progMu.Unlock()
	return b.progress
}
