package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/electrumproxy"
)

// rpcCall is one JSON-RPC request as a stalling proxy sees it.
type rpcCall struct {
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

// parseCalls reads a JSON-RPC request object, or a batch of them.
func parseCalls(m []byte) []rpcCall {
	m = bytes.TrimSpace(m)
	var calls []rpcCall
	if len(m) > 0 && m[0] == '[' {
		_ = json.Unmarshal(m, &calls)
		return calls
	}
	var c rpcCall
	_ = json.Unmarshal(m, &c)
	return []rpcCall{c}
}

// staller decides which calls a node or server stand-in holds back, as a
// node that hangs on some calls would: those of chosen methods whose params
// contain a chosen string, each for up to a maximum time or until Release.
// The websocket, HTTP and Electrum stand-ins share it.
type staller struct {
	maxHold time.Duration

	mu      sync.Mutex
	methods map[string]bool
	match   string        // the held call's params must contain this ("" any)
	release chan struct{} // closed to let held calls through
	held    atomic.Int64  // calls being held now
}

func newStaller(maxHold time.Duration) *staller {
	return &staller{maxHold: maxHold, methods: map[string]bool{}, release: make(chan struct{})}
}

// Stall holds back calls of method whose params contain match.
func (s *staller) Stall(method, match string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.methods[method] = true
	s.match = match
	s.release = make(chan struct{})
}

// Release lets every held call through and stops stalling.
func (s *staller) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.methods = map[string]bool{}
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Held returns how many calls are being held.
func (s *staller) Held() int { return int(s.held.Load()) }

// hold returns nil when none of calls (one message: a call or a batch,
// held whole) is to be held; otherwise a channel closed when the message
// may go on (Release, or maxHold passed).
func (s *staller) hold(calls ...rpcCall) <-chan struct{} {
	s.mu.Lock()
	stall := false
	for _, c := range calls {
		stall = stall || s.methods[c.Method] && strings.Contains(string(c.Params), s.match)
	}
	release := s.release
	s.mu.Unlock()
	if !stall {
		return nil
	}
	s.held.Add(1)
	out := make(chan struct{})
	go func() {
		defer close(out)
		defer s.held.Add(-1)
		t := time.NewTimer(s.maxHold)
		defer t.Stop()
		select {
		case <-release:
		case <-t.C:
		}
	}()
	return out
}

// stallProxy is a node stand-in: a websocket proxy in front of a real
// btcd that forwards every JSON-RPC message both ways, except the requests
// its staller holds back.
type stallProxy struct {
	*staller
	stand
	t *testing.T
}

// newStallProxy starts a proxy for the btcd websocket at wsURL
// (ws://user:pass@host:port/ws); URL() is the same with the proxy's port.
func newStallProxy(t *testing.T, wsURL string, maxHold time.Duration) *stallProxy {
	t.Helper()
	p := &stallProxy{staller: newStaller(maxHold), stand: newStand(t, wsURL), t: t}
	p.serve(t, p.staller, http.HandlerFunc(p.proxy))
	return p
}

// stand is the listening side of a node stand-in in front of upstream.
type stand struct {
	upstream *url.URL
	l        net.Listener
}

// newStand parses upstream (a URL with the node's credentials) and
// listens on a free loopback port.
func newStand(t *testing.T, upstream string) stand {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return stand{upstream: u, l: l}
}

// serve serves h until the test ends, then releases what s holds.
func (st stand) serve(t *testing.T, s *staller, h http.Handler) {
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(st.l) }()
	t.Cleanup(func() {
		s.Release()
		_ = srv.Close()
	})
}

// URL is the upstream URL (credentials included) with the stand-in's
// address.
func (st stand) URL() string {
	u := *st.upstream
	u.Host = st.l.Addr().String()
	return u.String()
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (p *stallProxy) proxy(w http.ResponseWriter, r *http.Request) {
	hdr := http.Header{}
	if a := r.Header.Get("Authorization"); a != "" {
		hdr.Set("Authorization", a)
	}
	up := *p.upstream
	up.User = nil
	up.Path = r.URL.Path
	node, resp, err := websocket.DefaultDialer.Dial(up.String(), hdr)
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		p.t.Logf("stall proxy: dialing the node: %v", err)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		node.Close()
		return
	}
	defer client.Close()
	defer node.Close()
	// One writer per direction (websocket writes must not overlap).
	toNode := make(chan []byte, 64)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case m := <-toNode:
				if node.WriteMessage(websocket.TextMessage, m) != nil {
					return
				}
			case <-done:
				return
			}
		}
	}()
	go func() {
		defer client.Close()
		for {
			_, m, err := node.ReadMessage()
			if err != nil {
				return
			}
			if client.WriteMessage(websocket.TextMessage, m) != nil {
				return
			}
		}
	}()
	for {
		_, m, err := client.ReadMessage()
		if err != nil {
			return
		}
		wait := p.hold(parseCalls(m)...)
		if wait == nil {
			select {
			case toNode <- m:
			case <-done:
				return
			}
			continue
		}
		go func() {
			select {
			case <-wait:
			case <-done:
				return
			}
			select {
			case toNode <- m:
			case <-done:
			}
		}()
	}
}

// httpStallProxy is a node stand-in for the Core JSON-RPC backend: an HTTP
// proxy in front of a real node's RPC that forwards every request, except
// those (a call or a batch, held whole) its staller holds back. Each HTTP
// request is held on its own: the others go on meanwhile.
type httpStallProxy struct {
	*staller
	stand
}

// newHTTPStallProxy starts a proxy for the node RPC at rpcURL
// (http://user:pass@host:port/); URL() is the same with the proxy's port.
func newHTTPStallProxy(t *testing.T, rpcURL string, maxHold time.Duration) *httpStallProxy {
	t.Helper()
	p := &httpStallProxy{staller: newStaller(maxHold), stand: newStand(t, rpcURL)}
	target := *p.upstream
	target.User = nil
	rp := httputil.NewSingleHostReverseProxy(&target)
	p.serve(t, p.staller, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if wait := p.hold(parseCalls(body)...); wait != nil {
			select {
			case <-wait:
			case <-r.Context().Done():
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		rp.ServeHTTP(w, r)
	}))
	return p
}

// electrumStallHooks makes an Electrum proxy hold back the replies s
// holds (the request goes to the server at once; its reply waits), the
// other replies passing meanwhile.
func electrumStallHooks(s *staller) electrumproxy.Hooks {
	return electrumproxy.Hooks{Reply: func(_ *electrumproxy.Conn, method string, params []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
		raw, _ := json.Marshal(params)
		r.Hold = s.hold(rpcCall{Method: method, Params: raw})
		return r
	}}
}
