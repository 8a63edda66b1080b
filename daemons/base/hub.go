package base

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/spec"
)

// Event is one notification for websocket clients. Payload is the event
// object of contract.md §7 ({"event": "new_block", ...}), already carrying
// its "seq".
type Event struct {
	Seq uint64
	// WalletID identifies the wallet the event is about, the same for every
	// key form of that wallet (the daemon's fingerprint); "" for a global
	// event such as new_block. When empty, Wallet identifies the wallet.
	WalletID string
	// Wallet names the wallet in frames sent to clients that did not
	// filter: a public key string, never a secret. "" for a global event.
	Wallet  string
	Payload json.RawMessage
}

// walletID returns what identifies the event's wallet ("" when global).
func (ev Event) walletID() string {
	if ev.WalletID != "" {
		return ev.WalletID
	}
	return ev.Wallet
}

// EventSource is the durable event log a hub replays from for clients that
// connect with ?since=N.
type EventSource interface {
	// EventsAfter returns up to limit events with Seq > after, in order.
	EventsAfter(ctx context.Context, after uint64, limit int) ([]Event, error)
}

// Resolver maps the wallet key of a client's {"xpub": key} frame (any key
// form: public or private key, seed, address or WIF list) to the WalletID
// its events carry. ok is false for a string that is not key material; the
// client then receives only global events (Bitcart's behaviour for a filter
// that names no wallet).
type Resolver func(ctx context.Context, key string) (walletID string, ok bool)

// HubConfig configures a Hub. Zero values take the documented defaults.
type HubConfig struct {
	// Currency is sent in every frame ("BTC").
	Currency string
	// QueueSize bounds the frames a client may have waiting while its
	// socket is backed up (default 1024): past it, once the socket has
	// taken nothing for 100 ms, the client is closed with code 1008 and a
	// reason naming the seq to resume from. A client whose socket keeps
	// taking frames may fall up to 16 times this bound behind.
	QueueSize int
	// SendBuffer is each socket's kernel send buffer (SO_SNDBUF, default 32
	// KiB; Linux doubles it), so that a client that stops reading is noticed
	// after a bounded number of frames instead of several megabytes.
	SendBuffer int
	// PingInterval is the keepalive period (default 30s): a client that has
	// not answered a ping by the next one is closed.
	PingInterval time.Duration
	// WriteTimeout bounds how long a backed-up socket may accept nothing
	// before its client is dropped, and how long its close frame may take
	// (default 10s).
	WriteTimeout time.Duration
	// MaxClients caps connected websocket clients (default 1000); an
	// upgrade past it is answered with a JSON error.
	MaxClients int
	// Origins lists the Origin header values allowed to upgrade (a browser
	// sends one; Bitcart's SDK and merchant send none). Empty allows no
	// browser; "*" allows any origin.
	Origins []string
	// Writers is the number of goroutines writing frames to sockets
	// (default half the CPUs, at least 1), so that a fan-out to many
	// clients leaves CPU to RPC; as many read what polled clients send.
	Writers int
	// Resolve maps register frames to wallets; nil matches the key string
	// itself against Event.WalletID.
	Resolve Resolver
	// Source replays missed events for ?since=; nil disables replay.
	Source EventSource
	// Log receives connection logs; nil discards.
	Log *slog.Logger
}

const (
	defaultQueueSize  = 1024
	defaultSendBuffer = 32 << 10
	defaultMaxClients = 1000
	// hardCapFactor bounds a client's waiting frames (QueueSize times
	// this) even when its socket keeps taking frames.
	hardCapFactor = 16
	// slowAfter: a client with more than QueueSize frames waiting is
	// dropped once its socket has taken nothing for this long.
	slowAfter = 100 * time.Millisecond
	// replayPage is how many logged events a replay reads at once.
	replayPage = 500
	// replayGrace is how long a replay waits for the client's first frame
	// (usually its register frame), so that a filtered client resumes with
	// only its wallet's events.
	replayGrace = 100 * time.Millisecond
	// readLimit bounds a client's frame.
	readLimit = 64 << 10
)

