package corerpc

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

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

// Node error codes (Bitcoin Core's rpc/protocol.h; btcd uses the same
// numbers for these).
const (
	codeInvalidAddrType = -5 // RPC_INVALID_ADDRESS_OR_KEY: unknown block or tx
	codeInWarmup        = -28
)

// errAuth is returned when the node refuses the credentials.
var errAuth = errors.New("corerpc: authentication failed (check user and password, or the cookie file)")

// maxResponse bounds one HTTP response body: a 4 MB block is 8 MB of hex,
// a batch of ScanParallel blocks a few times that.
const maxResponse = 256 << 20

// rpcClient calls one node over HTTP JSON-RPC. It is safe for concurrent
// use. Transport failures (refused, reset, timeout, a non-JSON answer)
// are returned wrapping chain.ErrNotConnected; node refusals as *RPCError.
//
// At most cap(slots) HTTP requests are in flight at once; more wait for a
// slot. A node that answers "busy" (HTTP 503, or Core's "Work queue depth
// exceeded") is asked again after a short pause, for up to busyFor, since
// its queue drains in milliseconds: callers never see an overload another
// client of the node caused for a moment.
type rpcClient struct {
	ep      endpoint
	cookie  string
	hc      *http.Client
	id      atomic.Uint64
	slots   chan struct{}
	busyFor time.Duration

	mu         sync.Mutex
	user, pass string // credentials in use (URL or cookie)
}

func newRPCClient(ep endpoint, cookie string, tlsCfg *tls.Config, timeout time.Duration, maxRequests int) *rpcClient {
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:               nil, // never read proxy settings from the environment
		DialContext:         dialer.DialContext,
		TLSClientConfig:     tlsCfg,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
	}
	return &rpcClient{ep: ep, cookie: cookie, hc: &http.Client{Transport: tr}, user: ep.user, pass: ep.pass,
		slots: make(chan struct{}, max(maxRequests, 1)), busyFor: timeout}
}

// loadCredentials (re)reads the cookie file when the URL has no user.
func (c *rpcClient) loadCredentials() error {
	if c.ep.user != "" || c.cookie == "" {
		return nil
	}
	u, p, err := readCookie(c.cookie)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.user, c.pass = u, p
	c.mu.Unlock()
	return nil
}

func (c *rpcClient) creds() (string, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.user, c.pass
}

func (c *rpcClient) close() { c.hc.CloseIdleConnections() }

type rpcRequest struct {
	JSONRPC string `json:"jsonrpc"`
	ID      uint64 `json:"id"`
	Method  string `json:"method"`
	Params  []any  `json:"params"`
}

type rpcResponse struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *RPCError       `json:"error"`
}

// call performs one call and decodes its result into out (when not nil).
func (c *rpcClient) call(ctx context.Context, out any, method string, params ...any) error {
	if params == nil {
		params = []any{}
	}
	req := rpcRequest{JSONRPC: "1.0", ID: c.id.Add(1), Method: method, Params: params}
	var resp rpcResponse
	if err := c.post(ctx, req, &resp); err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if resp.Error != nil {
		return resp.Error
	}
	if out != nil {
		var err error
		if d, ok := out.(rawDecoder); ok {
			err = d.decodeValid(resp.Result) // already checked as JSON: not scanned twice
		} else {
			err = json.Unmarshal(resp.Result, out)
		}
		if err != nil {
			return fmt.Errorf("%s: decode result: %w", method, err)
		}
	}
	return nil
}

// rawDecoder is a result type that decodes itself from JSON already known
// to be valid (a large result decoded without a second validation pass).
type rawDecoder interface {
	decodeValid(b []byte) error
}

// batchCall is one call of a batch.
type batchCall struct {
	Method string
	Params []any
	// Out receives the result (when not nil and the call succeeded).
	Out any
	// Err is the call's own error (*RPCError or a decoding error).
	Err error
}

