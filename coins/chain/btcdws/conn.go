package btcdws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/coins/chain"
)

// RPCError is an error object returned by the node for a call. Callers match
// it with errors.As to read the node's code and message.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error returns the node's code and message.
func (e *RPCError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

const (
	// codeNoInfo is btcd's ErrRPCNoTxInfo (-5), also used for unknown
	// blocks and addresses without history.
	codeNoInfo = -5
	// writeTimeoutNoContext bounds a write when ctx has no deadline.
	writeTimeoutNoContext = 10 * time.Second
)

// response is one reply to a call, raw result or error.
type response struct {
	result json.RawMessage
	err    error
}

// inMessage is any message the node sends: a reply (id set) or a
// notification (id null, method set).
type inMessage struct {
	ID     *uint64           `json:"id"`
	Method string            `json:"method"`
	Params []json.RawMessage `json:"params"`
	Result json.RawMessage   `json:"result"`
	Error  *RPCError         `json:"error"`
}

// notifyFunc receives notifications in the order the node sent them, on the
// connection's reader goroutine; it must not block for long.
type notifyFunc func(c *rpcConn, method string, params []json.RawMessage)

// rpcConn is one websocket JSON-RPC connection: concurrent calls matched by
// id, notifications handed to notify in order, websocket pings to detect a
// dead peer. It is not reused after it closes.
type rpcConn struct {
	ws     *websocket.Conn
	notify notifyFunc

	writeMu sync.Mutex

	mu      sync.Mutex
	nextID  uint64
	pending map[uint64]chan response
	err     error // why the connection closed

	done chan struct{} // closed when the reader has exited

	// Guarded by the backend's queue mutex: whether EventConnected was
	// queued for this connection, and the notifications that arrived
	// before it (delivered right after it).
	ready bool
	held  []chain.Event

	// Guarded by the backend's loadMu: the full filter was loaded on this
	// connection, so Watch must send its additions here.
	filterLoaded bool
}

// newRPCConn starts the reader and pinger goroutines of ws; they stop when the
// connection closes (close, read error or missed pongs). wg tracks them.
func newRPCConn(ws *websocket.Conn, notify notifyFunc, ping time.Duration, wg *sync.WaitGroup) *rpcConn {
	c := &rpcConn{
		ws:      ws,
		notify:  notify,
		pending: make(map[uint64]chan response),
		done:    make(chan struct{}),
	}
	// A node that stops answering pings for two intervals is dead even
	// if TCP has not noticed.
	_ = ws.SetReadDeadline(time.Now().Add(2 * ping))
	ws.SetPongHandler(func(string) error {
		return ws.SetReadDeadline(time.Now().Add(2 * ping))
	})
	wg.Add(2)
	go func() {
		defer wg.Done()
		c.readLoop(ping)
	}()
	go func() {
		defer wg.Done()
		c.pingLoop(ping)
	}()
	return c
}

func (c *rpcConn) readLoop(ping time.Duration) {
	var err error
	for {
		var msg []byte
		_, msg, err = c.ws.ReadMessage()
		if err != nil {
			break
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * ping))
		if len(msg) > 0 && msg[0] == '[' {
			// The replies to a batch (callBatch).
			var ins []inMessage
			if jerr := json.Unmarshal(msg, &ins); jerr != nil {
				err = fmt.Errorf("invalid message from node: %w", jerr)
				break
			}
			for i := range ins {
				c.reply(&ins[i])
			}
			continue
		}
		var in inMessage
		if jerr := json.Unmarshal(msg, &in); jerr != nil {
			// A node that sends garbage is not one to trust.
			err = fmt.Errorf("invalid message from node: %w", jerr)
			break
		}
		if in.ID == nil {
			if in.Method != "" {
				c.notify(c, in.Method, in.Params)
			}
			continue
		}
		c.reply(&in)
	}
	c.shutdown(err)
}

// reply hands a reply to the call waiting for its id.
func (c *rpcConn) reply(in *inMessage) {
	if in.ID == nil {
		return
	}
	c.mu.Lock()
	ch := c.pending[*in.ID]
	delete(c.pending, *in.ID)
	c.mu.Unlock()
	if ch == nil {
		return // reply to a call that gave up
	}
	if in.Error != nil {
		ch <- response{err: in.Error}
	} else {
		ch <- response{result: in.Result}
	}
}

func (c *rpcConn) pingLoop(interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			// WriteControl may run concurrently with WriteMessage.
			err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(interval))
			if err != nil {
				c.close(fmt.Errorf("ping: %w", err))
				return
			}
		}
	}
}