// Hub fans events out to websocket clients. It is safe for concurrent use;
// Publish never blocks on a client.
//
// Each event is rendered once per distinct wallet name and queued, as a
// shared frame, only for the clients whose filter admits it. A small pool of
// writer goroutines drains the queues, batching a client's frames into one
// write; clients whose send queues are full wait for room in one watcher
// goroutine (a socket that did not take a whole batch at once gets a
// goroutine of its own to finish it), while their queues are bounded. One
// poller (epoll on Linux) watches every client for frames to read and hands
// the readable ones to a few reader goroutines, so an idle client costs no
// goroutine: about a kilobyte of memory.
type Hub struct {
	cfg      HubConfig
	upgrader websocket.Upgrader
	tail     []byte // `],"wallet":` … is written per frame; this is `,"currency":"BTC"}`
	origins  map[string]bool
	anyOrig  bool
	ctx      context.Context
	cancel   context.CancelFunc

	// pubMu orders publishers (each client's frames in seq order);
	// publish holds it, and h.mu only to see the clients.
	pubMu sync.Mutex
	pend  []*client // clients publish hands to the writers next (under pubMu)

	mu sync.Mutex
	// clients is appended to in place, never otherwise changed in place
	// (remove makes a new array), so that publish may read the slice it
	// saw under mu after releasing it.
	clients  []*client
	reserved int    // upgrades in progress, counted against MaxClients
	lastSeq  uint64 // highest seq published
	closed   bool

	start   sync.Once
	run     runq
	rooms   roomWatch // clients waiting for room in their send queue
	reads   runq      // polled clients with something to read
	poll    *poller   // nil: a reading goroutine per client
	noPoll  bool      // tests: force the reading goroutines
	nextID  atomic.Uint64
	conns   sync.WaitGroup // read loops and goroutines writing to one client
	workers sync.WaitGroup // the writer pool, the room watcher and the keepalive ticker
	dropped atomic.Uint64
	writes  atomic.Uint64 // writes the pool made (tests count them)
	spans   atomic.Uint64 // buffers those writes handed the kernel
	// outqAsks counts the kernel asked for a send queue's bytes.
	outqAsks atomic.Uint64
	// sleep and now are yieldFor and time.Now: tests watch and clock the
	// writers' waits for a burst (awaitBurst).
	sleep func(time.Duration)
	now   func() time.Time
}

