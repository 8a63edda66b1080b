// Package btcdws is the chain.Backend for btcd-family nodes (btcd, bchd,
// ltcd) over their websocket JSON-RPC (ws:// or wss://user:pass@host:port).
//
// It keeps ONE websocket to the node. Watched scripts and outpoints form the
// node-side transaction filter (loadtxfilter); block notifications
// (notifyblocks) arrive as filteredblockconnected/disconnected carrying the
// matching transactions, and mempool payments as relevanttxaccepted. The full
// filter is kept in memory — including the outpoints of outputs paying watched
// scripts, which the node adds to its filter by itself — and reloaded after
// every reconnect, before EventConnected is delivered.
//
// With Config.MatchLocally and a consumer that calls MatchLocally (the wallet
// engine), there is no node-side filter: see local.go.
//
// Catch-up uses rescanblocks (FilterBlocks) and backfill uses
// searchrawtransactions (History; the node must run with --addrindex and
// --txindex).
//
// The backend hand-rolls its websocket client on gorilla/websocket rather
// than using btcd's rpcclient: rpcclient's reconnect loop has a fixed 5s×n
// backoff with an uninterruptible sleep, no per-call context, no way to skip
// TLS verification, and it replays pending requests on reconnect, which would
// reorder filter loads.
package btcdws

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/ltcwire"
)

// errClosed is returned by Start and Watch after Close, and recorded on
// connections closed by Close; it wraps chain.ErrNotConnected.
var errClosed = fmt.Errorf("btcdws: backend closed: %w", chain.ErrNotConnected)

// Backend is a chain.Backend over one btcd-family websocket. It is safe for
// concurrent use. Calls made while no connection is live fail at once with
// chain.ErrNotConnected; calls in flight when the connection drops fail with
// it too.
type Backend struct {
	cfg       Config
	log       *slog.Logger
	ep        endpoint
	addressOf func([]byte) (string, error)
	dialer    *websocket.Dialer

	events chan chain.Event
	q      *eventQueue
	wg     sync.WaitGroup

	mu      sync.Mutex // lifecycle and current connection
	started bool
	closed  bool
	cancel  context.CancelFunc
	conn    *rpcConn // current connection, maybe still handshaking

	// loadMu serialises filter traffic (Watch additions, full reloads):
	// btcd serves a websocket's requests concurrently, so loads must be
	// sent one after another. setMu guards the sets; it is never held
	// across I/O.
	loadMu    sync.Mutex
	setMu     sync.Mutex
	addrs     map[string]struct{}
	outpoints map[wire.OutPoint]struct{}
	// spent holds the height of the block that spent an outpoint of the
	// set; once PruneDepth blocks deep the outpoint leaves the set. best
	// is the highest block height seen.
	spent map[wire.OutPoint]int32
	best  int32

	// local is set by MatchLocally (see local.go): no node-side filter.
	local atomic.Pointer[localFilter]

	// searches counts the searchrawtransactions calls sent (tests).
	searches atomic.Int64
}

