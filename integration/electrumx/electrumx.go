// Package electrumx runs a real ElectrumX server (../shared/electrumx,
// through its start.sh and stop.sh) for tests, over a node started by the
// harness: btcd (through the BitcoinBtcd shim, BtcdURL) or litecoind
// (harness.StartLitecoind, its HTTPURL, WithCoin("Litecoin")). It also gives
// tests a probe connection to ask the server what it knows (its tip, a
// transaction), so a test can wait until ElectrumX, which polls its node,
// has caught up.
package electrumx

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain/electrum/rpc"
	"github.com/walletd/walletd/coins/chain/ltcwire"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/repo"
)

// Dir returns the folder of the shared ElectrumX (start.sh, stop.sh).
func Dir() (string, error) {
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	d := filepath.Join(filepath.Dir(root), "shared", "electrumx")
	if _, err := os.Stat(filepath.Join(d, "start.sh")); err != nil {
		return "", fmt.Errorf("ElectrumX not found beside the repository: %w", err)
	}
	return d, nil
}

// Option configures Start.
type Option func(*Server)

// WithCoin sets ElectrumX's COIN (default "BitcoinBtcd"; "Litecoin" for
// litecoind).
func WithCoin(coin string) Option { return func(s *Server) { s.coin = coin } }

// WithSSL also serves SSL (a self-signed certificate start.sh makes).
func WithSSL() Option { return func(s *Server) { s.ssl = true } }

// WithPoll sets ElectrumX's node polling interval (default 250 ms, as
// start.sh).
func WithPoll(d time.Duration) Option { return func(s *Server) { s.poll = d } }

// WithEnv adds ElectrumX settings ("NAME=value").
func WithEnv(kv ...string) Option { return func(s *Server) { s.env = append(s.env, kv...) } }

// WithDefaultCostLimits runs ElectrumX with its own default per-session
// cost limits and throttling (COST_SOFT_LIMIT=1000, COST_HARD_LIMIT=10000,
// REQUEST_SLEEP=2500, INITIAL_CONCURRENT=10, BANDWIDTH_UNIT_COST=5000), as a
// public server runs, instead of start.sh's unlimited test setting.
// Clients on 127.0.0.1 are exempt from ElectrumX's per-IP group cost, not
// from the per-session cost.
func WithDefaultCostLimits() Option {
	return WithEnv("COST_SOFT_LIMIT=1000", "COST_HARD_LIMIT=10000", "REQUEST_SLEEP=2500",
		"INITIAL_CONCURRENT=10", "BANDWIDTH_UNIT_COST=5000")
}

// Server is a running (or stopped) ElectrumX.
type Server struct {
	t       harness.TB
	dir     string
	exdir   string
	nodeURL string
	coin    string
	ssl     bool
	poll    time.Duration
	env     []string

	mu      sync.Mutex
	pid     int
	port    int
	sslPort int
	probe   *rpc.Conn
}

// BtcdURL returns the HTTP JSON-RPC URL of a harness btcd, the
// NODE_RPC_URL start.sh takes.
func BtcdURL(n *harness.Node) string {
	u, _ := url.Parse(n.WSURL())
	u.Scheme = "http"
	u.Path = "/"
	return u.String()
}

// Start starts ElectrumX over the node at nodeURL (http://user:pass@127.0.0.1:port/)
// on free loopback ports and waits until it answers. It is stopped when
// the test ends; its log is printed if the test failed.
func Start(t harness.TB, nodeURL string, opts ...Option) *Server {
	t.Helper()
	exdir, err := Dir()
	if err != nil {
		t.Fatalf("electrumx: %v", err)
	}
	s := &Server{t: t, dir: t.TempDir(), exdir: exdir, nodeURL: nodeURL, coin: "BitcoinBtcd", poll: 250 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			t.Logf("electrumx: tail of %s:\n%s", filepath.Join(s.dir, "electrumx.log"), s.LogTail(40))
		}
	})
	s.port = freePort(t)
	if s.ssl {
		s.sslPort = freePort(t)
	}
	s.Start()
	return s
}

func freePort(t harness.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("electrumx: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start starts the server again (after Stop) on the same ports and
// database; a running server is left alone.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid != 0 {
		return
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		cmd := exec.Command("bash", filepath.Join(s.exdir, "start.sh"), s.nodeURL, s.dir, strconv.Itoa(s.port))
		env := []string{"COIN=" + s.coin, "POLL_MS=" + strconv.Itoa(int(s.poll/time.Millisecond)), "START_TIMEOUT=60"}
		if s.ssl {
			env = append(env, "SSL_PORT="+strconv.Itoa(s.sslPort))
		}
		if len(s.env) > 0 {
			env = append(env, "EX_ENV="+strings.Join(s.env, " "))
		}
		cmd.Env = append(os.Environ(), env...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			lastErr = fmt.Errorf("%v: %s", err, errb.String())
			if strings.Contains(errb.String(), "address already in use") || strings.Contains(s.LogTail(20), "address already in use") {
				s.port = freePort(s.t)
				continue
			}
			break
		}
		pid, err := strconv.Atoi(strings.TrimSpace(out.String()))
		if err != nil {
			s.t.Fatalf("electrumx: start.sh printed %q", out.String())
		}
		s.pid = pid
		return
	}
	s.t.Fatalf("electrumx: start: %v", lastErr)
}

// Stop stops the server (a clean SIGINT shutdown that flushes its
// database), and closes the probe.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != nil {
		s.probe.Close(nil)
		s.probe = nil
	}
	if s.pid == 0 {
		return
	}
	_ = exec.Command("bash", filepath.Join(s.exdir, "stop.sh"), strconv.Itoa(s.pid)).Run()
	s.pid = 0
}

