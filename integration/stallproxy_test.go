package integration

import (
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// stallProxy is a node stand-in: a websocket proxy in front of a real
// btcd that forwards every JSON-RPC message both ways, except that it can
// hold back the requests of chosen methods (and, optionally, naming a
// chosen address) for up to a maximum time before forwarding them, as a
// node that hangs on some calls would. A batch is held whole when one of
// its calls is.
type stallProxy struct {
	t        *testing.T
	upstream *url.URL
	srv      *http.Server
	addr     string

	mu      sync.Mutex
	methods map[string]bool
	match   string        // the held request's params must contain this ("" any)
	release chan struct{} // closed to let held requests through
	held    atomic.Int64  // requests being held now
	maxHold time.Duration
}

// newStallProxy starts a proxy for the btcd websocket at wsURL
// (ws://user:pass@host:port/ws); URL() is the same with the proxy's port.
func newStallProxy(t *testing.T, wsURL string, maxHold time.Duration) *stallProxy {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{t: t, upstream: u, addr: l.Addr().String(), methods: map[string]bool{},
		release: make(chan struct{}), maxHold: maxHold}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve)}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() {
		p.Release()
		_ = p.srv.Close()
	})
	return p
}

// URL is the proxy's websocket URL, with the node's credentials.
func (p *stallProxy) URL() string {
	u := *p.upstream
	u.Host = p.addr
	return u.String()
}

// Stall holds back requests of method whose params contain match.
func (p *stallProxy) Stall(method, match string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.methods[method] = true
	p.match = match
	p.release = make(chan struct{})
}

// Release lets every held request through and stops stalling.
func (p *stallProxy) Release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.methods = map[string]bool{}
	select {
	case <-p.release:
	default:
		close(p.release)
	}
}

// Held returns how many requests are being held.
func (p *stallProxy) Held() int { return int(p.held.Load()) }

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

func (p *stallProxy) serve(w http.ResponseWriter, r *http.Request) {
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
		// A request object, or a batch of them (held whole when any of
		// its calls is to be held).
		type call struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		var calls []call
		if len(m) > 0 && m[0] == '[' {
			_ = json.Unmarshal(m, &calls)
		} else {
			var c call
			_ = json.Unmarshal(m, &c)
			calls = []call{c}
		}
		p.mu.Lock()
		stall := false
		for _, c := range calls {
			stall = stall || p.methods[c.Method] && strings.Contains(string(c.Params), p.match)
		}
		release := p.release
		p.mu.Unlock()
		if !stall {
			select {
			case toNode <- m:
			case <-done:
				return
			}
			continue
		}
		p.held.Add(1)
		go func() {
			defer p.held.Add(-1)
			t := time.NewTimer(p.maxHold)
			defer t.Stop()
			select {
			case <-release:
			case <-t.C:
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
