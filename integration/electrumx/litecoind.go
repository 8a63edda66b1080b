package electrumx

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/integration/harness"
)

// litecoindBin is Debian's real litecoind (/usr/bin/litecoind is a wrapper
// that writes ~/.litecoin).
const litecoindBin = "/usr/lib/litecoin/litecoind"

// Litecoind is a litecoind regtest node with a wallet, for ElectrumX
// (COIN=Litecoin) to serve. Keep test chains below height 432, where MWEB
// activates and mining needs a peg-in.
type Litecoind struct {
	t       harness.TB
	dir     string
	rpcPort int
	p2pPort int

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	id     atomic.Int64
	http   *http.Client
	mining string // an address of the node's wallet
}

// StartLitecoind starts litecoind -regtest -txindex on free loopback ports,
// creates a wallet, and returns once RPC answers. It is stopped when the
// test ends.
func StartLitecoind(t harness.TB) *Litecoind {
	t.Helper()
	l := &Litecoind{t: t, dir: t.TempDir(), rpcPort: freePort(t), p2pPort: freePort(t), http: &http.Client{Timeout: 60 * time.Second}}
	args := []string{"-regtest", "-datadir=" + l.dir, "-server", "-txindex=1", "-fallbackfee=0.0001",
		"-rpcuser=walletd", "-rpcpassword=walletd-test-pass", "-rpcport=" + strconv.Itoa(l.rpcPort),
		"-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1", "-bind=127.0.0.1:" + strconv.Itoa(l.p2pPort),
		"-dnsseed=0", "-discover=0", "-upnp=0", "-listenonion=0", "-printtoconsole=0", "-keypool=10"}
	cmd := exec.Command(litecoindBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+l.dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("litecoind: %v", err)
	}
	l.cmd, l.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(l.exited)
	}()
	t.Cleanup(l.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := l.Call(ctx, "getblockcount")
		cancel()
		if err == nil {
			break
		}
		select {
		case <-l.exited:
			t.Fatalf("litecoind exited at start: %v\n%s", err, l.logTail())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("litecoind RPC not ready: %v", err)
		}
	}
	l.must(nil, "createwallet", "w")
	l.must(&l.mining, "getnewaddress")
	return l
}

func (l *Litecoind) logTail() string {
	b, _ := os.ReadFile(filepath.Join(l.dir, "regtest", "debug.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

func (l *Litecoind) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.exited:
		return
	default:
	}
	// Core waits for open HTTP connections before it exits: drop ours.
	l.http.CloseIdleConnections()
	_ = l.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-l.cmd.Process.Pid, syscall.SIGKILL)
		<-l.exited
	}
}

// URL is the node's JSON-RPC URL, the NODE_RPC_URL start.sh takes.
func (l *Litecoind) URL() string {
	return fmt.Sprintf("http://walletd:walletd-test-pass@127.0.0.1:%d/", l.rpcPort)
}

// Call performs one JSON-RPC call (wallet calls go to the wallet "w").
func (l *Litecoind) Call(ctx context.Context, method string, params ...any) (json.RawMessage, error) {
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": l.id.Add(1), "method": method, "params": params})
	url := fmt.Sprintf("http://127.0.0.1:%d/wallet/w", l.rpcPort)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("walletd", "walletd-test-pass")
	resp, err := l.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("litecoind %s: HTTP %d: %s", method, resp.StatusCode, raw)
	}
	if r.Error != nil {
		return nil, fmt.Errorf("litecoind %s: %d %s", method, r.Error.Code, r.Error.Message)
	}
	return r.Result, nil
}

func (l *Litecoind) must(out any, method string, params ...any) {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	raw, err := l.Call(ctx, method, params...)
	if err != nil {
		l.t.Fatalf("%v", err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			l.t.Fatalf("litecoind %s: %v", method, err)
		}
	}
}

// Must calls method and decodes its result into out (may be nil), failing
// the test on error.
func (l *Litecoind) Must(out any, method string, params ...any) {
	l.t.Helper()
	l.must(out, method, params...)
}

// Generate mines n blocks to the node's wallet and returns their hashes.
func (l *Litecoind) Generate(n int) []chainhash.Hash {
	l.t.Helper()
	var hs []string
	l.must(&hs, "generatetoaddress", n, l.mining)
	out := make([]chainhash.Hash, len(hs))
	for i, s := range hs {
		h, err := chainhash.NewHashFromStr(s)
		if err != nil {
			l.t.Fatalf("generatetoaddress: %v", err)
		}
		out[i] = *h
	}
	return out
}