// Kill kills the server with SIGKILL (no flush) and waits for it to exit.
func (s *Server) Kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.probe != nil {
		s.probe.Close(nil)
		s.probe = nil
	}
	if s.pid == 0 {
		return
	}
	p, err := os.FindProcess(s.pid)
	if err == nil {
		_ = p.Kill()
		for i := 0; i < 200 && p.Signal(syscall.Signal(0)) == nil; i++ {
			time.Sleep(10 * time.Millisecond)
		}
	}
	s.pid = 0
}

// Running reports whether the server was started and not stopped.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid != 0
}

// Addr is the TCP address, 127.0.0.1:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// TCP is the server in Bitcart's form, 127.0.0.1:port:t.
func (s *Server) TCP() string { return s.Addr() + ":t" }

// SSL is the SSL service in Bitcart's form, 127.0.0.1:port:s (WithSSL).
func (s *Server) SSL() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.sslPort)) + ":s" }

// LogTail returns the last n lines of ElectrumX's log.
func (s *Server) LogTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "electrumx.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Call sends one request on the probe connection (opened on first use).
func (s *Server) Call(ctx context.Context, out any, method string, params ...any) error {
	s.mu.Lock()
	if s.probe == nil {
		nc, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		s.probe = rpc.New(nc, rpc.Options{})
		if err := s.probe.Call(ctx, nil, "server.version", "walletd-test", "1.4"); err != nil {
			s.probe.Close(nil)
			s.probe = nil
			s.mu.Unlock()
			return err
		}
	}
	p := s.probe
	s.mu.Unlock()
	err := p.Call(ctx, out, method, params...)
	if errors.Is(err, rpc.ErrClosed) {
		s.mu.Lock()
		if s.probe == p {
			s.probe = nil
		}
		s.mu.Unlock()
	}
	return err
}

// Tip returns the server's tip height and hash.
func (s *Server) Tip(ctx context.Context) (int32, chainhash.Hash, error) {
	var r struct {
		Height int32  `json:"height"`
		Hex    string `json:"hex"`
	}
	if err := s.Call(ctx, &r, "blockchain.headers.subscribe"); err != nil {
		return 0, chainhash.Hash{}, err
	}
	raw, err := hex.DecodeString(r.Hex)
	if err != nil {
		return 0, chainhash.Hash{}, err
	}
	var h wire.BlockHeader
	if err := h.Deserialize(bytes.NewReader(raw)); err != nil {
		return 0, chainhash.Hash{}, err
	}
	return r.Height, h.BlockHash(), nil
}

// WaitTip waits until the server's tip is hash.
func (s *Server) WaitTip(hash chainhash.Hash) {
	s.t.Helper()
	s.waitFor("ElectrumX at block "+hash.String(), func(ctx context.Context) bool {
		_, h, err := s.Tip(ctx)
		return err == nil && h == hash
	})
}

// WaitTx waits until the server knows transaction txid (mempool or
// chain).
func (s *Server) WaitTx(txid chainhash.Hash) {
	s.t.Helper()
	s.waitFor("ElectrumX to know tx "+txid.String(), func(ctx context.Context) bool { return s.inMempoolOrChain(ctx, txid) })
}

// waitFor polls cond (each try bounded to 5 s) for up to 30 s.
func (s *Server) waitFor(what string, cond func(ctx context.Context) bool) {
	s.t.Helper()
	harness.WaitFor(s.t, 30*time.Second, what, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return cond(ctx)
	})
}

// inMempoolOrChain asks ElectrumX's own index, not the node's (which
// blockchain.transaction.get reads): the history of the tx's first output
// script lists the tx once ElectrumX has seen it.
func (s *Server) inMempoolOrChain(ctx context.Context, txid chainhash.Hash) bool {
	var rawHex string
	if err := s.Call(ctx, &rawHex, "blockchain.transaction.get", txid.String()); err != nil {
		return false
	}
	raw, err := hex.DecodeString(rawHex)
	if err != nil {
		return false
	}
	tx, err := ltcwire.DecodeTx(raw) // Bitcoin's, or Litecoin's with MWEB data
	if err != nil || len(tx.TxOut) == 0 {
		return false
	}
	var hist []struct {
		TxHash string `json:"tx_hash"`
	}
	if err := s.Call(ctx, &hist, "blockchain.scripthash.get_history", ScriptHash(tx.TxOut[0].PkScript)); err != nil {
		return false
	}
	for _, h := range hist {
		if h.TxHash == txid.String() {
			return true
		}
	}
	return false
}

// ScriptHash is the Electrum protocol's script hash: sha256 of the script,
// byte-reversed, in hex.
func ScriptHash(script []byte) string {
	h := chainhash.HashH(script)
	return h.String() // chainhash prints byte-reversed
}

// WatchScript opens a session of its own subscribed to script's status;
// the channel receives the arrival time of each status notification (the
// server's own notification delay, for latency measurements). The session
// closes when the test ends.
func (s *Server) WatchScript(script []byte) <-chan time.Time {
	s.t.Helper()
	ch := make(chan time.Time, 64)
	nc, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		s.t.Fatalf("electrumx: watch: %v", err)
	}
	conn := rpc.New(nc, rpc.Options{OnNotify: func(n rpc.Notification) {
		if n.Method == "blockchain.scripthash.subscribe" {
			select {
			case ch <- time.Now():
			default:
			}
		}
	}})
	s.t.Cleanup(func() { conn.Close(nil) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Call(ctx, nil, "server.version", "walletd-test", "1.4"); err != nil {
		s.t.Fatalf("electrumx: watch: %v", err)
	}
	if err := conn.Call(ctx, nil, "blockchain.scripthash.subscribe", ScriptHash(script)); err != nil {
		s.t.Fatalf("electrumx: watch: %v", err)
	}
	return ch
}
