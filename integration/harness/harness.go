// Package harness starts real btcd nodes (and ltcd and litecoind ones: see
// litecoind.go) on loopback for integration tests and
// drives them: mining, funding arbitrary addresses from the node's coinbase
// outputs (signed in Go: btcd has no wallet), peering two nodes for reorg
// tests, restarting and invalidating blocks.
//
// Binaries come from $WALLETD_BIN_DIR, or else <repo root>/bin, where
// integration/nodes/build.sh puts them. A missing binary fails the test (it is
// never skipped) with a message saying how to build it.
//
// Every node lives in t.TempDir(), listens on free 127.0.0.1 ports and is
// stopped by t.Cleanup; its output goes to node.log in its folder, and the log
// tail is printed when the test failed.
package harness

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/address/v2"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/rpcclient"

	"github.com/walletd/walletd/internal/repo"
)

// BinDirEnv names the environment variable that overrides where the node
// binaries are looked up (default: <repo root>/bin).
const BinDirEnv = "WALLETD_BIN_DIR"

const (
	rpcUser = "walletd"
	rpcPass = "walletd-test-pass"

	defaultStartTimeout = 30 * time.Second
	stopTimeout         = 15 * time.Second
	callTimeout         = 30 * time.Second
	logTailLines        = 60
	startAttempts       = 4
)

// Option configures a node started by StartBtcd.
type Option func(*config)

type config struct {
	simnet       bool
	tls          bool
	cookie       bool
	args         []string
	startTimeout time.Duration
}

// WithSimnet runs the node on simnet instead of regtest. btcd wipes its
// regtest chain on every start, so tests that Restart the node and need the
// chain to survive must use simnet.
func WithSimnet() Option { return func(c *config) { c.simnet = true } }

// WithTLS serves RPC over TLS with a certificate btcd generates for localhost
// and 127.0.0.1; WSURL then returns a wss:// URL and TLSCert the PEM
// certificate to trust.
func WithTLS() Option { return func(c *config) { c.tls = true } }

// WithArgs appends extra command-line flags to the node.
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// WithStartTimeout bounds how long StartBtcd (and Restart) wait for the RPC
// server to answer (default 30s).
func WithStartTimeout(d time.Duration) Option { return func(c *config) { c.startTimeout = d } }

// Node is one running (or stopped) btcd process owned by a test. Its methods
// fail the test on error, so they must be called from the test's goroutine;
// in a subtest use n.For(t). The ones returning an error may be called from
// any goroutine.
type Node struct {
	t TB
	*node
}

// node is the state shared by every Node view of one process.
type node struct {
	owner  TB // the test that started it; cleanup logs there
	cfg    config
	flavor *flavor // nil: btcd
	bin    string
	dir    string
	params *chaincfg.Params

	rpcPort int
	p2pPort int
	cert    []byte // PEM, TLS only

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	exitErr error
	logFile *os.File
	rpc     *rpcclient.Client
	httpc   *http.Client

	wallet *wallet
	reqID  atomic.Uint64
}

// BinDir returns the folder holding the node binaries: $WALLETD_BIN_DIR, or
// else the bin folder beside the repository's root go.mod (found by walking up
// from the working directory).
func BinDir() (string, error) {
	if d := os.Getenv(BinDirEnv); d != "" {
		return d, nil
	}
	root, err := repo.Root()
	if err != nil {
		return "", fmt.Errorf("harness: %w", err)
	}
	return filepath.Join(root, "bin"), nil
}

// binary returns the path of the named node binary or fails the test with a
// message telling how to build it.
func binary(t TB, name string) string {
	t.Helper()
	dir, err := BinDir()
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	p := filepath.Join(dir, name)
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		t.Fatalf("harness: %s not found at %s: run integration/nodes/build.sh (or set %s to the folder holding it)", name, p, BinDirEnv)
	}
	return p
}

