package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// rawConn is a minimal HTTP/1.1 keep-alive client over one TCP connection.
// The load generator shares two cores with the daemon it measures, so it
// spends as little CPU per request as it can: requests are prebuilt bytes,
// and a reply is read by parsing only its status line, Content-Length (or
// chunked framing) and body. The same client drives walletd and the
// reference server.
type rawConn struct {
	addr string
	c    net.Conn
	r    *bufio.Reader
	body []byte
}

func dialRaw(addr string) (*rawConn, error) {
	k := &rawConn{addr: addr}
	return k, k.redial()
}

func (k *rawConn) redial() error {
	if k.c != nil {
		_ = k.c.Close()
	}
	c, err := net.DialTimeout("tcp", k.addr, 5*time.Second)
	if err != nil {
		return err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	k.c = c
	if k.r == nil {
		k.r = bufio.NewReaderSize(c, 32<<10)
	} else {
		k.r.Reset(c)
	}
	return nil
}

// Close closes the connection.
func (k *rawConn) Close() error {
	if k.c == nil {
		return nil
	}
	return k.c.Close()
}

// do sends one prebuilt request and returns the reply's status and body
// (valid until the next call). On a transport error the connection is
// re-established before the next call.
func (k *rawConn) do(req []byte, timeout time.Duration) (int, []byte, error) {
	if k.c == nil {
		if err := k.redial(); err != nil {
			return 0, nil, err
		}
	}
	_ = k.c.SetDeadline(time.Now().Add(timeout))
	status, body, keep, err := k.roundTrip(req)
	if err != nil {
		_ = k.c.Close()
		k.c = nil
		return 0, nil, err
	}
	if !keep {
		_ = k.c.Close()
		k.c = nil
	}
	return status, body, nil
}

func (k *rawConn) roundTrip(req []byte) (status int, body []byte, keep bool, err error) {
	if _, err = k.c.Write(req); err != nil {
		return 0, nil, false, err
	}
	line, err := k.r.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	// "HTTP/1.1 200 OK\r\n"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, nil, false, fmt.Errorf("bad status line %q", line)
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := k.r.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		i := bytes.IndexByte(h, ':')
		if i < 0 {
			continue
		}
		name, val := h[:i], bytes.TrimSpace(h[i+1:])
		switch {
		case asciiEqualFold(name, "content-length"):
			length, err = strconv.Atoi(string(val))
			if err != nil {
				return 0, nil, false, fmt.Errorf("bad Content-Length %q", val)
			}
		case asciiEqualFold(name, "transfer-encoding"):
			chunked = asciiEqualFold(val, "chunked")
		case asciiEqualFold(name, "connection"):
			keep = !asciiEqualFold(val, "close")
		}
	}
	k.body = k.body[:0]
	switch {
	case chunked:
		for {
			sz, err := k.r.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, err
			}
			sz = bytes.TrimRight(sz, "\r\n")
			if i := bytes.IndexByte(sz, ';'); i >= 0 {
				sz = sz[:i]
			}
			n, err := strconv.ParseInt(string(sz), 16, 64)
			if err != nil {
				return 0, nil, false, fmt.Errorf("bad chunk size %q", sz)
			}
			if n == 0 {
				// Trailers, then the final CRLF.
				for {
					t, err := k.r.ReadSlice('\n')
					if err != nil {
						return 0, nil, false, err
					}
					if len(bytes.TrimRight(t, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			if err := k.readN(int(n)); err != nil {
				return 0, nil, false, err
			}
			if _, err := k.r.Discard(2); err != nil {
				return 0, nil, false, err
			}
		}
	case length >= 0:
		if err := k.readN(length); err != nil {
			return 0, nil, false, err
		}
	default:
		return 0, nil, false, errors.New("reply without Content-Length or chunked body")
	}
	return status, k.body, keep, nil
}

func (k *rawConn) readN(n int) error {
	start := len(k.body)
	if cap(k.body)-start < n {
		nb := make([]byte, start, start+n+1024)
		copy(nb, k.body)
		k.body = nb
	}
	k.body = k.body[:start+n]
	_, err := io.ReadFull(k.r, k.body[start:])
	return err
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// target is an HTTP JSON-RPC endpoint the tool drives.
type target struct {
	addr   string // host:port
	header []byte // request line and headers up to Content-Length
}

func newTarget(addr, user, pass string) *target {
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
	h := "POST / HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Basic " + auth +
		"\r\nContent-Type: application/json\r\nContent-Length: "
	return &target{addr: addr, header: []byte(h)}
}

// request builds the full bytes of one POST / with a JSON-RPC body.
func (t *target) request(body []byte) []byte {
	out := make([]byte, 0, len(t.header)+len(body)+8)
	out = append(out, t.header...)
	out = strconv.AppendInt(out, int64(len(body)), 10)
	out = append(out, "\r\n\r\n"...)
	return append(out, body...)
}

// rpcBody encodes a JSON-RPC request in the form Bitcart's SDK sends:
// positional params with the wallet as a trailing {"xpub": …} object.
func rpcBody(id uint64, method, xpub string, params ...any) []byte {
	args := append([]any{}, params...)
	if xpub != "" {
		args = append(args, map[string]any{"xpub": xpub})
	}
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": args})
	if err != nil {
		panic(err) // params are the tool's own literals
	}
	return b
}

// okPrefix starts every successful walletd reply (and the reference
// server's): the daemon encodes {"jsonrpc","result","id"} in that order,
// and an error reply has "error" where "result" is.
var okPrefix = []byte(`{"jsonrpc":"2.0","result":`)

// replyError returns an error for a reply that is not an HTTP 200 JSON-RPC
// success.
func replyError(status int, body []byte) error {
	if status != 200 {
		return fmt.Errorf("HTTP %d: %s", status, truncate(body, 200))
	}
	if !bytes.HasPrefix(body, okPrefix) {
		return fmt.Errorf("error reply: %s", truncate(body, 300))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// rpcPool is a small pool of raw connections for the set-up work (creating
// wallets and requests), with JSON decoding of results.
type rpcPool struct {
	t     *target
	conns chan *rawConn
	id    atomic.Uint64
}

func newRPCPool(t *target, size int) (*rpcPool, error) {
	p := &rpcPool{t: t, conns: make(chan *rawConn, size)}
	for i := 0; i < size; i++ {
		p.conns <- &rawConn{addr: t.addr} // dialed on first use
	}
	return p, nil
}

// Close closes every idle connection of the pool.
func (p *rpcPool) Close() {
	for {
		select {
		case c := <-p.conns:
			_ = c.Close()
		default:
			return
		}
	}
}

// Call runs one request and decodes its result into out (may be nil).
func (p *rpcPool) Call(out any, xpub, method string, params ...any) error {
	req := p.t.request(rpcBody(p.id.Add(1), method, xpub, params...))
	c := <-p.conns
	defer func() { p.conns <- c }()
	status, body, err := c.do(req, 2*time.Minute)
	if err != nil {
		// A kept-alive connection the server closed while it sat idle in
		// the pool (the server bounds how long a connection may wait for
		// its first request): try once more on a fresh one.
		status, body, err = c.do(req, 2*time.Minute)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if err := replyError(status, body); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if out == nil {
		return nil
	}
	var r struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	return json.Unmarshal(r.Result, out)
}
