package btcdws_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/integration/harness"
)

// nodeControl adapts a harness btcd to chaintest.NodeControl.
type nodeControl struct{ n *harness.Node }

func (c nodeControl) NewScript(t testing.TB) []byte {
	s, _ := c.n.For(t).NewScript(harness.P2WPKH)
	return s
}

func (c nodeControl) Fund(t testing.TB, pkScript []byte, amount int64) *wire.MsgTx {
	return c.n.For(t).FundTx(pkScript, amount)
}

func (c nodeControl) SpendTx(t testing.TB, prev wire.OutPoint, prevScript []byte, v int64, to []byte) *wire.MsgTx {
	return c.n.For(t).SpendTx(prev, prevScript, v, to)
}

func (c nodeControl) Generate(t testing.TB, n int) []chainhash.Hash { return c.n.For(t).Generate(n) }
func (c nodeControl) Stop(t testing.TB)                             { c.n.For(t).Stop() }
func (c nodeControl) Start(t testing.TB)                            { c.n.For(t).Start() }
func (c nodeControl) InvalidateBlock(t testing.TB, h chainhash.Hash) {
	c.n.For(t).InvalidateBlock(h)
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func newBackend(t testing.TB, n *harness.Node, mod func(*btcdws.Config)) *btcdws.Backend {
	cfg := btcdws.Config{
		URL:          n.WSURL(),
		Params:       n.Params(),
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 500 * time.Millisecond,
		CallTimeout:  20 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := btcdws.New(cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

// TestConformance runs the shared backend suite against a real btcd
// (simnet, so the chain survives the suite's node restarts).
func TestConformance(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithSimnet())
	t0 := time.Now()
	chaintest.Run(t, func(t *testing.T, nc chaintest.NodeControl) chain.Backend {
		return newBackend(t, nc.(nodeControl).n, nil)
	}, nodeControl{n})
	t.Logf("suite ran in %v", time.Since(t0))
}

func waitEvent(t *testing.T, ch <-chan chain.Event, kind chain.EventKind) chain.Event {
	t.Helper()
	timeout := time.After(chaintest.Timeout)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed waiting for event kind %d", kind)
			}
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("timed out waiting for event kind %d", kind)
		}
	}
}

func TestTLS(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithTLS())
	ctx := context.Background()

	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(n.TLSCert()) {
		t.Fatal("bad cert")
	}
	b := newBackend(t, n, func(c *btcdws.Config) { c.TLS.RootCAs = pool })
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)

	// System roots do not trust btcd's self-signed certificate: the
	// backend keeps retrying and never connects.
	bad := newBackend(t, n, nil)
	if _, err := bad.Start(ctx); err != nil {
		t.Fatal(err)
	}
	insecure := newBackend(t, n, func(c *btcdws.Config) { c.TLS.InsecureSkipVerify = true })
	ich, err := insecure.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ich, chain.EventConnected)
	if bad.Connected() {
		t.Fatal("connected without trusting the certificate")
	}
}

func TestNewRejectsBadURL(t *testing.T) {
	for _, u := range []string{"", "http://u:p@127.0.0.1:1", "ws://127.0.0.1", "ws://u:p@:1", "wss//x"} {
		if _, err := btcdws.New(btcdws.Config{URL: u, Params: nil}, nil); err == nil {
			t.Errorf("New(%q) succeeded", u)
		}
	}
	_, err := btcdws.New(btcdws.Config{URL: "ws://user:s3cret@127.0.0.1:1", Params: nil}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New without params: %v", err)
	}
	_, err = btcdws.New(btcdws.Config{URL: "ws://user:s3cret@127.0.0.1:%zz", Params: nil}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New with a bad port leaks or passes: %v", err)
	}
}