// StartBtcd starts a fresh btcd (regtest unless WithSimnet) with --txindex
// --addrindex, RPC user/password auth without TLS (unless WithTLS), on free
// loopback ports, mining to a key the harness holds in memory. It returns once
// the RPC server answers. The node is stopped, and its temp folder removed,
// when the test ends.
func StartBtcd(t TB, opts ...Option) *Node {
	t.Helper()
	cfg := config{startTimeout: defaultStartTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	params := &chaincfg.RegressionNetParams
	if cfg.simnet {
		params = &chaincfg.SimNetParams
	}
	return launch(t, cfg, nil, params)
}

// launch starts a node of the given flavor (nil: btcd) and returns once its
// RPC server answers.
func launch(t TB, cfg config, fl *flavor, params *chaincfg.Params) *Node {
	t.Helper()
	name, bin := "btcd", ""
	switch {
	case fl == nil:
		bin = binary(t, name)
	case fl.find != nil:
		name, bin = fl.binary, fl.find(t)
	default:
		name, bin = fl.binary, binary(t, fl.binary)
	}
	n := &Node{t: t, node: &node{
		owner:  t,
		cfg:    cfg,
		flavor: fl,
		bin:    bin,
		dir:    t.TempDir(),
		params: params,
	}}
	n.wallet = newWallet(t, n.params)
	t.Cleanup(n.cleanup)

	for attempt := 1; ; attempt++ {
		rpcPort, p2pPort, err := freePorts()
		if err != nil {
			t.Fatalf("harness: pick ports: %v", err)
		}
		n.rpcPort, n.p2pPort = rpcPort, p2pPort
		err = n.start()
		if err == nil {
			break
		}
		if errors.Is(err, errAddrInUse) && attempt < startAttempts {
			continue
		}
		t.Fatalf("harness: start %s: %v\n%s", name, err, n.logTail())
	}
	cc := &rpcclient.ConnConfig{
		Host:         n.RPCAddr(),
		User:         rpcUser,
		Pass:         rpcPass,
		HTTPPostMode: true,
		DisableTLS:   !cfg.tls,
		Certificates: n.cert,
	}
	rc, err := rpcclient.New(cc, nil)
	if err != nil {
		t.Fatalf("harness: rpc client: %v", err)
	}
	n.rpc = rc
	return n
}

var errAddrInUse = errors.New("port already in use")

// freePorts returns two distinct free loopback TCP ports (listen on :0, then
// close). Another process may take one before the node binds it; StartBtcd
// retries with fresh ports when the node reports so.
func freePorts() (int, int, error) {
	var ports []int
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for len(ports) < 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports[0], ports[1], nil
}

func (n *Node) args() []string {
	if n.flavor != nil {
		return append(n.flavor.args(n), n.cfg.args...)
	}
	d := n.dir
	a := []string{
		"--configfile=/dev/null",
		"--datadir=" + filepath.Join(d, "data"),
		"--logdir=" + filepath.Join(d, "logs"),
		"--listen=127.0.0.1:" + strconv.Itoa(n.p2pPort),
		"--rpclisten=127.0.0.1:" + strconv.Itoa(n.rpcPort),
		"--rpcuser=" + rpcUser,
		"--rpcpass=" + rpcPass,
		"--nodnsseed",
		"--nostalldetect",
		"--txindex",
		"--addrindex",
		"--utxocachemaxsize=8",
		// Tests and the load tool call the node from many goroutines at
		// once: btcd's default of 10 answered them "503 Too busy".
		"--rpcmaxclients=64",
		"--debuglevel=MINR=warn",
		"--miningaddr=" + n.wallet.miningAddr.EncodeAddress(),
	}
	if n.cfg.simnet {
		a = append(a, "--simnet")
	} else {
		a = append(a, "--regtest")
	}
	if n.cfg.tls {
		a = append(a, "--rpccert="+filepath.Join(d, "rpc.cert"), "--rpckey="+filepath.Join(d, "rpc.key"))
	} else {
		a = append(a, "--notls")
	}
	return append(a, n.cfg.args...)
}

// start launches the process and waits for RPC readiness.
func (n *Node) start() error {
	lf, err := os.OpenFile(filepath.Join(n.dir, "node.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	var offset int64
	if st, err := lf.Stat(); err == nil {
		offset = st.Size()
	}
	fmt.Fprintf(lf, "=== harness: starting %s %s\n", n.bin, strings.Join(n.args(), " "))
	cmd := exec.Command(n.bin, n.args()...)
	cmd.Stdout = lf
	cmd.Stderr = lf
	// btcd creates ~/.btcd even when every path is given: keep it in the
	// temp folder.
	cmd.Env = append(os.Environ(), "HOME="+n.dir)
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return err
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.logFile, n.exitErr = cmd, exited, lf, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.exitErr = err
		n.mu.Unlock()
		close(exited)
	}()
	if err := n.waitReady(exited); err != nil {
		n.stopProcess()
		if strings.Contains(n.logSince(offset), "address already in use") {
			return fmt.Errorf("%w: %v", errAddrInUse, err)
		}
		return err
	}
	return nil
}

// waitReady polls getblockcount until it answers, the process exits, or the
// start timeout passes.
func (n *Node) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(n.cfg.startTimeout)
	if n.cfg.tls {
		if err := n.loadCert(exited, deadline); err != nil {
			return err
		}
	}
	n.httpc = n.newHTTPClient()
	var lastErr error
	for delay := 5 * time.Millisecond; ; delay = min(delay*2, 100*time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := n.Call(ctx, "getblockcount")
		cancel()
		if err == nil {
			return nil
		}
		lastErr = err
		select {
		case <-exited:
			return fmt.Errorf("%s exited during startup: %v", filepath.Base(n.bin), n.exitError())
		case <-time.After(delay):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("RPC not ready after %v: %v", n.cfg.startTimeout, lastErr)
		}
	}
}

// loadCert waits for btcd to write its generated RPC certificate.
func (n *Node) loadCert(exited <-chan struct{}, deadline time.Time) error {
	p := filepath.Join(n.dir, "rpc.cert")
	for {
		if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte("END CERTIFICATE")) {
			n.cert = b
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("btcd exited during startup: %v", n.exitError())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("RPC certificate not written in time")
		}
	}
}

