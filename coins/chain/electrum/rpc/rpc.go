// Package rpc is a client of the Electrum protocol's transport: JSON-RPC
// 2.0 messages, one per line, over a stream (TCP or TLS). It pipelines
// requests (any number may be in flight; replies are matched by id, in
// whatever order the server sends them) and hands server notifications to a
// callback in the order they arrive. It knows nothing of the protocol's
// methods: see package electrum for those.
package rpc

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Defaults applied to zero Options fields.
const (
	DefaultMaxMessage   = 64 << 20
	DefaultWriteTimeout = 30 * time.Second
)

// ErrClosed is the error of calls on a connection that was closed (by
// Close, or because reading or writing failed); Conn.Err tells why.
var ErrClosed = errors.New("electrum rpc: connection closed")

// Error is a JSON-RPC error object returned by the server.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error formats the server's code and message.
func (e *Error) Error() string { return fmt.Sprintf("server error %d: %s", e.Code, e.Message) }

// Notification is a message from the server that answers no request
// (blockchain.headers.subscribe, blockchain.scripthash.subscribe).
type Notification struct {
	Method string
	Params json.RawMessage
}

// Options configures a Conn.
type Options struct {
	// OnNotify receives every notification, in arrival order, on the
	// reader goroutine: it must not block (queue the work elsewhere).
	OnNotify func(Notification)
	// OnError, when set, sees every error reply, on the reader goroutine
	// and before the caller does (and before a close that follows it):
	// it must not block.
	OnError func(*Error)
	// MaxMessage bounds the size of one incoming message (default 64 MiB);
	// a longer line closes the connection.
	MaxMessage int
	// WriteTimeout bounds the write of a batch of queued requests
	// (default 30 s); a stalled peer closes the connection.
	WriteTimeout time.Duration
}

// Conn is one JSON-RPC session over a stream. It is safe for concurrent use.
type Conn struct {
	nc   net.Conn
	opts Options

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]*Call
	outbox  [][]byte
	err     error
	wake    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

// Call is a request in flight; Wait returns its outcome.
type Call struct {
	Method string
	ready  chan struct{}
	result json.RawMessage
	err    error
}

// New starts a session on nc (already connected, TLS handshaken if any). The
// connection is owned by the Conn from now on: Close closes it.
func New(nc net.Conn, opts Options) *Conn {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	c := &Conn{nc: nc, opts: opts, pending: map[uint64]*Call{},
		wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// Done is closed when the connection is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why the connection closed (nil while it is open).
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the connection with reason err (ErrClosed when nil), fails
// every call in flight with an error wrapping ErrClosed, and waits for the
// reader and writer goroutines to exit. It is idempotent; the first reason
// is kept.
func (c *Conn) Close(err error) {
	c.fail(err)
	c.wg.Wait()
}

func (c *Conn) fail(err error) {
	if err == nil {
		err = ErrClosed
	}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	pending := c.pending
	c.pending = nil
	c.outbox = nil
	close(c.done)
	c.mu.Unlock()
	_ = c.nc.Close()
	failed := closedError(err)
	for _, call := range pending {
		call.err = failed
		close(call.ready)
	}
}

func closedError(reason error) error {
	if errors.Is(reason, ErrClosed) {
		return reason
	}
	return fmt.Errorf("%w: %v", ErrClosed, reason)
}

type request struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

// Go queues a request without waiting for its reply. Params are encoded
// with encoding/json (nil means none).
func (c *Conn) Go(method string, params ...any) *Call {
	call := &Call{Method: method, ready: make(chan struct{})}
	if params == nil {
		params = []any{}
	}
	c.mu.Lock()
	if c.err != nil {
		call.err = closedError(c.err)
		c.mu.Unlock()
		close(call.ready)
		return call
	}
	c.nextID++
	id := c.nextID
	line, err := json.Marshal(request{JSONRPC: "2.0", ID: id, Method: method, Params: params})
	if err != nil {
		c.mu.Unlock()
		call.err = fmt.Errorf("electrum rpc: encode %s: %w", method, err)
		close(call.ready)
		return call
	}
	c.pending[id] = call
	c.outbox = append(c.outbox, append(line, '\n'))
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return call
}

// Wait waits for the reply (or ctx) and decodes the result into out (which
// may be nil to discard it). A server error is returned as *Error; a closed
// connection as an error wrapping ErrClosed.
func (call *Call) Wait(ctx context.Context, out any) error {
	select {
	case <-call.ready:
	case <-ctx.Done():
		return ctx.Err()
	}
	if call.err != nil {
		return call.err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(call.result, out); err != nil {
		return fmt.Errorf("electrum rpc: %s: bad result: %w", call.Method, err)
	}
	return nil
}

// Done is closed once the reply arrived or the call failed (Wait then
// returns at once).
func (call *Call) Done() <-chan struct{} { return call.ready }

// Result returns the raw result once the reply arrived (Wait first).
func (call *Call) Result() json.RawMessage { return call.result }

// Call sends one request and waits for its reply; see Go and Call.Wait. A
// call abandoned through ctx leaves its reply to be discarded on arrival.
func (c *Conn) Call(ctx context.Context, out any, method string, params ...any) error {
	call := c.Go(method, params...)
	err := call.Wait(ctx, out)
	if ctx.Err() != nil && err == ctx.Err() {
		c.forget(call)
	}
	return err
}

func (c *Conn) forget(call *Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, p := range c.pending {
		if p == call {
			delete(c.pending, id)
			return
		}
	}
}

// Pending returns the number of requests awaiting a reply.
func (c *Conn) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

func (c *Conn) writeLoop() {
	defer c.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		}
		c.mu.Lock()
		batch := c.outbox
		c.outbox = nil
		c.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.opts.WriteTimeout))
		for _, line := range batch {
			if _, err := w.Write(line); err != nil {
				c.fail(fmt.Errorf("write: %w", err))
				return
			}
		}
		if err := w.Flush(); err != nil {
			c.fail(fmt.Errorf("write: %w", err))
			return
		}
	}
}