var (
	_ chain.Backend          = (*Backend)(nil)
	_ chain.BoundedHistorian = (*Backend)(nil)
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
	if cfg.Params == nil && cfg.AddressOf == nil {
		return nil, errors.New("btcdws: Config.Params is required")
	}
	if cfg.ReconnectMin <= 0 {
		cfg.ReconnectMin = DefaultReconnectMin
	}
	if cfg.ReconnectMax <= 0 {
		cfg.ReconnectMax = DefaultReconnectMax
	}
	if cfg.ReconnectMax < cfg.ReconnectMin {
		cfg.ReconnectMax = cfg.ReconnectMin
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = DefaultCallTimeout
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = DefaultPingInterval
	}
	if cfg.FilterChunk <= 0 {
		cfg.FilterChunk = DefaultFilterChunk
	}
	if cfg.EventBuffer <= 0 {
		cfg.EventBuffer = DefaultEventBuffer
	}
	if cfg.PruneDepth <= 0 {
		cfg.PruneDepth = DefaultPruneDepth
	}
	addressOf := cfg.AddressOf
	if addressOf == nil {
		addressOf = defaultAddressOf(cfg.Params)
	}
	netDialer := &net.Dialer{Timeout: cfg.CallTimeout, KeepAlive: 30 * time.Second}
	b := &Backend{
		cfg:       cfg,
		log:       log,
		ep:        ep,
		addressOf: addressOf,
		dialer: &websocket.Dialer{
			NetDialContext:   netDialer.DialContext,
			Proxy:            nil, // never read proxy settings from the environment
			HandshakeTimeout: cfg.CallTimeout,
			TLSClientConfig:  cfg.tlsConfig(ep),
			ReadBufferSize:   64 << 10,
			WriteBufferSize:  64 << 10,
		},
		events:    make(chan chain.Event, cfg.EventBuffer),
		q:         newEventQueue(log),
		addrs:     make(map[string]struct{}),
		outpoints: make(map[wire.OutPoint]struct{}),
		spent:     make(map[wire.OutPoint]int32),
	}
	return b, nil
}

// Start begins connecting in the background and returns the event channel at
// once. The backend reconnects with exponential backoff (ReconnectMin to
// ReconnectMax) until Close. ctx only bounds Start itself: the connection
// lives until Close. Start may be called once.
//
// Events come in node order on the one channel: EventConnected (after the
// filter is reloaded and notifyblocks registered, Tip set), then block and
// mempool events, then EventDisconnected when the connection drops (only
// ever after an EventConnected), and so on for every reconnect. A consumer that falls behind never blocks the
// connection: events wait in an unbounded queue (see Backlog) and are never
// dropped, except those still queued at Close.
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
		return nil, errors.New("btcdws: already started")
	}
	b.started = true
	if b.cfg.TLS.InsecureSkipVerify && b.ep.tls {
		b.log.Warn("btcdws: TLS certificate verification is disabled", "url", b.ep.redacted)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	b.wg.Add(2)
	go func() {
		defer b.wg.Done()
		b.run(runCtx)
	}()
	go func() {
		defer b.wg.Done()
		b.deliver(runCtx)
	}()
	return b.events, nil
}

// Close stops reconnecting, closes the connection (failing calls in flight
// with chain.ErrNotConnected), waits for every goroutine of the backend to
// exit and closes the event channel; queued events not yet received are
// dropped. Close is idempotent and always returns nil.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	cancel, conn := b.cancel, b.conn
	b.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if conn != nil {
		conn.close(errClosed)
	}
	b.wg.Wait()
	close(b.events)
	return nil
}

// forget drops conn as the live connection if it still is.
func (b *Backend) forget(conn *rpcConn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conn == conn {
		b.conn = nil
	}
}

// Connected reports whether the connection is live and its EventConnected
// was queued (filter loaded, block notifications on).
func (b *Backend) Connected() bool {
	_, err := b.readyConn()
	return err == nil
}

// Backlog returns the number of events queued for the consumer beyond the
// channel's buffer; a steadily growing value means the consumer is too slow.
// Daemons export it as a gauge.
func (b *Backend) Backlog() int { return b.q.len() }

// Watched returns how many addresses and outpoints the filter holds (the
// outpoints include those learned from outputs paying watched scripts).
func (b *Backend) Watched() (addresses, outpoints int) {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	return len(b.addrs), len(b.outpoints)
}

// currentConn returns the connection being handshaked or live, if any.
func (b *Backend) currentConn() *rpcConn {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conn
}

