package base

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/spec"
)

// Event is one notification for websocket clients. Payload is the event
// object of contract.md §7 ({"event": "new_block", ...}), already carrying
// its "seq". Wallet is the wallet key of the event ("" for a global event
// such as new_block).
type Event struct {
	Seq     uint64
	Wallet  string
	Payload json.RawMessage
}

// EventSource is the durable event log a hub replays from for clients that
// connect with ?since=N.
type EventSource interface {
	// EventsAfter returns up to limit events with Seq > after, in order.
	EventsAfter(ctx context.Context, after uint64, limit int) ([]Event, error)
}

// HubConfig configures a Hub. Zero values take the documented defaults.
type HubConfig struct {
	// Currency is sent in every frame ("BTC").
	Currency string
	// QueueSize bounds each client's pending frames (default 1024). A
	// client whose queue is full is closed with code 1008 and a reason
	// naming the last seq it was sent, never slowing anyone else.
	QueueSize int
	// PingInterval is the keepalive period (default 30s); a client that
	// answers no ping within two periods is dropped.
	PingInterval time.Duration
	// WriteTimeout bounds one frame write (default 10s).
	WriteTimeout time.Duration
	// Source replays missed events for ?since=; nil disables replay.
	Source EventSource
	// Log receives connection logs; nil discards.
	Log *slog.Logger
}

// Hub fans events out to websocket clients. It is safe for concurrent use;
// Publish never blocks on a client.
type Hub struct {
	cfg      HubConfig
	upgrader websocket.Upgrader
	mu       sync.Mutex
	clients  map[*client]struct{}
	closed   bool
	wg       sync.WaitGroup
	dropped  atomic.Uint64
}

// NewHub builds a hub.
func NewHub(cfg HubConfig) *Hub {
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 1024
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Hub{
		cfg:     cfg,
		clients: map[*client]struct{}{},
		upgrader: websocket.Upgrader{
			ReadBufferSize:  4096,
			WriteBufferSize: 4096,
			// Clients are processors and merchants, not browsers on other
			// origins; Basic auth protects the route.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// SetSource sets the replay source; call it before serving.
func (h *Hub) SetSource(src EventSource) { h.cfg.Source = src }

// Clients returns the number of connected websocket clients.
func (h *Hub) Clients() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

// SlowClientsDropped counts clients closed because their queue was full.
func (h *Hub) SlowClientsDropped() uint64 { return h.dropped.Load() }

// frame is the wire frame of one event.
type frame struct {
	Updates  []json.RawMessage `json:"updates"`
	Wallet   *string           `json:"wallet"`
	Currency string            `json:"currency"`
}

func (h *Hub) encode(ev Event) []byte {
	f := frame{Updates: []json.RawMessage{ev.Payload}, Currency: h.cfg.Currency}
	if ev.Wallet != "" {
		w := ev.Wallet
		f.Wallet = &w
	}
	b, _ := json.Marshal(f)
	return b
}

// outgoing is a queued frame.
type outgoing struct {
	seq    uint64
	wallet string
	data   []byte
}

// client is one websocket connection.
type client struct {
	conn     *websocket.Conn
	queue    chan outgoing
	filter   atomic.Pointer[string]
	done     chan struct{}
	once     sync.Once
	lastSent atomic.Uint64
}

// wants reports whether the client's filter admits an event of wallet.
func (c *client) wants(wallet string) bool {
	f := c.filter.Load()
	return f == nil || wallet == "" || *f == wallet
}

// Publish sends ev to every client whose filter admits it. A client whose
// queue is full is closed (1008) so that it resumes with ?since=.
func (h *Hub) Publish(ev Event) {
	data := h.encode(ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	for c := range h.clients {
		select {
		case c.queue <- outgoing{seq: ev.Seq, wallet: ev.Wallet, data: data}:
		default:
			h.dropped.Add(1)
			go h.closeClient(c, websocket.ClosePolicyViolation,
				fmt.Sprintf("client too slow; reconnect with ?since=%d", c.lastSent.Load()))
			delete(h.clients, c)
		}
	}
}

// closeClient sends a close frame with code and reason and ends the
// connection; safe to call more than once.
func (h *Hub) closeClient(c *client, code int, reason string) {
	c.once.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(c.done)
		_ = c.conn.Close()
	})
}

// ServeWS upgrades an (already authenticated) request and serves the
// client until it leaves or the hub closes. With ?since=N it first replays
// events after N from the source, then goes live without gaps or repeats.
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
	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	c := &client{conn: conn, queue: make(chan outgoing, h.cfg.QueueSize), done: make(chan struct{})}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.closeClient(c, websocket.CloseGoingAway, "server shutting down")
		return
	}
	h.clients[c] = struct{}{}
	h.wg.Add(2)
	h.mu.Unlock()
	h.cfg.Log.Debug("ws client connected", "remote", r.RemoteAddr, "since", since)
	go h.readLoop(c)
	go h.writeLoop(c, since, replay)
}

