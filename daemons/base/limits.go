package base

import (
	"net"
	"net/netip"
	"strings"
	"time"
)

// Limits bounds what a client can make a daemon spend: time per connection
// and per request, header size, open connections, requests at work, and what
// an unauthenticated client can see or try. It is environment-facing: a
// daemon's Config embeds it, so each field is a <COIN>_* variable (the tags
// are read by cmd/daemon's loader). Zero values take the defaults below.
type Limits struct {
	// ReadTimeout bounds reading one request, headers and body
	// (<COIN>_READ_TIMEOUT, default 30s). A websocket, once upgraded, is
	// not bound by it.
	ReadTimeout time.Duration `split_words:"true" default:"30s"`
	// RequestTimeout bounds the work of one JSON-RPC request or batch
	// (<COIN>_REQUEST_TIMEOUT, default 5m, the Bitcart SDK's own client
	// timeout). A wallet call waits at most <COIN>_SYNC_TIMEOUT for sync,
	// well inside it. Past it the handler's context ends and the client gets
	// a -32603 error naming the limit.
	RequestTimeout time.Duration `split_words:"true" default:"5m"`
	// WriteTimeout bounds writing a reply to a client that does not read it
	// (<COIN>_WRITE_TIMEOUT, default 30s), counted after the request's work.
	WriteTimeout time.Duration `split_words:"true" default:"30s"`
	// IdleTimeout closes a keep-alive connection idle this long
	// (<COIN>_IDLE_TIMEOUT, default 120s).
	IdleTimeout time.Duration `split_words:"true" default:"120s"`
	// MaxHeaderBytes bounds the request line and headers
	// (<COIN>_MAX_HEADER_BYTES, default 8 KiB, as Bitcoin Core).
	MaxHeaderBytes int `split_words:"true" default:"8192"`
	// MaxConns bounds open connections, websockets included
	// (<COIN>_MAX_CONNS, default 2048). One more is answered with a JSON
	// -32603 "server busy" and closed; past a small margin a connection is
	// closed at once.
	MaxConns int `split_words:"true" default:"2048"`
	// MaxConcurrent bounds JSON-RPC requests (a batch counts once) being
	// read or worked on at once (<COIN>_MAX_CONCURRENT, default 64). One
	// more is answered at once with a JSON -32603 "server busy", never
	// queued.
	MaxConcurrent int `split_words:"true" default:"64"`
	// MetricsPublic serves GET /metrics without credentials
	// (<COIN>_METRICS_PUBLIC, default false: /metrics needs the same Basic
	// auth as the contract's routes).
	MetricsPublic Bool `split_words:"true"`
	// AllowedHosts are the Host header names accepted besides the defaults
	// (<COIN>_ALLOWED_HOSTS, comma-separated). The defaults are IP
	// literals, "localhost" and its subdomains, single-label names (Docker
	// and compose service names such as "bitcart-btc") and the bind
	// address. A name with a dot, as a DNS-rebinding page has, must be
	// listed; "*" accepts any Host.
	AllowedHosts []string `split_words:"true"`
}

// Defaults of Limits' zero values.
const (
	DefaultReadTimeout    = 30 * time.Second
	DefaultRequestTimeout = 5 * time.Minute
	DefaultWriteTimeout   = 30 * time.Second
	DefaultIdleTimeout    = 120 * time.Second
	DefaultMaxHeaderBytes = 8 << 10
	DefaultMaxConns       = 2048
	DefaultMaxConcurrent  = 64
)

// withDefaults returns l with every zero (or negative) bound replaced by its
// default.
func (l Limits) withDefaults() Limits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&l.ReadTimeout, DefaultReadTimeout)
	def(&l.RequestTimeout, DefaultRequestTimeout)
	def(&l.WriteTimeout, DefaultWriteTimeout)
	def(&l.IdleTimeout, DefaultIdleTimeout)
	defInt(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	defInt(&l.MaxConns, DefaultMaxConns)
	defInt(&l.MaxConcurrent, DefaultMaxConcurrent)
	return l
}

// HTTPTimeouts returns the http.Server settings for these limits, defaults
// applied: the read timeout, the write timeout (a backstop covering the
// read, the request's work and the reply; the RPC handler sets a tighter
// one per request), the idle timeout and the header size limit.
func (l Limits) HTTPTimeouts() (read, write, idle time.Duration, maxHeaderBytes int) {
	l = l.withDefaults()
	return l.ReadTimeout, l.ReadTimeout + l.RequestTimeout + l.WriteTimeout, l.IdleTimeout, l.MaxHeaderBytes
}

// hostPolicy decides which Host headers are served (against DNS rebinding:
// a page of evil.example whose name resolves to 127.0.0.1 sends
// "Host: evil.example").
type hostPolicy struct {
	any   bool
	names map[string]bool
}

func newHostPolicy(allowed []string) hostPolicy {
	p := hostPolicy{names: map[string]bool{}}
	for _, a := range allowed {
		a = strings.ToLower(strings.TrimSpace(a))
		switch {
		case a == "":
		case a == "*":
			p.any = true
		default:
			if h, _, err := net.SplitHostPort(a); err == nil {
				a = h
			}
			p.names[strings.Trim(a, "[]")] = true
		}
	}
	return p
}

// allows reports whether a request's Host header may be served. An absent
// Host (HTTP/1.0) is allowed: browsers always send one.
func (p hostPolicy) allows(host string) bool {
	if p.any || host == "" {
		return true
	}
	h := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		h = hh
	}
	h = strings.ToLower(strings.Trim(h, "[]"))
	h = strings.TrimSuffix(h, ".")
	switch {
	case isIPLiteral(h):
		return true
	case h == "localhost" || strings.HasSuffix(h, ".localhost"):
		return true
	case h != "" && !strings.Contains(h, "."):
		return true
	}
	return p.names[h]
}

// isIPLiteral is net.ParseIP(h) != nil (which is netip.ParseAddr without a
// zone) without the IP that ParseIP allocates.
func isIPLiteral(h string) bool {
	a, err := netip.ParseAddr(h)
	return err == nil && a.Zone() == ""
}