// readyConn returns the live connection whose EventConnected was queued, or
// chain.ErrNotConnected.
func (b *Backend) readyConn() (*rpcConn, error) {
	c := b.currentConn()
	if c == nil {
		return nil, chain.ErrNotConnected
	}
	select {
	case <-c.done:
		return nil, c.closedErr()
	default:
	}
	b.q.mu.Lock()
	ready := c.ready
	b.q.mu.Unlock()
	if !ready {
		return nil, chain.ErrNotConnected
	}
	return c, nil
}

// deliver moves events from the queue to the channel in order.
func (b *Backend) deliver(ctx context.Context) {
	for {
		ev, ok := b.q.pop(ctx)
		if !ok {
			return
		}
		if f := b.localMode(); f != nil && ev.Kind == chain.EventBlockConnected && !b.fillBlock(ctx, f, ev.Block) {
			continue
		}
		select {
		case b.events <- ev:
		case <-ctx.Done():
			return
		}
	}
}

// run is the connection loop: dial, handshake, wait for the end, repeat with
// backoff.
func (b *Backend) run(ctx context.Context) {
	backoff := b.cfg.ReconnectMin
	failures := 0
	for ctx.Err() == nil {
		conn, err := b.connect(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			b.log.Warn("btcdws: cannot connect to node", "url", b.ep.redacted,
				"attempt", failures, "retry_in", backoff, "err", err)
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(backoff*2, b.cfg.ReconnectMax)
			continue
		}
		failures = 0
		since := time.Now()
		b.log.Info("btcdws: connected to node", "url", b.ep.redacted)
		select {
		case <-conn.done:
		case <-ctx.Done():
			conn.close(errClosed)
			<-conn.done
		}
		b.forget(conn)
		if ctx.Err() != nil {
			return
		}
		b.q.push(chain.Event{Kind: chain.EventDisconnected})
		b.log.Warn("btcdws: disconnected from node", "url", b.ep.redacted, "err", conn.reason())
		// A connection that lived long restarts the backoff; a
		// flapping one keeps growing it.
		if time.Since(since) > b.cfg.ReconnectMax {
			backoff = b.cfg.ReconnectMin
		}
		if !sleep(ctx, backoff) {
			return
		}
		backoff = min(backoff*2, b.cfg.ReconnectMax)
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

// connect dials and runs the handshake: full filter load, notifyblocks, tip;
// then queues EventConnected followed by any notification that arrived
// meanwhile.
func (b *Backend) connect(ctx context.Context) (*rpcConn, error) {
	hdr := http.Header{}
	if b.ep.auth != "" {
		hdr.Set("Authorization", b.ep.auth)
	}
	dialer := b.dialer
	if tc, err := b.cfg.dialTLSConfig(dialer.TLSClientConfig); err != nil {
		return nil, err
	} else if tc != dialer.TLSClientConfig {
		d := *dialer
		d.TLSClientConfig = tc
		dialer = &d
	}
	ws, resp, err := dialer.DialContext(ctx, b.ep.dialURL, hdr)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return nil, errors.New("authentication failed (check user and password)")
		}
		return nil, err
	}
	conn := newRPCConn(ws, b.onNotify, b.cfg.PingInterval, &b.wg)
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		conn.close(errClosed)
		<-conn.done
		return nil, errClosed
	}
	b.conn = conn
	b.mu.Unlock()

	fail := func(err error) (*rpcConn, error) {
		conn.close(err)
		<-conn.done
		b.forget(conn)
		return nil, err
	}
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
	defer cancel()
	if b.localMode() != nil {
		if err := b.handshakeLocal(ctx, conn); err != nil {
			return fail(err)
		}
	} else {
		if err := b.reloadFilter(ctx, conn); err != nil {
			return fail(fmt.Errorf("load filter: %w", err))
		}
		if err := conn.callInto(cctx, nil, "notifyblocks"); err != nil {
			return fail(err)
		}
	}
	tip, err := b.tipOn(cctx, conn)
	if err != nil {
		return fail(err)
	}
	b.q.mu.Lock()
	conn.ready = true
	b.q.pushLocked(chain.Event{Kind: chain.EventConnected, Tip: tip})
	for _, ev := range conn.held {
		b.q.pushLocked(ev)
	}
	conn.held = nil
	b.q.mu.Unlock()
	return conn, nil
}