func (h *Hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// readLoop reads filter frames ({"xpub": "<wallet key>"}) and pongs; other
// frames are ignored.
func (h *Hub) readLoop(c *client) {
	defer h.wg.Done()
	defer func() {
		h.remove(c)
		h.closeClient(c, websocket.CloseNormalClosure, "")
	}()
	c.conn.SetReadLimit(64 << 10)
	deadline := func() { _ = c.conn.SetReadDeadline(time.Now().Add(2*h.cfg.PingInterval + h.cfg.WriteTimeout)) }
	deadline()
	c.conn.SetPongHandler(func(string) error { deadline(); return nil })
	for {
		typ, msg, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		deadline()
		if typ != websocket.TextMessage {
			continue
		}
		var f struct {
			Xpub *string `json:"xpub"`
		}
		if json.Unmarshal(msg, &f) != nil || f.Xpub == nil {
			continue
		}
		if *f.Xpub == "" {
			c.filter.Store(nil)
		} else {
			key := *f.Xpub
			c.filter.Store(&key)
		}
	}
}

// writeLoop replays (if asked), then writes queued frames and pings.
func (h *Hub) writeLoop(c *client, since uint64, replay bool) {
	defer h.wg.Done()
	// The request's context ends when ServeWS returns; replay lives as
	// long as the connection.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	defer func() {
		h.remove(c)
		h.closeClient(c, websocket.CloseNormalClosure, "")
	}()
	last := since
	if replay && h.cfg.Source != nil {
		for {
			evs, err := h.cfg.Source.EventsAfter(ctx, last, 500)
			if err != nil {
				h.cfg.Log.Error("ws replay", "err", err)
				h.closeClient(c, websocket.CloseInternalServerErr, "replay failed")
				return
			}
			for _, ev := range evs {
				last = ev.Seq
				if !c.wants(ev.Wallet) {
					continue
				}
				if !h.write(c, h.encode(ev), ev.Seq) {
					return
				}
			}
			if len(evs) < 500 {
				break
			}
		}
	}
	ping := time.NewTicker(h.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case o := <-c.queue:
			if o.seq != 0 && o.seq <= last {
				continue // already replayed
			}
			if !c.wants(o.wallet) {
				continue
			}
			if !h.write(c, o.data, o.seq) {
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(h.cfg.WriteTimeout)); err != nil {
				return
			}
		}
	}
}

func (h *Hub) write(c *client, data []byte, seq uint64) bool {
	_ = c.conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
	if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
		return false
	}
	if seq != 0 {
		c.lastSent.Store(seq)
	}
	return true
}

// Close stops accepting clients, sends every client a close frame with code
// 1001 (going away) and waits for their goroutines, bounded by ctx.
func (h *Hub) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	clients := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		h.closeClient(c, websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