func (n *Node) newHTTPClient() *http.Client {
	tr := &http.Transport{DisableKeepAlives: false, MaxIdleConnsPerHost: 4}
	if n.cfg.tls {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(n.cert)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}
}

func (n *node) exitError() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exitErr
}

func (n *node) running() bool {
	n.mu.Lock()
	ch := n.exited
	n.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// stopProcess sends SIGINT, waits up to stopTimeout, then kills the process
// (and its group), and waits for it to exit. It is a no-op when the process
// is not running.
func (n *node) stopProcess() {
	n.mu.Lock()
	cmd, exited, lf := n.cmd, n.exited, n.logFile
	n.mu.Unlock()
	if cmd == nil || exited == nil {
		return
	}
	// Core waits for idle keep-alive connections before it exits.
	if n.httpc != nil {
		n.httpc.CloseIdleConnections()
	}
	select {
	case <-exited:
	default:
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
	}
	if lf != nil {
		lf.Close()
	}
	if n.httpc != nil {
		n.httpc.CloseIdleConnections()
	}
}

func (n *node) cleanup() {
	n.stopProcess()
	if n.rpc != nil {
		n.rpc.Shutdown()
		n.rpc.WaitForShutdown()
	}
	if n.owner.Failed() {
		n.owner.Logf("harness: tail of %s:\n%s", filepath.Join(n.dir, "node.log"), n.logTail())
	}
}

// logSince returns the node's log from byte offset on.
func (n *node) logSince(offset int64) string {
	b, err := os.ReadFile(filepath.Join(n.dir, "node.log"))
	if err != nil || int64(len(b)) < offset {
		return ""
	}
	return string(b[offset:])
}

// logTail returns the last lines of the node's log.
func (n *node) logTail() string {
	b, err := os.ReadFile(filepath.Join(n.dir, "node.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return strings.Join(lines, "\n")
}

// For returns a view of the node that fails t (instead of the test that
// started it) on error: use it in subtests.
func (n *Node) For(t TB) *Node { return &Node{t: t, node: n.node} }

// Stop stops the node (SIGINT, then SIGKILL after 15s) and waits for it to
// exit. The data folder is kept for Restart.
func (n *Node) Stop() {
	n.t.Helper()
	n.stopProcess()
}

// Restart stops the node if it runs and starts it again with the same data
// folder and ports, returning once RPC answers. On regtest btcd wipes its
// chain at every start, so only a simnet node (WithSimnet) keeps its chain;
// the mempool is never kept. The harness forgets its unconfirmed change (and,
// on regtest, everything) and rescans its coinbases when funding next.
func (n *Node) Restart() {
	n.t.Helper()
	n.stopProcess()
	n.Start()
}

// Start starts a stopped node again with the same data folder and ports (see
// Restart for what survives). It is a no-op on a running node.
func (n *Node) Start() {
	n.t.Helper()
	if n.running() {
		return
	}
	if err := n.start(); err != nil {
		n.t.Fatalf("harness: start %s: %v\n%s", filepath.Base(n.bin), err, n.logTail())
	}
	n.wallet.reset()
}

// Running reports whether the node process is up.
func (n *Node) Running() bool { return n.running() }

// Params returns the network parameters of the node (regtest or simnet).
func (n *Node) Params() *chaincfg.Params { return n.params }

// Dir returns the node's temp folder (data, logs, node.log).
func (n *Node) Dir() string { return n.dir }

// RPCAddr returns the RPC listen address, host:port.
func (n *Node) RPCAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.rpcPort)) }

