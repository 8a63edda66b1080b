// Package base is the coin-agnostic daemon of walletd: an http.Handler that
// speaks the BitcartCC daemon contract (contract.md §1–4, §7). It serves
// POST / (extended JSON-RPC with Bitcart's params dialect and the xpub
// wallet selector), GET /ws (event notifications through a hub with bounded
// per-client queues), GET /spec (the error catalog), and the operational
// routes GET /healthz, GET /readyz and GET /metrics (Prometheus). It knows nothing about coins: a
// daemon gives it a method table, an error table and an event source.
package base

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/walletd/walletd/spec"
)

// Defaults for Config's zero values.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxBatch     = 100
)

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	// Currency is the coin's ticker, sent in every websocket frame.
	Currency string
	// Login and Password are the HTTP Basic credentials of every route
	// except /healthz and /readyz.
	Login, Password string
	// MaxBodyBytes limits a POST body (default 1 MiB).
	MaxBodyBytes int64
	// MaxBatch limits the number of requests in a batch (default 100).
	MaxBatch int
	// Catalog is served on GET /spec.
	Catalog *spec.Catalog
	// Methods is the method table (see NewTable).
	Methods *Table
	// Errors maps deeper packages' errors to contract codes.
	Errors ErrorTable
	// Hub fans events out to websocket clients; New makes one if nil.
	Hub *Hub
	// Ready reports whether the daemon is ready (backend connected and
	// synced) for GET /readyz; nil means always ready.
	Ready func() error
	// Log receives request and error logs; nil discards.
	Log *slog.Logger
	// Limits bound connections, requests and their time (see Limits).
	Limits Limits
	// AuthFailureDelay is how long a request with wrong credentials waits
	// before its Unauthorized reply (default 250ms, as Bitcoin Core).
	AuthFailureDelay time.Duration
}

// DefaultAuthFailureDelay is Config.AuthFailureDelay's default.
const DefaultAuthFailureDelay = 250 * time.Millisecond

// authPenaltySlots is how many failed logins may sit out their delay at
// once. Further ones wait for a slot (bounded by the connection limit and
// their client's patience), so wrong passwords are answered at most
// authPenaltySlots per AuthFailureDelay, whatever the number of
// connections: guessing stays slow, and waiting costs no more than the open
// connections the limit already allows.
const authPenaltySlots = 4

// Server is the http.Handler of a daemon. It is safe for concurrent use.
type Server struct {
	cfg      Config
	userHash [32]byte
	passHash [32]byte
	authHash [32]byte // of the canonical Authorization header
	catalog  []byte
	log      *slog.Logger
	reqSeq   atomic.Uint64
	metrics  *metrics
	hosts    hostPolicy
	work     chan struct{} // one token per request at work (MaxConcurrent)
	penalty  chan struct{} // one token per failed login sitting out its delay
	replies  sync.Pool     // *[]byte: reply buffers, reused once written
	bodies   sync.Pool     // *[]byte: request bodies (maxPooledBody), reused once answered
	authLog  rateLimitedLog
	hostLog  rateLimitedLog
}

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Methods == nil {
		return nil, errors.New("base: Config.Methods is required")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("base: Config.Catalog is required")
	}
	if cfg.Login == "" || cfg.Password == "" {
		return nil, errors.New("base: an empty login or password would let anyone in; set both")
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.AuthFailureDelay <= 0 {
		cfg.AuthFailureDelay = DefaultAuthFailureDelay
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Hub == nil {
		cfg.Hub = NewHub(HubConfig{Currency: cfg.Currency, Log: cfg.Log})
	}
	cat, err := Marshal(cfg.Catalog)
	if err != nil {
		return nil, fmt.Errorf("base: encoding catalog: %w", err)
	}
	met := newMetrics(cfg.Hub)
	met.prepare(cfg.Methods.Names())
	return &Server{
		cfg:      cfg,
		userHash: sha256.Sum256([]byte(cfg.Login)),
		passHash: sha256.Sum256([]byte(cfg.Password)),
		authHash: sha256.Sum256([]byte("Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Login+":"+cfg.Password)))),
		catalog:  cat,
		log:      cfg.Log,
		metrics:  met,
		hosts:    newHostPolicy(cfg.Limits.AllowedHosts),
		work:     make(chan struct{}, cfg.Limits.MaxConcurrent),
		penalty:  make(chan struct{}, authPenaltySlots),
		authLog:  rateLimitedLog{every: 10 * time.Second},
		hostLog:  rateLimitedLog{every: 10 * time.Second},
		replies:  sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }},
		bodies:   sync.Pool{New: func() any { b := make([]byte, maxPooledBody); return &b }},
	}, nil
}

// Hub returns the server's websocket hub.
func (s *Server) Hub() *Hub { return s.cfg.Hub }

// ServeHTTP routes a request. Every JSON reply is HTTP 200 except the 404
// of an unknown path and the 503 of /readyz; every reply body is JSON.
// /healthz and /readyz answer anyone; every other route checks the Host
// header (against DNS rebinding) and then the credentials, /metrics too
// unless Limits.MetricsPublic.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
		return
	case "/readyz":
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(); err != nil {
				b, _ := Marshal(map[string]string{"status": "not ready", "reason": err.Error()})
				writeJSON(w, http.StatusServiceUnavailable, b)
				return
			}
		}
		writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
		return
	case "/", "/ws", "/spec", "/metrics":
	default:
		writeJSON(w, http.StatusNotFound, errorReply(nullID, Errorf(spec.ProcedureNotFound, "Not found: %s", shorten(r.URL.Path))))
		return
	}
	if !s.hosts.allows(r.Host) {
		s.hostLog.log(s.log, "request with a Host header that is not allowed (DNS rebinding?); "+
			"list the name in <COIN>_ALLOWED_HOSTS if it is yours", "host", shorten(r.Host), "remote", remoteIP(r))
		replyAndClose(w, r, hostReply)
		return
	}
	if r.URL.Path == "/metrics" && bool(s.cfg.Limits.MetricsPublic) {
		s.metrics.handler.ServeHTTP(w, r)
		return
	}
	if !s.authorized(r) {
		s.refuse(w, r)
		return
	}
	switch r.URL.Path {
	case "/spec":
		writeJSON(w, http.StatusOK, s.catalog)
	case "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
	case "/ws":
		s.cfg.Hub.ServeWS(w, r)
	default:
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusOK, errorReply(nullID, Errorf(spec.ProcedureNotFound, "POST a JSON-RPC request to /")))
			return
		}
		s.serveRPC(w, r)
	}
}

