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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"

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
}

// Server is the http.Handler of a daemon. It is safe for concurrent use.
type Server struct {
	cfg      Config
	userHash [32]byte
	passHash [32]byte
	catalog  []byte
	log      *slog.Logger
	reqSeq   atomic.Uint64
	metrics  *metrics
}

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Methods == nil {
		return nil, errors.New("base: Config.Methods is required")
	}
	if cfg.Catalog == nil {
		return nil, errors.New("base: Config.Catalog is required")
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
	cat, err := json.Marshal(cfg.Catalog)
	if err != nil {
		return nil, fmt.Errorf("base: encoding catalog: %w", err)
	}
	return &Server{
		cfg:      cfg,
		userHash: sha256.Sum256([]byte(cfg.Login)),
		passHash: sha256.Sum256([]byte(cfg.Password)),
		catalog:  cat,
		log:      cfg.Log,
		metrics:  newMetrics(cfg.Hub),
	}, nil
}

// Hub returns the server's websocket hub.
func (s *Server) Hub() *Hub { return s.cfg.Hub }

// ServeHTTP routes a request. Every JSON reply is HTTP 200 except the 404
// of an unknown path; every reply body is JSON.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/healthz":
		writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
		return
	case "/metrics":
		s.metrics.handler.ServeHTTP(w, r)
		return
	case "/readyz":
		if s.cfg.Ready != nil {
			if err := s.cfg.Ready(); err != nil {
				b, _ := json.Marshal(map[string]string{"status": "not ready", "reason": err.Error()})
				writeJSON(w, http.StatusServiceUnavailable, b)
				return
			}
		}
		writeJSON(w, http.StatusOK, []byte(`{"status":"ready"}`))
		return
	case "/", "/ws", "/spec":
	default:
		writeJSON(w, http.StatusNotFound, errorReply(nullID, Errorf(spec.ProcedureNotFound, "Not found: %s", r.URL.Path)))
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusOK, unauthorizedReply)
		return
	}
	switch r.URL.Path {
	case "/spec":
		writeJSON(w, http.StatusOK, s.catalog)
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

var unauthorizedReply = []byte(`{"jsonrpc":"2.0","error":{"code":-32600,"message":"Unauthorized"},"id":null}`)

// authorized checks HTTP Basic credentials in constant time (both sides are
// hashed first so lengths do not leak). The password may contain ':'.
func (s *Server) authorized(r *http.Request) bool {
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
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// Shutdown closes every websocket with close code 1001 and waits for their
// goroutines, bounded by ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.cfg.Hub.Close(ctx)
}