// P2PAddr returns the peer-to-peer listen address, host:port.
func (n *Node) P2PAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.p2pPort)) }

// WSURL returns the websocket RPC URL with credentials,
// ws://user:pass@127.0.0.1:port (wss:// with WithTLS), the form walletd's
// BTC_SERVER takes.
func (n *Node) WSURL() string {
	u := url.URL{Scheme: "ws", User: url.UserPassword(rpcUser, rpcPass), Host: n.RPCAddr()}
	if n.cfg.tls {
		u.Scheme = "wss"
	}
	return u.String()
}

// TLSCert returns the PEM certificate of the RPC server (nil without WithTLS).
func (n *Node) TLSCert() []byte { return n.cert }

// RPC returns an rpcclient in HTTP POST mode for the node. It stays valid
// across Restart and is shut down when the test ends. Note rpcclient retries
// failed HTTP requests for ~25s: don't call it on a stopped node.
func (n *Node) RPC() *rpcclient.Client { return n.rpc }

// RPCError is a JSON-RPC error object returned by the node.
type RPCError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error returns the node's code and message.
func (e *RPCError) Error() string { return fmt.Sprintf("rpc error %d: %s", e.Code, e.Message) }

// Call performs one JSON-RPC call over HTTP without retries and returns the
// raw result. Node errors are *RPCError. Safe from any goroutine.
func (n *Node) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	id := n.reqID.Add(1)
	body, err := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if n.cfg.tls {
		scheme = "https"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, scheme+"://"+n.RPCAddr(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth(n.credentials())
	req.Header.Set("Content-Type", "application/json")
	hc := n.httpc
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *RPCError       `json:"error"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: HTTP %d: %q", method, resp.StatusCode, truncate(b, 200))
	}
	if r.Error != nil {
		return nil, r.Error
	}
	return r.Result, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// call is Call with the default timeout, decoding the result into out
// (when non-nil).
func (n *Node) call(out any, method string, params ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	res, err := n.Call(ctx, method, params...)
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	if out != nil {
		if err := json.Unmarshal(res, out); err != nil {
			return fmt.Errorf("%s: decode result: %w", method, err)
		}
	}
	return nil
}

// mustCall is call that fails the test on error.
func (n *Node) mustCall(out any, method string, params ...any) {
	n.t.Helper()
	if err := n.call(out, method, params...); err != nil {
		n.t.Fatalf("harness: %v", err)
	}
}

// decodeAddress decodes addr for the node's network.
func (n *Node) decodeAddress(addr string) (address.Address, error) {
	if n.flavor != nil && n.flavor.net != nil {
		// btcd's decoder only knows registered (Bitcoin) networks.
		return n.flavor.net.DecodeAddress(addr)
	}
	a, err := address.DecodeAddress(addr, n.params)
	if err != nil {
		return nil, err
	}
	if !a.IsForNet(n.params) {
		return nil, fmt.Errorf("address %s is not for %s", addr, n.params.Name)
	}
	return a, nil
}
