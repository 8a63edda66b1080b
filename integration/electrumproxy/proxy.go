// Package electrumproxy is a man-in-the-middle between an Electrum client
// and a real Electrum server, for tests: it forwards every message, and
// hooks may rewrite the server's replies and notifications, or inject
// notifications, to make the server lie.
package electrumproxy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Reply is a server reply as the hooks see it: exactly one of Result and
// Error is set.
type Reply struct {
	Result json.RawMessage
	Error  json.RawMessage
	// Disconnect, set by a hook, closes the connection once the reply is
	// sent (as ElectrumX does after "excessive resource usage").
	Disconnect bool
	// Hold, set by a hook, delays this reply (and only this one: the
	// others go on meanwhile) until it is closed, as a server slow on one
	// request would.
	Hold <-chan struct{}
}

// Hooks rewrite what the server says. Each is optional; they run on the
// proxy's goroutine for the connection and must not block.
type Hooks struct {
	// Reply rewrites the reply to a client request.
	Reply func(c *Conn, method string, params []json.RawMessage, r Reply) Reply
	// Notify rewrites a notification's params (nil drops it).
	Notify func(c *Conn, method string, params json.RawMessage) json.RawMessage
}

// Proxy listens on 127.0.0.1 and forwards to an upstream server.
type Proxy struct {
	l        net.Listener
	upstream string
	hooks    atomic.Pointer[Hooks]

	mu    sync.Mutex
	conns map[*Conn]bool
	wg    sync.WaitGroup
	// Lies counts the messages hooks changed (set by hooks through
	// Conn.Lied).
	Lies atomic.Int64
	// Accepted counts the client connections ever accepted.
	Accepted atomic.Int64
}

// Start listens on a free loopback port and forwards to upstream
// (host:port). Stop closes it.
func Start(upstream string, hooks Hooks) (*Proxy, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{l: l, upstream: upstream, conns: map[*Conn]bool{}}
	p.hooks.Store(&hooks)
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.l.Addr().String() }

// TCP is the proxy as an Electrum server, host:port:t.
func (p *Proxy) TCP() string { return p.Addr() + ":t" }

// SetHooks replaces the hooks (for new messages).
func (p *Proxy) SetHooks(h Hooks) { p.hooks.Store(&h) }

// Stop closes the listener and every connection.
func (p *Proxy) Stop() {
	p.l.Close()
	p.mu.Lock()
	conns := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	p.wg.Wait()
}

// Sessions returns the number of client connections open now.
func (p *Proxy) Sessions() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		cl, err := p.l.Accept()
		if err != nil {
			return
		}
		up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
		if err != nil {
			cl.Close()
			continue
		}
		p.Accepted.Add(1)
		c := &Conn{p: p, client: cl, up: up, pending: map[string]call{}, done: make(chan struct{})}
		p.mu.Lock()
		p.conns[c] = true
		p.mu.Unlock()
		p.wg.Add(2)
		go c.fromClient()
		go c.fromServer()
	}
}

// Conn is one proxied client connection.
type Conn struct {
	p      *Proxy
	client net.Conn
	up     net.Conn

	wmu     sync.Mutex // client writes
	mu      sync.Mutex
	pending map[string]call
	once    sync.Once
	done    chan struct{} // closed by close
	// State is free for hooks (one connection's memory).
	State sync.Map
}

type call struct {
	method string
	params []json.RawMessage
}

// Lied records that a hook changed something.
func (c *Conn) Lied() { c.p.Lies.Add(1) }

func (c *Conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.client.Close()
		c.up.Close()
		c.p.mu.Lock()
		delete(c.p.conns, c)
		c.p.mu.Unlock()
	})
}

type message struct {
	JSONRPC string          `json:"jsonrpc,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
}

func reader(conn net.Conn) *bufio.Reader { return bufio.NewReaderSize(conn, 1<<20) }

func (c *Conn) fromClient() {
	defer c.p.wg.Done()
	defer c.close()
	r := reader(c.client)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(line, &m) == nil && m.Method != "" && len(m.ID) > 0 {
			var params []json.RawMessage
			_ = json.Unmarshal(m.Params, &params)
			c.mu.Lock()
			c.pending[string(m.ID)] = call{method: m.Method, params: params}
			c.mu.Unlock()
		}
		if _, err := c.up.Write(line); err != nil {
			return
		}
	}
}

func (c *Conn) fromServer() {
	defer c.p.wg.Done()
	defer c.close()
	r := reader(c.up)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			if !c.write(line) {
				return
			}
			continue
		}
		h := c.p.hooks.Load()
		switch {
		case len(m.ID) > 0 && string(m.ID) != "null":
			c.mu.Lock()
			cl, ok := c.pending[string(m.ID)]
			delete(c.pending, string(m.ID))
			c.mu.Unlock()
			if ok && h.Reply != nil {
				rep := h.Reply(c, cl.method, cl.params, Reply{Result: m.Result, Error: m.Error})
				m.Result, m.Error = rep.Result, rep.Error
				if m.Result == nil && m.Error == nil {
					m.Result = json.RawMessage("null")
				}
				line = marshalLine(m)
				if rep.Hold != nil {
					go func(line []byte, disconnect bool) {
						select {
						case <-rep.Hold:
						case <-c.done:
							return
						}
						if !c.write(line) || disconnect {
							c.close()
						}
					}(line, rep.Disconnect)
					continue
				}
				if rep.Disconnect {
					c.write(line)
					return
				}
			}
		case m.Method != "" && h.Notify != nil:
			params := h.Notify(c, m.Method, m.Params)
			if params == nil {
				continue
			}
			m.Params = params
			line = marshalLine(m)
		}
		if !c.write(line) {
			return
		}
	}
}

// Inject sends a notification to the client.
func (c *Conn) Inject(method string, params any) error {
	raw, err := json.Marshal(params)
	if err != nil {
		return err
	}
	if !c.write(marshalLine(message{JSONRPC: "2.0", Method: method, Params: raw})) {
		return fmt.Errorf("client gone")
	}
	return nil
}

func (c *Conn) write(line []byte) bool {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.client.Write(line)
	return err == nil
}

func marshalLine(m message) []byte {
	if m.JSONRPC == "" {
		m.JSONRPC = "2.0"
	}
	b, _ := json.Marshal(m)
	return append(b, '\n')
}

// Str decodes a JSON string parameter ("" if it is not one).
func Str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// Int decodes a JSON integer parameter (-1 if it is not one).
func Int(raw json.RawMessage) int64 {
	v, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return -1
	}
	return v
}