// shutdown records why the connection ended, fails every pending call and
// closes done. Called once, by the reader.
func (c *rpcConn) shutdown(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	pend := c.pending
	c.pending = nil
	c.mu.Unlock()
	_ = c.ws.Close()
	for _, ch := range pend {
		ch <- response{err: c.closedErr()}
	}
	close(c.done)
}

// close closes the socket (the reader then exits and shuts down) with reason
// err. Safe to call many times and from any goroutine.
func (c *rpcConn) close(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	_ = c.ws.Close()
}

// reason returns why the connection closed (nil while open).
func (c *rpcConn) reason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

func (c *rpcConn) closedErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		return chain.ErrNotConnected
	}
	return fmt.Errorf("%w: %v", chain.ErrNotConnected, c.err)
}

// call sends method(params) and waits for the reply, ctx, or the end of the
// connection (chain.ErrNotConnected). Node errors are *RPCError.
func (c *rpcConn) call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return nil, c.closedErr()
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()

	msg, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      uint64 `json:"id"`
		Method  string `json:"method"`
		Params  []any  `json:"params"`
	}{"1.0", id, method, params})
	if err != nil {
		c.forget(id)
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(writeTimeoutNoContext)
	}
	c.writeMu.Lock()
	_ = c.ws.SetWriteDeadline(deadline)
	err = c.ws.WriteMessage(websocket.TextMessage, msg)
	c.writeMu.Unlock()
	if err != nil {
		c.forget(id)
		c.close(fmt.Errorf("write: %w", err))
		return nil, fmt.Errorf("%s: %w: %v", method, chain.ErrNotConnected, err)
	}
	select {
	case r := <-ch:
		if r.err != nil {
			return nil, fmt.Errorf("%s: %w", method, r.err)
		}
		return r.result, nil
	case <-ctx.Done():
		c.forget(id)
		return nil, fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// batchCall is one call of a batch.
type batchCall struct {
	method string
	params []any
}

// callBatch sends calls as one JSON-RPC batch (one websocket message; btcd
// runs its calls one after the other, in order) and waits for every reply.
// It returns each call's raw result or error (node errors are *RPCError);
// the error it returns itself is a transport failure, ctx, or the end of
// the connection.
func (c *rpcConn) callBatch(ctx context.Context, calls []batchCall) ([]response, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	type item struct {
		JSONRPC string `json:"jsonrpc"`
		ID      uint64 `json:"id"`
		Method  string `json:"method"`
		Params  []any  `json:"params"`
	}
	items := make([]item, len(calls))
	chans := make([]chan response, len(calls))
	c.mu.Lock()
	if c.pending == nil {
		c.mu.Unlock()
		return nil, c.closedErr()
	}
	for i, call := range calls {
		c.nextID++
		chans[i] = make(chan response, 1)
		c.pending[c.nextID] = chans[i]
		params := call.params
		if params == nil {
			params = []any{}
		}
		items[i] = item{JSONRPC: "2.0", ID: c.nextID, Method: call.method, Params: params}
	}
	c.mu.Unlock()
	forgetAll := func() {
		for _, it := range items {
			c.forget(it.ID)
		}
	}
	msg, err := json.Marshal(items)
	if err != nil {
		forgetAll()
		return nil, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(writeTimeoutNoContext)
	}
	c.writeMu.Lock()
	_ = c.ws.SetWriteDeadline(deadline)
	err = c.ws.WriteMessage(websocket.TextMessage, msg)
	c.writeMu.Unlock()
	if err != nil {
		forgetAll()
		c.close(fmt.Errorf("write: %w", err))
		return nil, fmt.Errorf("batch of %d %s: %w: %v", len(calls), calls[0].method, chain.ErrNotConnected, err)
	}
	out := make([]response, len(calls))
	for i, ch := range chans {
		select {
		case r := <-ch:
			out[i] = r
			if r.err != nil && errors.Is(r.err, chain.ErrNotConnected) {
				forgetAll()
				return nil, r.err
			}
		case <-ctx.Done():
			forgetAll()
			return nil, fmt.Errorf("batch of %d %s: %w", len(calls), calls[0].method, ctx.Err())
		}
	}
	return out, nil
}

func (c *rpcConn) forget(id uint64) {
	c.mu.Lock()
	if c.pending != nil {
		delete(c.pending, id)
	}
	c.mu.Unlock()
}

// callInto is call decoding the result into out (skipped when out is nil).
func (c *rpcConn) callInto(ctx context.Context, out any, method string, params ...any) error {
	res, err := c.call(ctx, method, params...)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("%s: decode result: %w", method, err)
	}
	return nil
}

// rpcCode returns the node's error code in err, if any.
func rpcCode(err error) (int, bool) {
	var re *RPCError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}