// reloadFilter replaces the node's filter for conn with the full set.
func (b *Backend) reloadFilter(ctx context.Context, conn *rpcConn) error {
	b.loadMu.Lock()
	defer b.loadMu.Unlock()
	b.setMu.Lock()
	addrs := make([]string, 0, len(b.addrs))
	for a := range b.addrs {
		addrs = append(addrs, a)
	}
	ops := make([]wire.OutPoint, 0, len(b.outpoints))
	for op := range b.outpoints {
		ops = append(ops, op)
	}
	b.setMu.Unlock()
	t0 := time.Now()
	if _, err := b.sendFilter(ctx, conn, true, addrs, ops); err != nil {
		return err
	}
	conn.filterLoaded = true
	b.log.Debug("btcdws: filter loaded", "addresses", len(addrs), "outpoints", len(ops), "took", time.Since(t0))
	return nil
}

type jsonOutPoint struct {
	Hash  string `json:"hash"`
	Index uint32 `json:"index"`
}

// sendFilter sends addrs and ops in chunks of FilterChunk, one call after
// the other; the first call has the given reload flag (a reload always sends
// at least one call, so the node has a filter even when it is empty). It
// returns how many addresses and outpoints the node acknowledged.
func (b *Backend) sendFilter(ctx context.Context, conn *rpcConn, reload bool, addrs []string, ops []wire.OutPoint) (int, error) {
	chunk := b.cfg.FilterChunk
	sent := 0
	first := true
	for first || len(addrs) > 0 || len(ops) > 0 {
		na := min(chunk, len(addrs))
		no := min(chunk-na, len(ops))
		jops := make([]jsonOutPoint, no)
		for i, op := range ops[:no] {
			jops[i] = jsonOutPoint{Hash: op.Hash.String(), Index: op.Index}
		}
		part := addrs[:na]
		if part == nil {
			part = []string{}
		}
		cctx, cancel := context.WithTimeout(ctx, b.cfg.CallTimeout)
		err := conn.callInto(cctx, nil, "loadtxfilter", reload && first, part, jops)
		cancel()
		if err != nil {
			return sent, err
		}
		sent += na + no
		addrs, ops = addrs[na:], ops[no:]
		first = false
	}
	return sent, nil
}

// Watch adds scripts and outpoints to the filter. Each script must have an
// address form (P2PKH, P2SH, P2WPKH, P2WSH, P2TR, or P2PK which is watched as
// its key's P2PKH); otherwise Watch returns an error wrapping
// chain.ErrUnsupported and adds nothing. Items already watched are skipped.
//
// When connected, the additions are sent to the node (loadtxfilter
// reload=false, FilterChunk addresses per call) before Watch returns. When
// not connected — or if the connection drops meanwhile — Watch records them
// and returns nil: they are loaded with the full filter before the next
// EventConnected. If a call fails otherwise (ctx, node error), the additions
// not acknowledged are forgotten so that repeating Watch sends them again.
// After Close, Watch returns an error wrapping chain.ErrNotConnected.
//
// When matching locally (MatchLocally), Watch only checks the scripts and
// records nothing: the Matcher answers for scripts and outpoints.
func (b *Backend) Watch(ctx context.Context, scripts [][]byte, outpoints []wire.OutPoint) error {
	addrs := make([]string, 0, len(scripts))
	for _, s := range scripts {
		a, err := b.addressOf(s)
		if err != nil {
			return fmt.Errorf("btcdws: watch script %x: %w: %v", s, chain.ErrUnsupported, err)
		}
		addrs = append(addrs, a)
	}
	if b.localMode() != nil {
		b.mu.Lock()
		closed := b.closed
		b.mu.Unlock()
		if closed {
			return errClosed
		}
		return nil
	}
	b.loadMu.Lock()
	defer b.loadMu.Unlock()
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errClosed
	}

	newAddrs, newOps := b.addToSet(addrs, outpoints)
	if len(newAddrs) == 0 && len(newOps) == 0 {
		return nil
	}
	conn := b.currentConn()
	if conn == nil || !conn.filterLoaded {
		return nil
	}
	sent, err := b.sendFilter(ctx, conn, false, newAddrs, newOps)
	if err == nil || errors.Is(err, chain.ErrNotConnected) {
		return nil
	}
	b.forgetUnsent(newAddrs, newOps, sent)
	return fmt.Errorf("btcdws: watch: %w", err)
}

