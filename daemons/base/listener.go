package base

import (
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// busyConnReply is what a connection over the limit receives before it is
// closed: a complete HTTP response carrying a JSON-RPC error, so that a
// client is told rather than left hanging.
var busyConnReply = func() []byte {
	body := `{"jsonrpc":"2.0","error":{"code":-32603,"message":"Server busy: too many open connections, try again later"},"id":null}`
	return []byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

// Bounds of the refusal of a connection over the limit.
const (
	// overflowRefusals is how many refused connections may be in their
	// short goodbye at once; more are closed without a word.
	overflowRefusals = 64
	// refuseLinger bounds one refusal (write, then a short drain so that
	// closing does not reset the connection before the client read it).
	refuseLinger = 2 * time.Second
)

// ConnLimiter is a net.Listener that keeps at most a fixed number of
// accepted connections open. A connection beyond the limit is answered with
// a JSON-RPC "server busy" error and closed; when too many refusals are
// already under way it is closed at once. Accept never blocks on the limit,
// so the kernel's backlog never fills with connections nobody answers.
type ConnLimiter struct {
	net.Listener
	max     int64
	open    atomic.Int64
	refuses atomic.Int64
	refused atomic.Uint64
	log     *slog.Logger
	warn    rateLimitedLog
}

// LimitConns wraps ln; max <= 0 means DefaultMaxConns. Refusals are logged
// to log (nil discards) at most every 10 seconds.
func LimitConns(ln net.Listener, max int, log *slog.Logger) *ConnLimiter {
	if max <= 0 {
		max = DefaultMaxConns
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ConnLimiter{Listener: ln, max: int64(max), log: log, warn: rateLimitedLog{every: 10 * time.Second}}
}

// Accept returns the next connection within the limit, refusing the ones
// beyond it in the background.
func (l *ConnLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) <= l.max {
			return &limitedConn{Conn: c, l: l}, nil
		}
		l.open.Add(-1)
		l.refused.Add(1)
		l.warn.log(l.log, "connection refused: the connection limit is reached", "limit", l.max,
			"remote", c.RemoteAddr().String())
		if l.refuses.Add(1) > overflowRefusals {
			l.refuses.Add(-1)
			_ = c.Close()
			continue
		}
		go l.refuse(c)
	}
}

// refuse answers c with busyConnReply and closes it, within refuseLinger.
func (l *ConnLimiter) refuse(c net.Conn) {
	defer l.refuses.Add(-1)
	_ = c.SetDeadline(time.Now().Add(refuseLinger))
	_, _ = c.Write(busyConnReply)
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, c, 64<<10)
	_ = c.Close()
}

// Open returns the number of connections open within the limit.
func (l *ConnLimiter) Open() int64 { return l.open.Load() }

// Refused returns how many connections were refused for the limit.
func (l *ConnLimiter) Refused() uint64 { return l.refused.Load() }

// limitedConn gives its slot back once, on its first Close.
type limitedConn struct {
	net.Conn
	l    *ConnLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.open.Add(-1) })
	return err
}

// CloseWrite half-closes the connection when the underlying one can, so
// net/http's graceful close keeps working through the wrapper.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