// TestWrongPassword: the backend keeps retrying, never connects, never logs
// the password, and Close returns promptly.
func TestWrongPassword(t *testing.T) {
	n := harness.StartBtcd(t)
	var logs syncWriter
	u := strings.Replace(n.WSURL(), "walletd-test-pass", "wrong-pass", 1)
	b, err := btcdws.New(btcdws.Config{URL: u, Params: n.Params(), ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 10*time.Second, "a failed attempt logged", func() bool { return strings.Contains(logs.String(), "authentication failed") })
	t0 := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if _, ok := <-ch; ok {
		t.Fatal("event before close")
	}
	if strings.Contains(logs.String(), "wrong-pass") {
		t.Fatalf("password in logs: %s", logs.String())
	}
}

// syncWriter is a log sink safe for the backend's goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestManyScripts watches 100,000 scripts, then checks a payment to the last
// one is notified, and that a reconnect reloads them all.
func TestManyScripts(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithSimnet())
	b := newBackend(t, n, nil)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)

	const count = 100_000
	scripts := make([][]byte, count)
	for i := range scripts {
		s := make([]byte, 22)
		s[0], s[1] = 0x00, 0x14 // P2WPKH of a fake hash
		s[2], s[3], s[4] = byte(i), byte(i>>8), byte(i>>16)
		scripts[i] = s
	}
	last, _ := n.NewScript(harness.P2WPKH)
	scripts = append(scripts, last)
	t0 := time.Now()
	if err := b.Watch(ctx, scripts, nil); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Logf("Watch of %d scripts took %v", len(scripts), time.Since(t0))
	if a, _ := b.Watched(); a != count+1 {
		t.Fatalf("Watched = %d", a)
	}
	tx := n.FundTx(last, 10_000)
	for {
		ev := waitEvent(t, ch, chain.EventTxAccepted)
		if ev.Tx.TxHash() == tx.TxHash() {
			break
		}
	}
	t0 = time.Now()
	n.Restart()
	waitEvent(t, ch, chain.EventDisconnected)
	waitEvent(t, ch, chain.EventConnected)
	t.Logf("reconnect with the full reload took %v", time.Since(t0))
	tx = n.FundTx(last, 11_000)
	for {
		ev := waitEvent(t, ch, chain.EventTxAccepted)
		if ev.Tx.TxHash() == tx.TxHash() {
			break
		}
	}
}

// TestSlowConsumer: events queue up without blocking calls, in order.
func TestSlowConsumer(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, func(c *btcdws.Config) { c.EventBuffer = 1 })
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, chaintest.Timeout, "connected", b.Connected)
	hashes := n.Generate(300) // nobody reads meanwhile
	// Calls still work while the consumer sleeps.
	if tip, err := b.Tip(ctx); err != nil || tip.Hash != hashes[len(hashes)-1] {
		t.Fatalf("Tip = %v, %v", tip, err)
	}
	harness.WaitFor(t, chaintest.Timeout, "backlog", func() bool { return b.Backlog() > 200 })
	if ev := <-ch; ev.Kind != chain.EventConnected {
		t.Fatalf("first event %v", ev.Kind)
	}
	for i, h := range hashes {
		ev := waitEvent(t, ch, chain.EventBlockConnected)
		if ev.Block.Hash != h || ev.Block.Height != int32(i+1) {
			t.Fatalf("event %d: block %v at %d, want %v at %d", i, ev.Block.Hash, ev.Block.Height, h, i+1)
		}
	}
}