// addToSet adds addrs and ops to the watched sets and returns those that
// were not in them yet (what the node must be sent). Caller holds loadMu.
func (b *Backend) addToSet(addrs []string, ops []wire.OutPoint) ([]string, []wire.OutPoint) {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	newAddrs := make([]string, 0, len(addrs))
	for _, a := range addrs {
		if _, ok := b.addrs[a]; !ok {
			b.addrs[a] = struct{}{}
			newAddrs = append(newAddrs, a)
		}
	}
	newOps := make([]wire.OutPoint, 0, len(ops))
	for _, op := range ops {
		if _, ok := b.outpoints[op]; !ok {
			b.outpoints[op] = struct{}{}
			newOps = append(newOps, op)
		}
	}
	return newAddrs, newOps
}

// forgetUnsent removes from the sets the additions the node did not
// acknowledge (the first sent of newAddrs then newOps were), so that
// watching them again sends them. Caller holds loadMu.
func (b *Backend) forgetUnsent(newAddrs []string, newOps []wire.OutPoint, sent int) {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	for i, a := range newAddrs {
		if i >= sent {
			delete(b.addrs, a)
		}
	}
	for i, op := range newOps {
		if len(newAddrs)+i >= sent {
			delete(b.outpoints, op)
		}
	}
}

// learn adds the outpoints of tx outputs paying watched scripts to the
// filter set, mirroring what the node does on its side, so a reload after a
// reconnect keeps reporting their spends.
func (b *Backend) learn(txs ...*wire.MsgTx) {
	for _, tx := range txs {
		var hash *chainhash.Hash
		for i, out := range tx.TxOut {
			a, err := b.addressOf(out.PkScript)
			if err != nil {
				continue
			}
			b.setMu.Lock()
			if _, ok := b.addrs[a]; ok {
				if hash == nil {
					h := tx.TxHash()
					hash = &h
				}
				b.outpoints[wire.OutPoint{Hash: *hash, Index: uint32(i)}] = struct{}{}
			}
			b.setMu.Unlock()
		}
	}
}

// spentIn records the outpoints of the set that txs (the matching
// transactions of the block at height) spend, and drops those spent
// PruneDepth blocks below the best block: they need no watching any more,
// and re-sending them on every reconnect would grow with every payment
// ever received.
func (b *Backend) spentIn(height int32, txs []*wire.MsgTx) {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	for _, tx := range txs {
		for _, in := range tx.TxIn {
			if _, ok := b.outpoints[in.PreviousOutPoint]; ok {
				b.spent[in.PreviousOutPoint] = height
			}
		}
	}
	b.best = max(b.best, height)
	cut := b.best - int32(b.cfg.PruneDepth)
	for op, h := range b.spent {
		if h <= cut {
			delete(b.outpoints, op)
			delete(b.spent, op)
		}
	}
}

// unspentFrom forgets the spends recorded in blocks from height up (they
// were disconnected): those outpoints are watched as before.
func (b *Backend) unspentFrom(height int32) {
	b.setMu.Lock()
	defer b.setMu.Unlock()
	for op, h := range b.spent {
		if h >= height {
			delete(b.spent, op)
		}
	}
	if b.best >= height {
		b.best = height - 1
	}
}