var hostReply = []byte(`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized: Host not allowed"},"id":null}`)

// refuse answers a request without valid credentials: at once, and
// closing the connection without reading the rest of its body (so a client
// announcing a body it never sends cannot hold the connection). Wrong
// credentials (as opposed to none) are counted, logged at most every 10s,
// and delayed by AuthFailureDelay under a bounded number of slots.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.metrics.authFailures.Inc()
		s.authLog.log(s.log, "failed login", "remote", remoteIP(r), "path", r.URL.Path)
		select {
		case s.penalty <- struct{}{}:
			t := time.NewTimer(s.cfg.AuthFailureDelay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
			<-s.penalty
		case <-r.Context().Done():
			return
		}
	}
	replyAndClose(w, r, unauthorizedReply)
}

// closeLinger bounds how long a connection closed by replyAndClose waits
// for its client to read the reply (so that closing does not reset the
// connection under an unread reply).
const closeLinger = 500 * time.Millisecond

// replyAndClose answers with a JSON body (HTTP 200) and closes the
// connection without reading the request's body: a client that announced
// a body and never sends it is disconnected at once. (Setting "Connection:
// close" is not enough: net/http reads up to 256 KiB of an unread body
// before it closes, with no deadline of its own.)
func replyAndClose(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		if conn, buf, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.SetDeadline(time.Now().Add(closeLinger))
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n", len(body))
			_, _ = buf.Write(body)
			_ = buf.Flush()
			if cw, ok := conn.(interface{ CloseWrite() error }); ok {
				_ = cw.CloseWrite()
			}
			_, _ = io.CopyN(io.Discard, conn, 64<<10)
			_ = conn.Close()
			return
		}
	}
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusOK, body)
}

// remoteIP is the client's address without its port.
func remoteIP(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// rateLimitedLog writes a warning at most once per period, with the number
// of occurrences it stood for, so that a flood cannot fill the logs.
type rateLimitedLog struct {
	every time.Duration
	mu    sync.Mutex
	last  time.Time
	count int
}

func (l *rateLimitedLog) log(log *slog.Logger, msg string, args ...any) {
	l.mu.Lock()
	l.count++
	now := time.Now()
	if !l.last.IsZero() && now.Sub(l.last) < l.every {
		l.mu.Unlock()
		return
	}
	n := l.count
	l.count, l.last = 0, now
	l.mu.Unlock()
	log.Warn(msg, append(args, "occurrences", n)...)
}

// jsonContentType is the Content-Type header's value of every JSON reply.
// Never modified.
var jsonContentType = []string{"application/json"}

var unauthorizedReply = []byte(`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`)

// authorized checks HTTP Basic credentials in constant time (both sides are
// hashed first so lengths do not leak). The password may contain ':'.
//
// The header clients send is the canonical one ("Basic " and the standard
// base64 of login:password): its one hash, compared with the canonical
// header's, settles it. Any other header (a wrong password, "basic" in
// lower case…) is decoded and its two parts compared as before.
func (s *Server) authorized(r *http.Request) bool {
	if h := r.Header["Authorization"]; len(h) == 1 && len(h[0]) <= 256 {
		var buf [256]byte // the hash input, on the stack
		sum := sha256.Sum256(append(buf[:0], h[0]...))
		if subtle.ConstantTimeCompare(sum[:], s.authHash[:]) == 1 {
			return true
		}
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	u := sha256.Sum256([]byte(user))
	p := sha256.Sum256([]byte(pass))
	okUser := subtle.ConstantTimeCompare(u[:], s.userHash[:])
	okPass := subtle.ConstantTimeCompare(p[:], s.passHash[:])
	return okUser&okPass == 1
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	// Header().Set would canonicalize the key and allocate the value's
	// slice on every reply; net/http only reads it.
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Shutdown closes every websocket with close code 1001 and waits for their
// goroutines, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.cfg.Hub.Close(ctx)
}
