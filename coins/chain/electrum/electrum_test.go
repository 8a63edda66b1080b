package electrum_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/headers"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// nodeControl is btcd with ElectrumX in front: the backend's "node" is the
// ElectrumX server. Funding and mining go to btcd and return once
// ElectrumX (which polls btcd) has seen them, as a node's own calls would;
// Stop and Start stop and start ElectrumX (btcd keeps the chain).
type nodeControl struct {
	n *harness.Node
	x *electrumx.Server
}

func (c nodeControl) NewScript(t testing.TB) []byte {
	s, _ := c.n.For(t).NewScript(harness.P2WPKH)
	return s
}

func (c nodeControl) Fund(t testing.TB, pkScript []byte, amount int64) *wire.MsgTx {
	tx := c.n.For(t).FundTx(pkScript, amount)
	c.x.WaitTx(tx.TxHash())
	return tx
}

func (c nodeControl) SpendTx(t testing.TB, prev wire.OutPoint, prevScript []byte, v int64, to []byte) *wire.MsgTx {
	return c.n.For(t).SpendTx(prev, prevScript, v, to)
}

func (c nodeControl) Generate(t testing.TB, n int) []chainhash.Hash {
	hs := c.n.For(t).Generate(n)
	if c.x.Running() {
		c.x.WaitTip(hs[len(hs)-1])
	}
	return hs
}

func (c nodeControl) Stop(t testing.TB)  { c.x.Stop() }
func (c nodeControl) Start(t testing.TB) { c.x.Start() }

func (c nodeControl) InvalidateBlock(t testing.TB, h chainhash.Hash) { c.n.For(t).InvalidateBlock(h) }

// ReportsDisconnectOnReplacement: ElectrumX announces no shorter chain; it
// notices the invalidation once the node's chain is longer than its own.
func (c nodeControl) ReportsDisconnectOnReplacement() bool { return true }

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startStack starts btcd (regtest, 101 blocks) and ElectrumX over it.
func startStack(t testing.TB, opts ...electrumx.Option) (*harness.Node, *electrumx.Server) {
	n := harness.StartBtcd(t)
	n.Generate(101)
	x := electrumx.Start(t, electrumx.BtcdURL(n), opts...)
	x.WaitTip(n.BestHash())
	return n, x
}

// netRules returns the header rules of a coin's network.
func netRules(t testing.TB, coin func(string) (*params.Network, error), network string) *headers.Rules {
	t.Helper()
	net, err := coin(network)
	if err != nil {
		t.Fatal(err)
	}
	rules, err := headers.ForNetwork(net)
	if err != nil {
		t.Fatal(err)
	}
	return rules
}

func newBackend(t testing.TB, n *harness.Node, list []servers.Server, mod func(*electrum.Config)) *electrum.Backend {
	rules := netRules(t, params.BTC, "regtest")
	cfg := electrum.Config{
		Servers:      list,
		Rules:        rules,
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 500 * time.Millisecond,
		CallTimeout:  20 * time.Second,
		Settle:       100 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := electrum.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func tcp(t testing.TB, x *electrumx.Server) []servers.Server {
	l, err := servers.Parse(x.TCP())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestConformance runs the shared backend suite against ElectrumX over
// btcd.
func TestConformance(t *testing.T) {
	n, x := startStack(t)
	t0 := time.Now()
	chaintest.Run(t, func(t *testing.T, nc chaintest.NodeControl) chain.Backend {
		return newBackend(t, n, tcp(t, x), nil)
	}, nodeControl{n: n, x: x})
	t.Logf("suite ran in %v", time.Since(t0))
}

func waitEvent(t *testing.T, ch <-chan chain.Event, match func(chain.Event) bool, what string) chain.Event {
	t.Helper()
	timeout := time.After(chaintest.Timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for %s", what)
			}
			if match(ev) {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func isKind(k chain.EventKind) func(chain.Event) bool {
	return func(e chain.Event) bool { return e.Kind == k }
}

// TestSSL connects to ElectrumX's SSL port (a self-signed certificate):
// pinned on first use in the pin directory; a backend whose pin names
// another certificate refuses the server.
func TestSSL(t *testing.T) {
	n, x := startStack(t, electrumx.WithSSL())
	list, err := servers.Parse(x.SSL())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b := newBackend(t, n, list, func(c *electrum.Config) { c.Pins = servers.NewPins(dir, nil) })
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, isKind(chain.EventConnected), "connected over SSL")
	pins, _ := filepath.Glob(filepath.Join(dir, "*.pin"))
	if len(pins) != 1 {
		t.Fatalf("pins %v", pins)
	}
	// Another certificate pinned for this server: refused.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, filepath.Base(pins[0])), []byte(strings.Repeat("00", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	rules := netRules(t, params.BTC, "regtest")
	refused, err := electrum.New(electrum.Config{Servers: list, Rules: rules, Pins: servers.NewPins(other, nil),
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 100 * time.Millisecond}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	if _, err := refused.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, chaintest.Timeout, "the changed certificate refused", func() bool {
		return strings.Contains(logs.String(), "certificate changed")
	})
	if refused.Connected() {
		t.Fatal("connected to a server whose certificate is not the pinned one")
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncBuf) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuf) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}