// onNotify runs on the reader goroutine: decode, then queue (or hold until
// the connection's EventConnected is queued).
func (b *Backend) onNotify(c *rpcConn, method string, params []json.RawMessage) {
	var ev chain.Event
	var ok bool
	var err error
	if f := b.localMode(); f != nil {
		ev, ok, err = b.decodeLocalNote(f, method, params)
	} else {
		ev, ok, err = b.decodeNote(method, params)
	}
	if err != nil {
		b.log.Warn("btcdws: bad notification from node", "method", method, "err", err)
		return
	}
	if !ok {
		return
	}
	b.q.mu.Lock()
	if c.ready {
		b.q.pushLocked(ev)
	} else {
		c.held = append(c.held, ev)
	}
	b.q.mu.Unlock()
}

func (b *Backend) decodeNote(method string, params []json.RawMessage) (chain.Event, bool, error) {
	switch method {
	case "relevanttxaccepted":
		if len(params) < 1 {
			return chain.Event{}, false, errors.New("missing params")
		}
		var s string
		if err := json.Unmarshal(params[0], &s); err != nil {
			return chain.Event{}, false, err
		}
		tx, err := decodeTx(s)
		if err != nil {
			return chain.Event{}, false, err
		}
		b.learn(tx)
		return chain.Event{Kind: chain.EventTxAccepted, Tx: tx}, true, nil

	case "filteredblockconnected":
		if len(params) < 2 {
			return chain.Event{}, false, errors.New("missing params")
		}
		ref, err := decodeHeaderParams(params[0], params[1])
		if err != nil {
			return chain.Event{}, false, err
		}
		var hexTxs []string
		if len(params) > 2 {
			if err := json.Unmarshal(params[2], &hexTxs); err != nil {
				return chain.Event{}, false, err
			}
		}
		txs := make([]*wire.MsgTx, 0, len(hexTxs))
		for _, s := range hexTxs {
			tx, err := decodeTx(s)
			if err != nil {
				return chain.Event{}, false, err
			}
			txs = append(txs, tx)
		}
		b.learn(txs...)
		b.spentIn(ref.Height, txs)
		return chain.Event{Kind: chain.EventBlockConnected, Block: &chain.Block{BlockRef: ref, Txs: txs}}, true, nil

	case "filteredblockdisconnected":
		if len(params) < 2 {
			return chain.Event{}, false, errors.New("missing params")
		}
		ref, err := decodeHeaderParams(params[0], params[1])
		if err != nil {
			return chain.Event{}, false, err
		}
		b.unspentFrom(ref.Height)
		return chain.Event{Kind: chain.EventBlockDisconnected, Block: &chain.Block{BlockRef: ref}}, true, nil
	}
	return chain.Event{}, false, nil
}

func decodeHeaderParams(rawHeight, rawHeader json.RawMessage) (chain.BlockRef, error) {
	var height int32
	if err := json.Unmarshal(rawHeight, &height); err != nil {
		return chain.BlockRef{}, err
	}
	var s string
	if err := json.Unmarshal(rawHeader, &s); err != nil {
		return chain.BlockRef{}, err
	}
	raw, err := hex.DecodeString(s)
	if err != nil {
		return chain.BlockRef{}, err
	}
	var h wire.BlockHeader
	if err := h.Deserialize(bytes.NewReader(raw)); err != nil {
		return chain.BlockRef{}, err
	}
	return chain.BlockRef{Height: height, Hash: h.BlockHash(), Prev: h.PrevBlock, Time: h.Timestamp}, nil
}

// decodeTx decodes a node's hex transaction; ltcwire reads Litecoin's MWEB
// serialization (ltcd) as well as Bitcoin's.
func decodeTx(s string) (*wire.MsgTx, error) {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return nil, err
	}
	return ltcwire.DecodeTx(raw)
}
