package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/walletd/walletd/integration/harness"
)

// refEnv names the environment variable that makes this program (or its
// test binary) serve the reference ceiling on the given address instead of
// benchmarking: the tool re-executes itself with it, so the reference runs
// in its own process like the daemon does.
const refEnv = "WALLETD_BENCH_REF_ADDR"

// refReply is the reference server's fixed result.
var refReply = []byte(`{"jsonrpc":"2.0","result":{"confirmed":"0"},"id":`)

// refHandler is the reference ceiling: the least a Go net/http JSON-RPC
// server does per request. It reads the body, decodes the JSON-RPC request
// object (method, params, id) as the daemon's decoder does, and writes a
// fixed result echoing the id. No auth, no dispatch, no storage.
func refHandler(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Method == "" {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}`))
		return
	}
	id := req.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	out := make([]byte, 0, len(refReply)+len(id)+1)
	out = append(append(append(out, refReply...), id...), '}')
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// serveRef serves refHandler on addr until its standard input closes (the
// parent tool exited or stopped it), so it never outlives the tool.
func serveRef(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: http.HandlerFunc(refHandler), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// refProc is a running reference server process.
type refProc struct {
	Addr  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
}

// PID returns the reference server's process id.
func (p *refProc) PID() int { return p.cmd.Process.Pid }

// startRef runs this executable again as the reference server on a free
// loopback port and waits until it accepts connections.
func startRef() (*refProc, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), refEnv+"="+addr)
	cmd.SysProcAttr = harness.ChildAttr()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &refProc{Addr: addr, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("reference server exited during start-up")
		default:
		}
		if time.Now().After(deadline) {
			p.Stop()
			return nil, fmt.Errorf("reference server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop closes the server's stdin (it exits) and waits, killing it after a
// few seconds.
func (p *refProc) Stop() {
	_ = p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}