// TestReorgEvents: two nodes, the backend's node reorganises onto the
// other's longer chain: disconnected events (tip first), then connected.
func TestReorgEvents(t *testing.T) {
	a := harness.StartBtcd(t)
	other := harness.StartBtcd(t)
	b := newBackend(t, a, nil)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	mine := a.Generate(3)
	for range mine {
		waitEvent(t, ch, chain.EventBlockConnected)
	}
	theirs := other.Generate(5)
	a.ConnectPeer(other)
	a.WaitSynced(other)
	for i := 2; i >= 0; i-- {
		ev := waitEvent(t, ch, chain.EventBlockDisconnected)
		if ev.Block.Hash != mine[i] || ev.Block.Height != int32(i+1) {
			t.Fatalf("disconnected %v at %d, want %v at %d", ev.Block.Hash, ev.Block.Height, mine[i], i+1)
		}
	}
	for i, h := range theirs {
		ev := waitEvent(t, ch, chain.EventBlockConnected)
		if ev.Block.Hash != h || ev.Block.Height != int32(i+1) {
			t.Fatalf("connected %v at %d, want %v at %d", ev.Block.Hash, ev.Block.Height, h, i+1)
		}
	}
	if _, err := b.FilterBlocks(ctx, mine); err == nil {
		t.Log("note: FilterBlocks still serves blocks of the abandoned branch")
	} else if !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("FilterBlocks(stale branch) = %v", err)
	}
}

// TestNoGoroutineLeak: a backend that connected, lost its node and kept
// retrying leaves no goroutine behind after Close.
func TestNoGoroutineLeak(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithSimnet())
	base := runtime.NumGoroutine()
	b := newBackend(t, n, nil)
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	s, _ := n.NewScript(harness.P2WPKH)
	if err := b.Watch(context.Background(), [][]byte{s}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Tip(context.Background()); err != nil {
		t.Fatal(err)
	}
	n.Stop()
	waitEvent(t, ch, chain.EventDisconnected)
	t0 := time.Now()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Close took %v while reconnecting", d)
	}
	for range ch {
	}
	if err := b.Watch(context.Background(), [][]byte{s}, nil); !errors.Is(err, chain.ErrNotConnected) {
		t.Fatalf("Watch after Close = %v", err)
	}
	harness.WaitFor(t, 5*time.Second, "goroutines back to the baseline", func() bool {
		return runtime.NumGoroutine() <= base
	})
}

// TestFilterBlocksRange times FilterBlocks over 1,000 consecutive blocks
// with a payment in one of them.
func TestFilterBlocksRange(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, nil)
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	s, _ := n.NewScript(harness.P2TR)
	if err := b.Watch(ctx, [][]byte{s}, nil); err != nil {
		t.Fatal(err)
	}
	hashes := n.Generate(500)
	tx := n.FundTx(s, 12_345)
	hashes = append(hashes, n.Generate(1)...)
	hashes = append(hashes, n.Generate(499)...)
	t0 := time.Now()
	blocks, err := b.FilterBlocks(ctx, hashes)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("FilterBlocks over %d blocks: %v", len(hashes), time.Since(t0))
	found := 0
	for i, blk := range blocks {
		if blk.Hash != hashes[i] {
			t.Fatalf("block %d out of order", i)
		}
		if len(blk.Txs) > 0 {
			found++
			if blk.Txs[0].TxHash() != tx.TxHash() {
				t.Fatalf("unexpected match in block %d", i)
			}
		}
	}
	if found != 1 {
		t.Fatalf("%d blocks with matches, want 1", found)
	}
}