// message is any incoming JSON-RPC object: a reply (id set) or a
// notification (method set, no id).
type message struct {
	ID     json.RawMessage `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

func (c *Conn) readLoop() {
	defer c.wg.Done()
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(long)+len(chunk) > c.opts.MaxMessage {
				c.fail(fmt.Errorf("message longer than %d bytes", c.opts.MaxMessage))
				return
			}
			long = append(long, chunk...)
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			c.fail(fmt.Errorf("read: %w", err))
			return
		}
		line := chunk
		if long != nil {
			long = append(long, chunk...)
			line, long = long, nil
		}
		if len(line) > c.opts.MaxMessage {
			c.fail(fmt.Errorf("message longer than %d bytes", c.opts.MaxMessage))
			return
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if err := c.dispatch(line); err != nil {
			c.fail(err)
			return
		}
	}
}

func (c *Conn) dispatch(line []byte) error {
	if line[0] == '[' {
		// Batch replies: we never send batches, so only notifications
		// could come this way.
		var msgs []json.RawMessage
		if err := json.Unmarshal(line, &msgs); err != nil {
			return fmt.Errorf("malformed message: %w", err)
		}
		for _, m := range msgs {
			if err := c.dispatch(m); err != nil {
				return err
			}
		}
		return nil
	}
	var m message
	if err := json.Unmarshal(line, &m); err != nil {
		return fmt.Errorf("malformed message: %w", err)
	}
	if len(m.ID) == 0 || string(m.ID) == "null" {
		if m.Method == "" {
			if m.Error != nil {
				return fmt.Errorf("server error without id: %w", m.Error)
			}
			return errors.New("message with neither id nor method")
		}
		if c.opts.OnNotify != nil {
			c.opts.OnNotify(Notification{Method: m.Method, Params: m.Params})
		}
		return nil
	}
	id, err := strconv.ParseUint(string(m.ID), 10, 64)
	if err != nil {
		return fmt.Errorf("reply with a foreign id %s", m.ID)
	}
	if m.Error != nil && c.opts.OnError != nil {
		c.opts.OnError(m.Error)
	}
	c.mu.Lock()
	call, ok := c.pending[id]
	delete(c.pending, id)
	c.mu.Unlock()
	if !ok {
		return nil // abandoned by its caller
	}
	if m.Error != nil {
		call.err = m.Error
	} else {
		call.result = m.Result
	}
	close(call.ready)
	return nil
}
