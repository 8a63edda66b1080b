// Package daemon runs the real walletd binary for tests: it builds
// cmd/daemon once per test process, starts it on a free loopback port with
// a data directory the test owns, and talks to it over real HTTP (JSON-RPC)
// and websockets. It can kill -9 and restart the process on the same data.
package daemon

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/repo"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/daemon (once per process, with the race detector) and
// returns its path; WALLETD_DAEMON_BIN names a prebuilt binary instead.
// The build uses the module's own source tree, so a test of cmd/daemon runs
// exactly the code under test.
func Binary(t harness.TB) string {
	t.Helper()
	if bin := os.Getenv("WALLETD_DAEMON_BIN"); bin != "" {
		return bin
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "walletd-bin-")
		if err != nil {
			buildErr = err
			return
		}
		root, err := repo.Root()
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "walletd")
		cmd := exec.Command("go", "build", "-race", "-o", binPath, "./cmd/daemon")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("%v", buildErr)
	}
	return binPath
}

// Proc is a running (or stopped) daemon process.
type Proc struct {
	t       harness.TB
	coin    string
	env     []string
	DataDir string
	URL     string
	port    int
	cmd     *exec.Cmd
	logs    *syncBuffer
	done    chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs `walletd <coin>` with env (COIN_* settings; port and data path
// are chosen here) and waits until it serves.
func Start(t harness.TB, coin string, env ...string) *Proc {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("%v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &Proc{t: t, coin: coin, env: env, DataDir: t.TempDir(), port: port,
		URL: fmt.Sprintf("http://127.0.0.1:%d", port), logs: &syncBuffer{}}
	p.start()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("walletd logs:\n%s", tail(p.logs.String(), 8000))
		}
	})
	return p
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func (p *Proc) start() {
	p.t.Helper()
	prefix := strings.ToUpper(p.coin)
	cmd := exec.Command(Binary(p.t), p.coin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + p.DataDir,
		fmt.Sprintf("%s_PORT=%d", prefix, p.port), prefix + "_DATA_PATH=" + p.DataDir, prefix + "_DEBUG=1"}, p.env...)
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	cmd.SysProcAttr = harness.ChildAttr()
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%v", err)
	}
	p.cmd = cmd
	p.done = make(chan error, 1)
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			return
		}
		select {
		case err := <-p.done:
			p.t.Fatalf("walletd exited during start-up: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("walletd did not come up: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *Proc) Kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.cmd = nil
}

// Stop sends SIGTERM and returns the process's exit error.
func (p *Proc) Stop() error {
	if p.cmd == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.cmd = nil
		return err
	case <-time.After(30 * time.Second):
		p.t.Fatalf("walletd did not stop after SIGTERM")
		return nil
	}
}

// Restart starts the process again on the same port and data directory.
func (p *Proc) Restart() {
	p.t.Helper()
	p.Kill()
	p.start()
}

// PID returns the process id of the running daemon, or 0 when it is not
// running.
func (p *Proc) PID() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Logs returns everything the process printed.
func (p *Proc) Logs() string { return p.logs.String() }

