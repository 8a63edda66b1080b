package base

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/spec"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func debugLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// blockingMethods is a table whose "block" method waits until its context
// ends (counting its runs) and whose "count" method counts its runs.
func blockingMethods(t testing.TB, started chan<- struct{}, runs *atomic.Int64) *Table {
	t.Helper()
	block, err := NewMethod("block", "block(): waits for the end of its context.",
		func(ctx context.Context, _ *Call, _ NoArgs) (any, error) {
			runs.Add(1)
			if started != nil {
				started <- struct{}{}
			}
			<-ctx.Done()
			return nil, ctx.Err()
		})
	if err != nil {
		t.Fatal(err)
	}
	count, err := NewMethod("count", "count(): counts its runs.", func(context.Context, *Call, NoArgs) (any, error) {
		runs.Add(1)
		return "counted", nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := NewTable(block, count)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// rawRequest writes req on a new connection to ts and returns what the
// server sends until it closes the connection, or fails after within.
func rawRequest(t *testing.T, addr, req string, within time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(within))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("no complete reply (connection not closed) within %v: %v; got %q", within, err, b)
	}
	return string(b)
}

// TestUnauthorizedBodyNotDrained: a client without credentials that
// announces a body and never sends it is answered and disconnected at once
// (net/http would otherwise read the announced body, without a deadline,
// before it writes the reply). A wrong password is answered the same way
// after its delay.
func TestUnauthorizedBodyNotDrained(t *testing.T) {
	_, ts := newTestServer(t, func(c *Config) { c.AuthFailureDelay = time.Millisecond })
	addr := ts.Listener.Addr().String()
	for name, auth := range map[string]string{"none": "", "wrong": "Authorization: " + basic("electrum", "nope") + "\r\n"} {
		reply := rawRequest(t, addr, "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"+auth+"Content-Length: 200000\r\n\r\n", 10*time.Second)
		if !strings.Contains(reply, "Connection: close") || !strings.HasSuffix(reply, string(unauthorizedReply)) {
			t.Errorf("%s: reply %q", name, reply)
		}
	}
}

// TestWrongPasswordSlowedAndBounded: every wrong password waits
// AuthFailureDelay, at most authPenaltySlots at once, so 3×slots
// concurrent attempts take at least three delays; the failures are
// counted and logged once (rate-limited) with their number; a request
// without any credentials is not delayed.
func TestWrongPasswordSlowedAndBounded(t *testing.T) {
	const delay = 150 * time.Millisecond
	log, logs := debugLogger()
	s, ts := newTestServer(t, func(c *Config) { c.AuthFailureDelay = delay; c.Log = log })
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 3*authPenaltySlots; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", ts.URL, strings.NewReader(`{"id":1,"method":"help"}`))
			req.Header.Set("Authorization", basic("electrum", fmt.Sprint("guess", i)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != string(unauthorizedReply) {
				t.Errorf("reply %s", b)
			}
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 3*delay {
		t.Errorf("%d wrong passwords answered in %v: fewer than 3 rounds of %v", 3*authPenaltySlots, took, delay)
	}
	if n := strings.Count(logs.String(), "failed login"); n != 1 {
		t.Errorf("%d failed-login log lines for one burst, want 1 (rate-limited):\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "remote=127.0.0.1") {
		t.Errorf("failed login logged without the client address:\n%s", logs)
	}
	if got := counterValue(t, s, "walletd_auth_failures_total"); got != 3*authPenaltySlots {
		t.Errorf("walletd_auth_failures_total = %v", got)
	}
	start = time.Now()
	do(t, ts, "POST", "/", "", `{"id":1,"method":"help"}`)
	if took := time.Since(start); took >= delay {
		t.Errorf("a request without credentials waited %v", took)
	}
}

// TestEmptyCredentialsRefused: a server with an empty login or password
// is not built.
func TestEmptyCredentialsRefused(t *testing.T) {
	cat, _ := spec.Load("btc", false)
	for _, lp := range [][2]string{{"", "x"}, {"x", ""}, {"", ""}} {
		if _, err := New(Config{Login: lp[0], Password: lp[1], Catalog: cat, Methods: testMethods(t)}); err == nil {
			t.Errorf("login %q password %q accepted", lp[0], lp[1])
		}
	}
}

// TestHostHeaderPolicy: names a DNS-rebinding page would send are
// refused; IP literals, localhost, single-label (container) names and the
// configured names are served; "*" serves any.
func TestHostHeaderPolicy(t *testing.T) {
	_, ts := newTestServer(t, func(c *Config) { c.Limits.AllowedHosts = []string{"walletd.example.org", "10.0.0.5"} })
	good := basic("electrum", "pa:ss")
	try := func(host string) string {
		req, _ := http.NewRequest("POST", ts.URL, strings.NewReader(`{"id":1,"method":"nothing"}`))
		req.Host = host
		req.Header.Set("Authorization", good)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	for _, h := range []string{"127.0.0.1:5000", "[::1]:5000", "localhost:5000", "LOCALHOST", "api.localhost:1",
		"bitcart-btc:5000", "walletd", "walletd.example.org:5000", "Walletd.Example.Org", "203.0.113.9:80"} {
		if got := try(h); !strings.Contains(got, `"result":null`) {
			t.Errorf("Host %q refused: %s", h, got)
		}
	}
	for _, h := range []string{"evil.example:5000", "attacker.com", "127.0.0.1.nip.io", "localhost.evil.com"} {
		if got := try(h); got != string(hostReply) {
			t.Errorf("Host %q served: %s", h, got)
		}
	}
	_, any := newTestServer(t, func(c *Config) { c.Limits.AllowedHosts = []string{"*"} })
	req, _ := http.NewRequest("POST", any.URL, strings.NewReader(`{"id":1,"method":"nothing"}`))
	req.Host = "evil.example"
	req.Header.Set("Authorization", good)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"result":null`) {
		t.Errorf(`AllowedHosts "*": %s`, b)
	}
	// Health probes answer whatever the Host.
	req, _ = http.NewRequest("GET", ts.URL+"/healthz", nil)
	req.Host = "evil.example"
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/healthz with a foreign Host: %d", resp.StatusCode)
	}
}

// TestBusyWhenMaxConcurrent: with MaxConcurrent requests at work, one
// more is answered at once with -32603 "Server busy", never queued; once
// a slot frees, requests are served again.
func TestBusyWhenMaxConcurrent(t *testing.T) {
	var runs atomic.Int64
	started := make(chan struct{}, 2)
	s, ts := newTestServer(t, func(c *Config) {
		c.Methods = blockingMethods(t, started, &runs)
		c.Limits.MaxConcurrent = 2
	})
	good := basic("electrum", "pa:ss")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL, strings.NewReader(`{"id":1,"method":"block"}`))
			req.Header.Set("Authorization", good)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
	<-started
	<-started
	start := time.Now()
	_, body := do(t, ts, "POST", "/", good, `{"id":2,"method":"count"}`)
	if !strings.Contains(body, `"code":-32603`) || !strings.Contains(body, "Server busy") {
		t.Errorf("over the limit: %s", body)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the busy reply took %v: queued rather than refused", took)
	}
	if got := counterValue(t, s, "walletd_rpc_busy_total"); got != 1 {
		t.Errorf("walletd_rpc_busy_total = %v", got)
	}
	cancel() // the two clients go away: their requests end
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body = do(t, ts, "POST", "/", good, `{"id":3,"method":"count"}`)
		if strings.Contains(body, `"result":"counted"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slots never freed: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBatchStopsWhenContextEnds: once the client is gone (its context
// ended), the remaining items of a batch are not run; each gets an error
// with its own id.
func TestBatchStopsWhenContextEnds(t *testing.T) {
	var runs atomic.Int64
	started := make(chan struct{}, 1)
	s, _ := newTestServer(t, func(c *Config) { c.Methods = blockingMethods(t, started, &runs); c.MaxBatch = 10 })
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	out := s.Handle(ctx, []byte(`[{"id":1,"method":"block"},{"id":2,"method":"count"},{"id":3,"method":"count"}]`))
	if runs.Load() != 1 {
		t.Errorf("%d methods ran after the client went away, want only the first", runs.Load()-1)
	}
	for _, want := range []string{`"id":2`, `"id":3`, "Request cancelled"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("batch reply lacks %s: %s", want, out)
		}
	}
}

// TestRequestTimeout: a request's work ends at Limits.RequestTimeout with
// a clear -32603 rather than running on.
func TestRequestTimeout(t *testing.T) {
	var runs atomic.Int64
	_, ts := newTestServer(t, func(c *Config) {
		c.Methods = blockingMethods(t, nil, &runs)
		c.Limits.RequestTimeout = 50 * time.Millisecond
	})
	_, body := do(t, ts, "POST", "/", basic("electrum", "pa:ss"), `{"id":7,"method":"block"}`)
	if !strings.Contains(body, `"code":-32603`) || !strings.Contains(body, "Request timed out") || !strings.Contains(body, `"id":7`) {
		t.Errorf("reply %s", body)
	}
}

// TestConnLimit: with MaxConns connections open, one more gets a complete
// JSON "server busy" reply and is closed, and the limit frees as
// connections close.
func TestConnLimit(t *testing.T) {
	s, _ := newTestServer(t, nil)
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitConns(raw, 2, nil)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	addr := raw.Addr().String()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	waitUntil(t, func() bool { return ln.Open() == 2 })
	reply := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 10*time.Second)
	if !strings.Contains(reply, "Server busy") || !strings.Contains(reply, "Connection: close") {
		t.Errorf("over the limit: %q", reply)
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(reply)), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("the busy reply is not a valid HTTP response: %v", err)
	}
	if ln.Refused() != 1 {
		t.Errorf("refused %d", ln.Refused())
	}
	for _, c := range held {
		c.Close()
	}
	waitUntil(t, func() bool { return ln.Open() == 0 })
	if reply := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 10*time.Second); !strings.Contains(reply, `{"status":"ok"}`) {
		t.Errorf("after the others closed: %q", reply)
	}
}

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// counterValue scrapes s's /metrics and returns the value of one series
// without labels.
func counterValue(t *testing.T, s *Server, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.metrics.handler.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		var v float64
		if strings.HasPrefix(line, name+" ") {
			if _, err := fmt.Sscan(strings.TrimPrefix(line, name+" "), &v); err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no series %s", name)
	return 0
}