// batch performs calls in one HTTP request (JSON-RPC batch, which Core and
// btcd serve). The returned error is a transport failure; each call's own
// failure is in its Err.
func (c *rpcClient) batch(ctx context.Context, calls []batchCall) error {
	if len(calls) == 0 {
		return nil
	}
	reqs := make([]rpcRequest, len(calls))
	first := c.id.Add(uint64(len(calls))) - uint64(len(calls)) + 1
	for i, bc := range calls {
		p := bc.Params
		if p == nil {
			p = []any{}
		}
		reqs[i] = rpcRequest{JSONRPC: "2.0", ID: first + uint64(i), Method: bc.Method, Params: p}
	}
	var resps []rpcResponse
	if err := c.post(ctx, reqs, &resps); err != nil {
		return fmt.Errorf("batch of %d %s: %w", len(calls), calls[0].Method, err)
	}
	got := make([]bool, len(calls))
	for _, r := range resps {
		i := r.ID - first
		if r.ID < first || i >= uint64(len(calls)) || got[i] {
			return fmt.Errorf("batch: unexpected reply id %d: %w", r.ID, chain.ErrNotConnected)
		}
		got[i] = true
		bc := &calls[i]
		switch {
		case r.Error != nil:
			bc.Err = r.Error
		case bc.Out != nil:
			if err := json.Unmarshal(r.Result, bc.Out); err != nil {
				bc.Err = fmt.Errorf("%s: decode result: %w", bc.Method, err)
			}
		}
	}
	for i, ok := range got {
		if !ok {
			return fmt.Errorf("batch: no reply for %s: %w", calls[i].Method, chain.ErrNotConnected)
		}
	}
	return nil
}

// post sends body and decodes the JSON answer into out. Core answers RPC
// errors with HTTP 500 or 404 and a JSON body, so the status alone is not
// an error; 401 is (after one retry with a re-read cookie), and so is any
// answer that is not JSON. A busy node is asked again (rpcClient).
func (c *rpcClient) post(ctx context.Context, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	var busySince time.Time
	pause := busyPauseMin
	reread := false
	for {
		status, b, err := c.send(ctx, data)
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized || status == http.StatusForbidden {
			if !reread && c.cookie != "" && c.ep.user == "" && c.loadCredentials() == nil {
				reread = true
				continue
			}
			return fmt.Errorf("%w: %w", errAuth, chain.ErrNotConnected)
		}
		if nodeBusy(status, b) {
			if busySince.IsZero() {
				busySince = time.Now()
			}
			if time.Since(busySince)+pause > c.busyFor {
				return fmt.Errorf("%w: node busy for %v: HTTP %d: %q", chain.ErrNotConnected,
					time.Since(busySince).Round(time.Millisecond), status, truncate(b, 120))
			}
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			pause = min(2*pause, busyPauseMax)
			continue
		}
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%w: HTTP %d: %q", chain.ErrNotConnected, status, truncate(b, 120))
		}
		return nil
	}
}

// Pauses between the attempts of a request the node answered busy.
const (
	busyPauseMin = 5 * time.Millisecond
	busyPauseMax = 250 * time.Millisecond
)

// send posts data once, in one of the client's slots, and returns the
// HTTP status and the body. Its error is a transport failure (wrapping
// chain.ErrNotConnected) or ctx's.
func (c *rpcClient) send(ctx context.Context, data []byte) (int, []byte, error) {
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	defer func() { <-c.slots }()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.postURL, bytes.NewReader(data))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if u, p := c.creds(); u != "" {
		req.SetBasicAuth(u, p)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, ctx.Err()
		}
		return 0, nil, fmt.Errorf("%w: %v", chain.ErrNotConnected, redactURLError(err))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	resp.Body.Close()
	if err != nil && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return 0, nil, fmt.Errorf("%w: read reply: %v", chain.ErrNotConnected, err)
	}
	return resp.StatusCode, b, nil
}

// nodeBusy tells an overloaded node's answer: btcd's "503 Too busy"
// (more than its rpcmaxclients), Core's "Work queue depth exceeded" (HTTP
// 500 before Bitcoin Core 0.20 and in Litecoin Core, 503 after).
func nodeBusy(status int, body []byte) bool {
	return status == http.StatusServiceUnavailable ||
		status == http.StatusInternalServerError && bytes.Contains(body, []byte("Work queue depth exceeded"))
}

// redactURLError drops the URL (http.Client errors quote it) from err.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// rpcCode returns the node's error code when err is (or wraps) an
// *RPCError.
func rpcCode(err error) (int, bool) {
	var re *RPCError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}