// RPCError is a JSON-RPC error reply.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error gives the code and the message, as the daemon sent them.
func (e *RPCError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Post sends a raw body to POST / with the given credentials and returns
// the HTTP status and the body.
func (p *Proc) Post(user, pass string, body []byte) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest("POST", p.URL+"/", bytes.NewReader(body))
	req.SetBasicAuth(user, pass)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("post: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Get fetches path with the given credentials.
func (p *Proc) Get(user, pass, path string) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest("GET", p.URL+path, nil)
	req.SetBasicAuth(user, pass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("get: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) {
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Wait waits up to timeout for the process to exit and returns its error.
func (p *Proc) Wait(timeout time.Duration) (error, bool) {
	select {
	case err := <-p.done:
		p.cmd = nil
		return err, true
	case <-time.After(timeout):
		return nil, false
	}
}

// Call sends one request (xpub may be "" for none) and returns the raw
// result or the error reply.
func (p *Proc) Call(xpub any, method string, params ...any) (json.RawMessage, error) {
	args := append([]any{}, params...)
	if s, ok := xpub.(string); !ok || s != "" {
		args = append(args, map[string]any{"xpub": xpub})
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": args})
	req, _ := http.NewRequest("POST", p.URL+"/", bytes.NewReader(body))
	req.SetBasicAuth("electrum", "electrumz")
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("reply %q: %w", raw, err)
	}
	if r.Error != nil {
		return nil, r.Error
	}
	return r.Result, nil
}

// Must calls and decodes the result into out (may be nil), failing the
// test on any error.
func (p *Proc) Must(out any, xpub any, method string, params ...any) {
	p.t.Helper()
	raw, err := p.Call(xpub, method, params...)
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			p.t.Fatalf("%s: decoding %s: %v", method, raw, err)
		}
	}
}

// WS is a websocket client of the daemon.
type WS struct {
	t        harness.TB
	conn     *websocket.Conn
	ch       chan Frame
	mu       sync.Mutex
	closeErr *websocket.CloseError
}

// Frame is one server frame, decoded.
type Frame struct {
	Updates  []map[string]any `json:"updates"`
	Wallet   *string          `json:"wallet"`
	Currency string           `json:"currency"`
	At       time.Time        `json:"-"`
}

// Event returns the frame's single event.
func (f Frame) Event() map[string]any {
	if len(f.Updates) == 0 {
		return nil
	}
	return f.Updates[0]
}

// Seq returns the event's seq.
func (f Frame) Seq() uint64 {
	v, _ := f.Event()["seq"].(float64)
	return uint64(v)
}

// Dial opens /ws (query may be "" or "?since=N").
func (p *Proc) Dial(query string) *WS {
	p.t.Helper()
	h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(p.URL, "http")+"/ws"+query, h)
	if err != nil {
		p.t.Fatalf("ws dial: %v", err)
	}
	w := &WS{t: p.t, conn: conn, ch: make(chan Frame, 10000)}
	go func() {
		defer close(w.ch)
		for {
			_, msg, err := conn.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				if errors.As(err, &ce) {
					w.mu.Lock()
					w.closeErr = ce
					w.mu.Unlock()
				}
				return
			}
			var f Frame
			if json.Unmarshal(msg, &f) == nil {
				f.At = time.Now()
				w.ch <- f
			}
		}
	}()
	p.t.Cleanup(func() { conn.Close() })
	return w
}

// Filter narrows the socket to one wallet key.
func (w *WS) Filter(key string) {
	b, _ := json.Marshal(map[string]string{"xpub": key})
	if err := w.conn.WriteMessage(websocket.TextMessage, b); err != nil {
		w.t.Fatalf("%v", err)
	}
}

// Next waits for the next frame whose event matches pred.
func (w *WS) Next(timeout time.Duration, what string, pred func(Frame) bool) Frame {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-w.ch:
			if !ok {
				w.t.Fatalf("websocket closed while waiting for %s", what)
			}
			if pred(f) {
				return f
			}
		case <-deadline:
			w.t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
	}
}

// Close closes the socket.
func (w *WS) Close() { _ = w.conn.Close() }

// Closed waits for the server to close the socket and returns the close
// frame it sent (nil if the connection ended without one).
func (w *WS) Closed(timeout time.Duration) *websocket.CloseError {
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-w.ch:
			if !ok {
				w.mu.Lock()
				defer w.mu.Unlock()
				return w.closeErr
			}
		case <-deadline:
			w.t.Fatalf("socket not closed within %v", timeout)
			return nil
		}
	}
}

// IsEvent matches frames of one event name with the given fields.
func IsEvent(name string, fields map[string]any) func(Frame) bool {
	return func(f Frame) bool {
		ev := f.Event()
		if ev["event"] != name {
			return false
		}
		for k, v := range fields {
			if fmt.Sprint(ev[k]) != fmt.Sprint(v) {
				return false
			}
		}
		return true
	}
}