// blackholeProxy forwards TCP to target until frozen; while frozen it keeps
// connections open but drops every byte, like a dead peer behind a silent
// network.
type blackholeProxy struct {
	l      net.Listener
	target string
	frozen atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newBlackholeProxy(t *testing.T, target string) *blackholeProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &blackholeProxy{l: l, target: target}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *blackholeProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

// TestDeadPeerDetected: a node that silently stops answering is detected by
// the missing pongs (EventDisconnected), and the backend reconnects when the
// path comes back.
func TestDeadPeerDetected(t *testing.T) {
	n := harness.StartBtcd(t)
	p := newBlackholeProxy(t, n.RPCAddr())
	u, err := url.Parse(n.WSURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.l.Addr().String()
	b := newBackend(t, n, func(c *btcdws.Config) {
		c.URL = u.String()
		c.PingInterval = 100 * time.Millisecond
		c.CallTimeout = time.Second
	})
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	// Idle well past the ping timeout: pongs keep the connection up.
	idle := time.After(500 * time.Millisecond)
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event while idle: %v", ev.Kind)
	case <-idle:
	}
	p.frozen.Store(true)
	t0 := time.Now()
	waitEvent(t, ch, chain.EventDisconnected)
	t.Logf("dead peer detected in %v", time.Since(t0))
	p.frozen.Store(false)
	waitEvent(t, ch, chain.EventConnected)
	h := n.Generate(1)[0]
	if ev := waitEvent(t, ch, chain.EventBlockConnected); ev.Block.Hash != h {
		t.Fatalf("block %v, want %v", ev.Block.Hash, h)
	}
}

// TestSpentOutpointsPruned: an outpoint the filter learned (an output
// paying a watched script) leaves the set re-sent on reconnect once it is
// spent PruneDepth blocks deep; an unspent one stays.
func TestSpentOutpointsPruned(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, func(c *btcdws.Config) { c.PruneDepth = 2 })
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	sc, _ := n.NewScript(harness.P2WPKH)
	if err := b.Watch(ctx, [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	spendable := n.FundTx(sc, 50_000)
	kept := n.FundTx(sc, 60_000)
	waitEvent(t, ch, chain.EventTxAccepted)
	waitEvent(t, ch, chain.EventTxAccepted)
	if _, ops := b.Watched(); ops != 2 {
		t.Fatalf("%d outpoints learned, want 2", ops)
	}
	other, _ := n.NewScript(harness.P2WPKH)
	var op wire.OutPoint
	for i, o := range spendable.TxOut {
		if string(o.PkScript) == string(sc) {
			op = wire.OutPoint{Hash: spendable.TxHash(), Index: uint32(i)}
		}
	}
	spend := n.SpendTx(op, sc, 50_000, other)
	if _, err := n.SendRaw(spend); err != nil {
		t.Fatal(err)
	}
	n.Generate(1) // the spend is mined: 0 deep
	waitEvent(t, ch, chain.EventBlockConnected)
	if _, ops := b.Watched(); ops != 2 {
		t.Fatalf("a freshly spent outpoint left the set (%d left)", ops)
	}
	n.Generate(2)
	waitEvent(t, ch, chain.EventBlockConnected)
	waitEvent(t, ch, chain.EventBlockConnected)
	if _, ops := b.Watched(); ops != 1 {
		t.Fatalf("%d outpoints after the spend is 2 blocks deep, want only the unspent one", ops)
	}
	_ = kept
}

// TestHistoryPagesInBatches: History walks every page of every script's
// address index in batched calls (pages of 2 here): five payments to one
// script and one to another, three of them mined, come back once each with
// their heights, and a script without history adds nothing.
func TestHistoryPagesInBatches(t *testing.T) {
	defer btcdws.SetHistoryPage(2)()
	n, b, _ := connectedBackend(t)
	a, _ := n.NewScript(harness.P2WPKH)
	c, _ := n.NewScript(harness.P2WPKH)
	empty, _ := n.NewScript(harness.P2WPKH)
	want := map[chainhash.Hash]bool{}
	for i := 0; i < 5; i++ {
		want[n.FundTx(a, int64(10_000+i)).TxHash()] = true
		if i == 2 {
			n.Generate(1)
		}
	}
	want[n.FundTx(c, 20_000).TxHash()] = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hist, err := b.History(ctx, [][]byte{a, empty, c})
	if err != nil {
		t.Fatal(err)
	}
	mined := 0
	for _, h := range hist {
		id := h.Tx.TxHash()
		if !want[id] {
			t.Fatalf("unexpected or repeated tx %s", id)
		}
		delete(want, id)
		if h.BlockHash != nil {
			mined++
			if h.Height != 102 {
				t.Errorf("tx %s at height %d, want 102", id, h.Height)
			}
		}
	}
	if len(want) != 0 || mined != 3 {
		t.Fatalf("missing %d txs; %d mined, want 3", len(want), mined)
	}
}

// TestHistoryAtMost: a bounded lookup of an address with more transactions
// than the bound fails with chain.ErrTooMuchHistory after reading only the
// pages that passed the bound (pages of 2: 3 of the 10 pages here), and an
// address with exactly the bound comes back whole.
func TestHistoryAtMost(t *testing.T) {
	defer btcdws.SetHistoryPage(2)()
	n, b, _ := connectedBackend(t)
	busy, _ := n.NewScript(harness.P2WPKH)
	four, _ := n.NewScript(harness.P2WPKH)
	for i := 0; i < 20; i++ {
		n.FundTx(busy, int64(10_000+i))
		if i < 4 {
			n.FundTx(four, int64(10_000+i))
		}
	}
	n.Generate(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before := b.Searches()
	if _, err := b.HistoryAtMost(ctx, [][]byte{busy}, 5); !errors.Is(err, chain.ErrTooMuchHistory) {
		t.Fatalf("20 transactions, bound 5: err %v, want ErrTooMuchHistory", err)
	}
	if got := b.Searches() - before; got != 3 {
		t.Fatalf("bounded lookup sent %d searchrawtransactions calls, want 3 (it read past the bound)", got)
	}
	hist, err := b.HistoryAtMost(ctx, [][]byte{four}, 4)
	if err != nil || len(hist) != 4 {
		t.Fatalf("4 transactions, bound 4: %d, %v", len(hist), err)
	}
	if all, err := chain.HistoryAtMost(ctx, b, [][]byte{busy}, 0); err != nil || len(all) != 20 {
		t.Fatalf("unbounded: %d, %v", len(all), err)
	}
}

// TestWatchHistory checks the one-exchange first load: WatchHistory returns
// the whole history of its scripts — here 20 transactions to one script,
// more than the small first page, 12 mined and 8 in the mempool — and
// leaves the scripts watched, so a payment made after it returns is
// notified; a watched script is not watched twice.
func TestWatchHistory(t *testing.T) {
	n, b, events := connectedBackend(t)
	busy, _ := n.NewScript(harness.P2WPKH)
	later, _ := n.NewScript(harness.P2WPKH)
	want := map[chainhash.Hash]bool{}
	for i := 0; i < 20; i++ {
		want[n.FundTx(busy, int64(10_000+i)).TxHash()] = true
		if i == 11 {
			n.Generate(1)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	hist, err := b.WatchHistory(ctx, [][]byte{busy, later})
	if err != nil {
		t.Fatal(err)
	}
	mined := 0
	for _, h := range hist {
		id := h.Tx.TxHash()
		if !want[id] {
			t.Fatalf("unexpected or repeated tx %s", id)
		}
		delete(want, id)
		if h.BlockHash != nil {
			mined++
		}
	}
	if len(want) != 0 || mined != 12 {
		t.Fatalf("missing %d txs; %d mined, want 12", len(want), mined)
	}
	if a, _ := b.Watched(); a != 2 {
		t.Fatalf("watched %d addresses, want 2", a)
	}
	pay := n.FundTx(later, 30_000)
	for {
		ev := waitEvent(t, events, chain.EventTxAccepted)
		if ev.Tx.TxHash() == pay.TxHash() {
			break
		}
	}
	if _, err := b.WatchHistory(ctx, [][]byte{later}); err != nil {
		t.Fatal(err)
	}
	if a, _ := b.Watched(); a != 2 {
		t.Fatalf("watched %d addresses after watching one again, want 2", a)
	}
}

// connectedBackend starts btcd with 101 blocks and a started backend on it,
// once it reports EventConnected.
func connectedBackend(t *testing.T) (*harness.Node, *btcdws.Backend, <-chan chain.Event) {
	t.Helper()
	n := harness.StartBtcd(t)
	n.Generate(101)
	b := newBackend(t, n, nil)
	events, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, events, chain.EventConnected)
	return n, b, events
}