// NewHub builds a hub.
func NewHub(cfg HubConfig) *Hub {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = defaultQueueSize
	}
	if cfg.SendBuffer <= 0 {
		cfg.SendBuffer = defaultSendBuffer
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.MaxClients <= 0 {
		cfg.MaxClients = defaultMaxClients
	}
	if cfg.Writers <= 0 {
		cfg.Writers = max(1, runtime.GOMAXPROCS(0)/2)
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	cur, _ := Marshal(cfg.Currency)
	h := &Hub{
		sleep:   yieldFor,
		now:     time.Now,
		cfg:     cfg,
		tail:    []byte(`,"currency":` + string(cur) + `}`),
		origins: map[string]bool{},
		upgrader: websocket.Upgrader{
			// After the upgrade the hub reads and writes the connection
			// itself (hub_conn.go, hub_read.go): gorilla only answers
			// the handshake, reusing net/http's buffers.
			WriteBufferPool: &sync.Pool{},
			// ServeWS applies the Origin policy before upgrading, to
			// answer with a JSON error.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
	for _, o := range cfg.Origins {
		o = normOrigin(o)
		if o == "*" {
			h.anyOrig = true
		}
		if o != "" {
			h.origins[o] = true
		}
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.run.cond.L = &h.run.mu
	h.reads.cond.L = &h.reads.mu
	h.rooms.wake = make(chan struct{}, 1)
	h.rooms.timer = time.NewTimer(time.Hour)
	h.rooms.timer.Stop()
	return h
}

// SetSource sets the replay source; call it before serving.
func (h *Hub) SetSource(src EventSource) { h.cfg.Source = src }

// Clients returns the number of connected websocket clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// SlowClientsDropped counts clients closed because they did not take their
// frames: a queue past QueueSize behind a backed-up socket, or a socket
// that accepted nothing for WriteTimeout.
func (h *Hub) SlowClientsDropped() uint64 { return h.dropped.Load() }

// normOrigin lower-cases an origin and drops a trailing slash.
func normOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// originAllowed applies the Origin policy: no header (a non-browser
// client) passes; a browser's origin must be listed.
func (h *Hub) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	return o == "" || h.anyOrig || h.origins[normOrigin(o)]
}

// ServeWS upgrades an (already authenticated) request and serves the
// client until it leaves or the hub closes. With ?since=N it first replays
// events after N from the source, then goes live without gaps or repeats.
// A browser origin not allowed, a full hub or a bad since is answered with
// a JSON error instead of an upgrade.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	var since uint64
	replay := false
	if s := r.URL.Query().Get("since"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.InvalidParams, "since must be a non-negative integer")))
			return
		}
		since, replay = n, true
	}
	if !h.originAllowed(r) {
		writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.Unauthorized, "websocket upgrade from this Origin is not allowed")))
		return
	}
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.Internal, "server shutting down")))
		return
	case len(h.clients)+h.reserved >= h.cfg.MaxClients:
		h.mu.Unlock()
		h.cfg.Log.Warn("ws client refused: too many clients", "remote", r.RemoteAddr, "max", h.cfg.MaxClients)
		writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.Internal, "too many websocket clients (limit %d)", h.cfg.MaxClients)))
		return
	}
	h.reserved++
	h.start.Do(h.startWorkers)
	h.mu.Unlock()

	conn, err := h.upgrader.Upgrade(w, r, nil)
	var raw syscall.RawConn
	var wc net.Conn
	fd := -1
	if err == nil {
		wc = conn.NetConn()
		if tc := tcpConn(conn.NetConn()); tc != nil {
			// net.Buffers.WriteTo makes one writev only on the socket
			// itself; through a wrapper it writes each frame apart.
			wc = tc
			_ = tc.SetWriteBuffer(h.cfg.SendBuffer)
			if raw, _ = tc.SyscallConn(); raw != nil {
				_ = raw.Control(func(u uintptr) { fd = int(u) })
			}
		}
	}
	h.mu.Lock()
	h.reserved--
	if err != nil {
		h.mu.Unlock()
		return // the upgrader has answered the client
	}
	if h.closed { // Close ran during the upgrade
		h.mu.Unlock()
		nc := conn.NetConn()
		_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = nc.Write(controlFrame(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down")))
		_ = nc.Close()
		return
	}
	// From here the hub reads and writes the connection itself; gorilla's
	// Conn (and its buffers) is dropped.
	c := &client{h: h, id: h.nextID.Add(1), nc: conn.NetConn(), wc: wc, raw: raw, fd: fd, live: true, pos: h.lastSeq}
	if fd >= 0 {
		// Half the send buffer: the rest is room for the close frame,
		// whatever the kernel's per-packet overhead.
		c.sendLimit = sendBufSize(fd) / 2
	}
	if replay {
		c.pos = since
		if h.cfg.Source != nil {
			c.live = false
			c.owner = ownerDedicated
			c.first = make(chan struct{})
		}
	}
	replaying := !c.live
	c.idx = len(h.clients)
	h.clients = append(h.clients, c)
	h.conns.Add(1) // until terminate
	// In the hub before the poller can see it, so that its first read
	// finds it in place. polled means "may be in the poller".
	c.polled = h.poll != nil && fd >= 0
	h.mu.Unlock()
	h.cfg.Log.Debug("ws client connected", "remote", r.RemoteAddr, "since", since, "replay", replay)
	if !c.polled || h.poll.add(c) != nil {
		go h.readLoop(c)
	}
	if replaying {
		go h.replay(c, since)
	}
}

// tcpConn returns the TCP socket under c: c itself, or the socket a
// ConnLimiter's slot wraps (reads, writes and Close still go through c, so
// the slot is given back). Other wrappers (TLS) give nil: the hub then
// reads through them with a goroutine and has no send-queue bound.
func tcpConn(c net.Conn) *net.TCPConn {
	if lc, ok := c.(*limitedConn); ok {
		c = lc.Conn
	}
	tc, _ := c.(*net.TCPConn)
	return tc
}

// startWorkers starts the writer pool, the keepalive ticker and (where
// there is one) the poller.
func (h *Hub) startWorkers() {
	if !h.noPoll {
		if p, err := newPoller(); err == nil {
			h.poll = p
			h.workers.Add(1)
			go p.run(h)
		} else {
			h.cfg.Log.Debug("ws: a reading goroutine per client", "err", err)
		}
	}
	for range h.cfg.Writers {
		h.workers.Add(1)
		go h.writer()
	}
	h.workers.Add(1)
	go h.rooms.run(h)
	h.workers.Add(1)
	go h.pinger()
}

// remove forgets a finished client.
func (h *Hub) remove(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := c.idx
	if i < 0 || i >= len(h.clients) || h.clients[i] != c {
		return
	}
	// A new array: publish reads the old one without the lock
	// (h.clients is only ever appended to in place).
	last := len(h.clients) - 1
	cl := slices.Clone(h.clients)
	cl[i] = cl[last]
	cl[i].idx = i
	cl[last] = nil
	h.clients = cl[:last]
	c.idx = -1
}

// Publish queues ev for every client whose filter admits it, rendering its
// frame once per distinct wallet name. A client whose socket is backed up
// and whose queue passes QueueSize is closed (1008) so that it resumes with
// ?since=. A client's frames wait for more published right after them
// (awaitBurst); PublishBatch sends a known burst without that wait.
func (h *Hub) Publish(ev Event) {
	h.publish([]Event{ev}, false)
}

// PublishBatch queues evs, in order (one commit's events: a block's, or a
// mempool transaction's), as Publish would each, but hands each client to
// the writer pool once, with all of its frames of the batch queued: a
// block's burst goes out to each client in as few writes as its frames
// take (32 KiB each), with no wait for the rest of the burst, and a
// client's lock is taken once per batch instead of once per event.
func (h *Hub) PublishBatch(evs []Event) {
	if len(evs) > 0 {
		h.publish(evs, true)
	}
}

// publishYield is how many clients publish serves between two yields of
// the processor (and two hand-overs to the writer pool).
const publishYield = 64

// shareAfter: a batch of more events than this is queued for an
// unfiltered client as one run shared by all of them (smaller ones are
// copied into the client's own run: a lone event costs no run of its own).
const shareAfter = 4

// publish queues evs for the clients. whole: evs are the whole burst, so
// the writer need not wait for more.
//
// It holds the hub's lock only to read the clients (a connecting client
// is not held for a block's publication; it sees the events published
// after it joined); publishers are ordered by pubMu.
func (h *Hub) publish(evs []Event, whole bool) {
	h.pubMu.Lock()
	defer h.pubMu.Unlock()
	h.mu.Lock()
	for _, ev := range evs {
		if ev.Seq > h.lastSeq {
			h.lastSeq = ev.Seq
		}
	}
	clients := h.clients
	h.mu.Unlock()
	if len(clients) == 0 {
		return
	}
	// A block publishes hundreds of events, each to every client: yield
	// now and then, so that RPC goroutines waiting for this processor
	// (one may hold a store lock others wait for) are not held off for
	// the whole block (21 ms at 1,000 clients in a trace).
	defer runtime.Gosched()
	p := newPubBatch(h, evs)
	limit, hard := h.cfg.QueueSize, h.cfg.QueueSize*hardCapFactor
	var t time.Time
	now := func() time.Time { // read once, only when a queue is long
		if t.IsZero() {
			t = time.Now()
		}
		return t
	}
	var idx []int32
	for i, c := range clients {
		if i > 0 && i%publishYield == 0 {
			h.handOver()
			runtime.Gosched()
		}
		f := c.filter.Load()
		shared := f == nil && len(evs) > shareAfter
		if !shared {
			idx = p.admitted(f, idx[:0])
			if len(idx) == 0 {
				continue // other wallets' events: not even the client's lock
			}
		}
		c.mu.Lock()
		if c.live && c.closing == nil && !c.done {
			if shared {
				c.queueShared(p.public, p.bytes)
			} else {
				for _, j := range idx {
					c.queueOwn(qent{f: p.rs[j].frame(f), seq: p.rs[j].ev.Seq}, len(idx))
				}
			}
			if n := c.qn; n > hard || (n > limit && c.blocked && now().Sub(time.Unix(0, c.progress.Load())) > slowAfter) {
				h.dropped.Add(1)
				h.cfg.Log.Info("ws client too slow, closing", "remote", c.nc.RemoteAddr().String(), "waiting", n, "since", c.pos)
				c.startClose(websocket.ClosePolicyViolation, "client too slow", true)
				c.closing.slow = true
			}
			if c.closing == nil && c.owner == ownerNone && c.hasWork() {
				c.owner = ownerPool
				c.queuedAt = h.now()
				if whole {
					c.queuedAt = time.Time{} // the whole burst is queued
				}
				h.pend = append(h.pend, c)
			}
		}
		c.mu.Unlock()
	}
	h.handOver()
}

// handOver gives the writer pool the clients publish scheduled, in one
// push. pubMu is held.
func (h *Hub) handOver() {
	if len(h.pend) > 0 {
		h.run.pushAll(h.pend)
		clear(h.pend)
		h.pend = h.pend[:0]
	}
}

// pubBatch is what publish renders once per batch for every client.
type pubBatch struct {
	rs     []renderer
	public []qent // each event's frame for a client that takes every event, in one array of bytes (shared, read only)
	bytes  int    // their size
	global []int32
	byID   map[string][]int32 // events of each wallet (for a batch of more than shareAfter)
}

func newPubBatch(h *Hub, evs []Event) *pubBatch {
	p := &pubBatch{rs: make([]renderer, len(evs))}
	for i, ev := range evs {
		p.rs[i] = renderer{h: h, ev: ev}
	}
	p.public = h.renderPublic(p.rs)
	for _, e := range p.public {
		p.bytes += len(e.f.b)
	}
	if len(evs) > shareAfter {
		p.byID = map[string][]int32{}
		for i, ev := range evs {
			if id := ev.walletID(); id == "" {
				p.global = append(p.global, int32(i))
			} else {
				p.byID[id] = append(p.byID[id], int32(i))
			}
		}
	}
	return p
}

// admitted appends to idx, in order, the events a client filtering on f
// takes.
func (p *pubBatch) admitted(f *filter, idx []int32) []int32 {
	if p.byID == nil || f == nil {
		for j := range p.rs {
			if f.admits(p.rs[j].ev) {
				idx = append(idx, int32(j))
			}
		}
		return idx
	}
	var own []int32
	if f.id != "" {
		own = p.byID[f.id]
	}
	g := p.global
	for len(g) > 0 || len(own) > 0 {
		if len(own) == 0 || (len(g) > 0 && g[0] < own[0]) {
			idx, g = append(idx, g[0]), g[1:]
		} else {
			idx, own = append(idx, own[0]), own[1:]
		}
	}
	return idx
}

// keepalive runs once per PingInterval: a client that has not answered the
// previous ping is closed; every other client is sent a ping.
func (h *Hub) keepalive() {
	h.mu.Lock()
	clients := slices.Clone(h.clients)
	h.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		if c.pingPending {
			c.startClose(websocket.ClosePolicyViolation, "no pong to the last ping", true)
		} else {
			c.wantPing = true
			c.schedule()
		}
		c.mu.Unlock()
	}
}

func (h *Hub) pinger() {
	defer h.workers.Done()
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			h.keepalive()
		}
	}
}

// Close stops accepting clients, sends every client a close frame with code
// 1001 (going away) and waits for their connections to end, bounded by ctx;
// connections still open when ctx ends are cut.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	clients := slices.Clone(h.clients)
	h.mu.Unlock()
	for _, c := range clients {
		c.mu.Lock()
		c.startClose(websocket.CloseGoingAway, "server shutting down", true)
		c.mu.Unlock()
	}
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		h.mu.Lock()
		clients = slices.Clone(h.clients)
		h.mu.Unlock()
		for _, c := range clients {
			c.terminate()
		}
	}
	h.cancel()
	h.run.stop()
	h.reads.stop()
	if h.poll != nil {
		h.poll.stop()
	}
	h.workers.Wait()
	return err
}

// closeReason is the text of a close frame: what happened, and for a
// client the hub closed, where to resume.
func closeReason(reason string, resume bool, pos uint64) string {
	if !resume {
		return reason
	}
	return fmt.Sprintf("%s; missed events after seq %d: reconnect with ?since=%d", reason, pos, pos)
}
