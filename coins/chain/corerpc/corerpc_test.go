package corerpc_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/coins/chain/corerpc"
	"github.com/walletd/walletd/integration/harness"
)

func testLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newBackend builds an unstarted backend for n, closed when t ends.
func newBackend(t testing.TB, n *harness.Node, mod func(*corerpc.Config)) *corerpc.Backend {
	t.Helper()
	cfg := corerpc.Config{
		URL:          n.HTTPURL(),
		CookieFile:   n.CookiePath(),
		PollInterval: 50 * time.Millisecond,
		ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 300 * time.Millisecond,
		CallTimeout:  20 * time.Second,
		Birthday:     0,
	}
	if mod != nil {
		mod(&cfg)
	}
	b, err := corerpc.New(cfg, testLogger())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func waitEvent(t *testing.T, ch <-chan chain.Event, what string, match func(chain.Event) bool) chain.Event {
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

func isTx(id chainhash.Hash) func(chain.Event) bool {
	return func(e chain.Event) bool { return e.Kind == chain.EventTxAccepted && e.Tx.TxHash() == id }
}

func startBackend(t *testing.T, b *corerpc.Backend) <-chan chain.Event {
	t.Helper()
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, "EventConnected", isKind(chain.EventConnected))
	return ch
}

// TestLitecoind runs the conformance suite and the Litecoin-specific checks
// against one Litecoin Core node (cookie auth, block filters served): the
// suite's node restarts change the cookie, which the backend re-reads.
func TestLitecoind(t *testing.T) {
	n := harness.StartLitecoind(t, harness.WithCookieAuth(), harness.WithBlockFilters())
	ctl := harness.Control{N: n}

	t.Run("Conformance", func(t *testing.T) {
		t0 := time.Now()
		chaintest.Run(t, func(t *testing.T, nc chaintest.NodeControl) chain.Backend {
			return newBackend(t, nc.(harness.Control).N, nil)
		}, ctl)
		t.Logf("suite ran in %v", time.Since(t0))
	})
	if t.Failed() {
		return
	}
	t.Run("BackfillByBlocks", func(t *testing.T) { backfillMethods(t, n) })
	t.Run("MWEB", func(t *testing.T) { mwebBlocks(t, n) })
	t.Run("ZMQRawTx", func(t *testing.T) { zmqWithNode(t, n) })
	t.Run("MempoolLatency", func(t *testing.T) { mempoolLatencyCheck(t, n) })
}

// backfillMethods: History finds the same transactions with block filters
// and by reading every block, and reports its method and progress.
func backfillMethods(t *testing.T, n *harness.Node) {
	ctl := harness.Control{N: n}
	sc := ctl.NewScript(t)
	fund := ctl.Fund(t, sc, 70_000)
	ctl.Generate(t, 1)
	spend := ctl.SpendTx(t, wire.OutPoint{Hash: fund.TxHash(), Index: 0}, sc, 70_000, ctl.NewScript(t))
	if _, err := n.SendRaw(spend); err != nil {
		t.Fatal(err)
	}
	ctl.Generate(t, 2)
	pending := ctl.Fund(t, sc, 5_000)

	for _, method := range []string{corerpc.MethodBIP158, corerpc.MethodBlocks} {
		b := newBackend(t, n, func(c *corerpc.Config) { c.Filters = method })
		startBackend(t, b)
		if st := b.BackfillStatus(); st.Method != method {
			t.Fatalf("method %q, want %q", st.Method, method)
		}
		hist, err := b.History(context.Background(), [][]byte{sc})
		if err != nil {
			t.Fatalf("%s: History: %v", method, err)
		}
		got := map[chainhash.Hash]chain.TxInfo{}
		for _, h := range hist {
			got[h.Tx.TxHash()] = h
		}
		if len(hist) != 3 || got[fund.TxHash()].BlockHash == nil || got[spend.TxHash()].BlockHash == nil {
			t.Fatalf("%s: history %d entries: %v", method, len(hist), got)
		}
		if p, ok := got[pending.TxHash()]; !ok || p.BlockHash != nil {
			t.Fatalf("%s: mempool entry %+v", method, p)
		}
		st := b.BackfillStatus()
		tip := n.Height()
		if st.Running || st.FromHeight != 0 || st.ToHeight != tip || st.Height != tip || st.Scans != 1 {
			t.Fatalf("%s: status %+v (tip %d)", method, st, tip)
		}
		if method == corerpc.MethodBlocks {
			if st.BlocksRead != int64(tip)+1 {
				t.Fatalf("blocks: read %d blocks, want %d", st.BlocksRead, tip+1)
			}
			// Again, for an unused script and for the same one: the
			// block summaries kept from the first scan leave nothing to
			// read, and exactly the two blocks holding the script.
			if h, err := b.History(context.Background(), [][]byte{ctl.NewScript(t)}); err != nil || len(h) != 0 {
				t.Fatalf("History(unused) = %v, %v", h, err)
			}
			if st2 := b.BackfillStatus(); st2.BlocksRead != st.BlocksRead {
				t.Fatalf("second scan read %d blocks, want 0", st2.BlocksRead-st.BlocksRead)
			}
			again, err := b.History(context.Background(), [][]byte{sc})
			if err != nil || len(again) != 3 {
				t.Fatalf("History again = %d entries, %v", len(again), err)
			}
			if st3 := b.BackfillStatus(); st3.BlocksRead-st.BlocksRead != 2 {
				t.Fatalf("third scan read %d blocks, want the 2 holding the script", st3.BlocksRead-st.BlocksRead)
			}
		}
		if method == corerpc.MethodBIP158 && (st.BlocksRead < 2 || st.BlocksRead > 10) {
			t.Fatalf("bip158: read %d blocks; the filters should select the 2 with the script (and rare false positives)", st.BlocksRead)
		}
		t.Logf("%s: %+v", method, st)
	}
	ctl.Generate(t, 1)
}

// mwebBlocks takes the chain past MWEB activation and checks that blocks
// with HogEx and MWEB data are followed and filtered, and that an MWEB
// peg-out paying a watched script (an output of the HogEx) is found.
func mwebBlocks(t *testing.T, n *harness.Node) {
	b := newBackend(t, n, nil)
	ch := startBackend(t, b)
	ctl := harness.Control{N: n}
	sc := ctl.NewScript(t)
	if err := b.Watch(context.Background(), [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	n.ActivateMWEB()
	// A canonical payment in a block carrying MWEB data.
	tx := ctl.Fund(t, sc, 80_000)
	waitEvent(t, ch, "the payment in the mempool", isTx(tx.TxHash()))
	h := ctl.Generate(t, 1)[0]
	ev := waitEvent(t, ch, "the MWEB block", func(e chain.Event) bool {
		return e.Kind == chain.EventBlockConnected && e.Block.Hash == h
	})
	if len(ev.Block.Txs) != 1 || ev.Block.Txs[0].TxHash() != tx.TxHash() {
		t.Fatalf("MWEB block filtered to %d txs", len(ev.Block.Txs))
	}
	// A peg-out from the node's MWEB coins to a watched script: it is an
	// output of the next block's HogEx.
	addr := strings.TrimSpace(scriptAddress(t, sc))
	n.FundNodeWallet()
	var mwebAddr string
	mustCall(t, n, &mwebAddr, "getnewaddress", "", "mweb")
	n.SendFromNodeWallet(mwebAddr, "2")
	ctl.Generate(t, 1)
	pegout := pegOut(t, n, addr)
	h = ctl.Generate(t, 1)[0]
	ev = waitEvent(t, ch, "the block with the peg-out", func(e chain.Event) bool {
		return e.Kind == chain.EventBlockConnected && e.Block.Hash == h
	})
	found := false
	for _, tx := range ev.Block.Txs {
		for _, out := range tx.TxOut {
			if string(out.PkScript) == string(sc) && out.Value == pegout {
				found = true
			}
		}
	}
	if !found {
		t.Fatalf("the HogEx paying the peg-out is not in the filtered block (%d txs)", len(ev.Block.Txs))
	}
	hist, err := b.History(context.Background(), [][]byte{sc})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 {
		t.Fatalf("History across MWEB blocks has %d entries, want 2", len(hist))
	}
}

// pegOut sends 0.5 LTC from the node wallet's MWEB coins to addr (its
// canonical coins locked, so only MWEB coins can pay) and returns the
// amount in satoshis.
func pegOut(t *testing.T, n *harness.Node, addr string) int64 {
	t.Helper()
	var utxos []struct {
		TxID    string `json:"txid"`
		Vout    int    `json:"vout"`
		Address string `json:"address"`
	}
	mustCall(t, n, &utxos, "listunspent", 1, 9999999)
	type op struct {
		TxID string `json:"txid"`
		Vout int    `json:"vout"`
	}
	var lock []op
	for _, u := range utxos {
		if !strings.HasPrefix(u.Address, "tmweb") {
			lock = append(lock, op{u.TxID, u.Vout})
		}
	}
	mustCall(t, n, nil, "lockunspent", false, lock)
	defer mustCall(t, n, nil, "lockunspent", true)
	n.SendFromNodeWallet(addr, "0.5")
	return 50_000_000
}

func mustCall(t *testing.T, n *harness.Node, out any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.Call(ctx, method, params...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if out != nil {
		if err := jsonUnmarshal(res, out); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}

func scriptAddress(t *testing.T, script []byte) string {
	t.Helper()
	a, ok := harness.LTCRegtest(t).AddressFromScript(script)
	if !ok {
		t.Fatalf("no address for %x", script)
	}
	return a
}

// TestBtcdHTTP runs the conformance suite against btcd's own HTTP JSON-RPC
// (simnet, so the chain survives restarts). btcd lacks getblockfilter (the
// backend reads whole blocks), estimatesmartfee (estimatefee is used) and
// getmempoolentry (only needed with ZMQ, which btcd has not).
func TestBtcdHTTP(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithSimnet())
	chaintest.Run(t, func(t *testing.T, nc chaintest.NodeControl) chain.Backend {
		b := newBackend(t, nc.(harness.Control).N, nil)
		return b
	}, harness.Control{N: n})
}

// TestBtcdTLS: https:// with the node's certificate trusted connects; with
// the system roots it never does.
func TestBtcdTLS(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithTLS())
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(n.TLSCert()) {
		t.Fatal("bad cert")
	}
	if !strings.HasPrefix(n.HTTPURL(), "https://") {
		t.Fatalf("URL %s", n.HTTPURL())
	}
	good := newBackend(t, n, func(c *corerpc.Config) { c.TLS.RootCAs = pool })
	bad := newBackend(t, n, nil)
	if _, err := bad.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	startBackend(t, good)
	if _, err := good.Tip(context.Background()); err != nil {
		t.Fatalf("Tip over TLS: %v", err)
	}
	if bad.Connected() {
		t.Fatal("connected without trusting the certificate")
	}
}

// TestWrongPassword: never connects, never logs the password, closes fast.
func TestWrongPassword(t *testing.T) {
	n := harness.StartBtcd(t)
	var logs syncBuffer
	u := strings.Replace(n.HTTPURL(), "walletd-test-pass", "wrong-pass", 1)
	b, err := corerpc.New(corerpc.Config{URL: u, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 10*time.Second, "a failed attempt logged", func() bool {
		return strings.Contains(logs.String(), "authentication failed")
	})
	if b.Connected() {
		t.Fatal("connected with a wrong password")
	}
	if _, err := b.Tip(context.Background()); !errors.Is(err, chain.ErrNotConnected) {
		t.Fatalf("Tip = %v", err)
	}
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

// mempoolLatency funds a watched script count times and returns, for each,
// the time from the node's acceptance (sendrawtransaction returned) to the
// backend's EventTxAccepted.
func mempoolLatency(t testing.TB, n *harness.Node, b *corerpc.Backend, ch <-chan chain.Event, count int) []time.Duration {
	ctl := harness.Control{N: n}
	sc := ctl.NewScript(t)
	if err := b.Watch(context.Background(), [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for i := 0; i < count; i++ {
		tx := ctl.Fund(t, sc, 20_000+int64(i))
		t0 := time.Now()
		id := tx.TxHash()
		timeout := time.After(chaintest.Timeout)
	wait:
		for {
			select {
			case ev := <-ch:
				if ev.Kind == chain.EventTxAccepted && ev.Tx.TxHash() == id {
					out = append(out, time.Since(t0))
					break wait
				}
			case <-timeout:
				t.Fatalf("payment %d not reported", i)
			}
		}
	}
	ctl.Generate(t, 1)
	return out
}

// mempoolLatencyCheck: with 250 ms polling, each payment is reported within
// one polling interval plus 50 ms; the test asserts a generous bound (three
// times that, for loaded CI machines) and logs the measurements; the
// benchmark reports them.
func mempoolLatencyCheck(t *testing.T, n *harness.Node) {
	const interval = 250 * time.Millisecond
	b := newBackend(t, n, func(c *corerpc.Config) { c.PollInterval = interval })
	ch := startBackend(t, b)
	lat := mempoolLatency(t, n, b, ch, 8)
	var max, sum time.Duration
	for _, d := range lat {
		sum += d
		max = maxDur(max, d)
	}
	t.Logf("payment → EventTxAccepted with %v polling: mean %v, max %v, all %v", interval, sum/time.Duration(len(lat)), max, lat)
	if max > 3*(interval+50*time.Millisecond) {
		t.Fatalf("a payment took %v to be seen with %v polling", max, interval)
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

// BenchmarkMempoolLatency measures payment → EventTxAccepted on litecoind
// with the default 250 ms polling (reported as ms/payment, and the max).
func BenchmarkMempoolLatency(b *testing.B) {
	n := harness.StartLitecoind(b)
	be := newBackend(b, n, func(c *corerpc.Config) { c.PollInterval = corerpc.DefaultPollInterval })
	ch, err := be.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for ev := range ch {
		if ev.Kind == chain.EventConnected {
			break
		}
	}
	b.ResetTimer()
	lat := mempoolLatency(b, n, be, ch, b.N)
	b.StopTimer()
	var max, sum time.Duration
	for _, d := range lat {
		sum += d
		max = maxDur(max, d)
	}
	b.ReportMetric(float64(sum.Milliseconds())/float64(len(lat)), "ms/payment")
	b.ReportMetric(float64(max.Milliseconds()), "max-ms")
}

// TestLitecoindWithoutIndexes: a node without -txindex nor block filters.
// Transaction finds a confirmed transaction the backend saw in a block (it
// remembers the block) and answers ErrNotFound for one it did not; History
// reads every block.
func TestLitecoindWithoutIndexes(t *testing.T) {
	n := harness.StartLitecoind(t, harness.WithArgs("-txindex=0"))
	ctl := harness.Control{N: n}
	b := newBackend(t, n, nil)
	ch := startBackend(t, b)
	if st := b.BackfillStatus(); st.Method != corerpc.MethodBlocks {
		t.Fatalf("method %q without block filters", st.Method)
	}
	sc := ctl.NewScript(t)
	if err := b.Watch(context.Background(), [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	seen := ctl.Fund(t, sc, 50_000)
	unseen := ctl.Fund(t, ctl.NewScript(t), 50_000)
	h := ctl.Generate(t, 1)[0]
	waitEvent(t, ch, "the block", func(e chain.Event) bool { return e.Kind == chain.EventBlockConnected && e.Block.Hash == h })
	ctl.Generate(t, 1)
	info, err := b.Transaction(context.Background(), seen.TxHash())
	if err != nil || info.BlockHash == nil || *info.BlockHash != h || info.Confirmations != 2 {
		t.Fatalf("Transaction(seen) = %+v, %v", info, err)
	}
	if _, err := b.Transaction(context.Background(), unseen.TxHash()); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("Transaction(unseen, no txindex) = %v, want ErrNotFound", err)
	}
	hist, err := b.History(context.Background(), [][]byte{sc})
	if err != nil || len(hist) != 1 || hist[0].Tx.TxHash() != seen.TxHash() {
		t.Fatalf("History = %v, %v", hist, err)
	}
	// The blocks the backend followed (all but the first few) are
	// summarised already: only the one holding the payment, and those not
	// followed yet, are read.
	if st := b.BackfillStatus(); st.BlocksRead < 1 || st.BlocksRead > 4 {
		t.Fatalf("blocks read %d of %d", st.BlocksRead, n.Height()+1)
	}
}

// TestSpentOutpointsPruned (btcd's HTTP RPC): an outpoint the backend
// learned (an output paying a watched script) leaves the watched set once
// its spend is PruneDepth blocks deep; an unspent one stays.
func TestSpentOutpointsPruned(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, func(c *corerpc.Config) { c.PruneDepth = 2 })
	ch := startBackend(t, b)
	ctx := context.Background()
	sc, _ := n.NewScript(harness.P2WPKH)
	if err := b.Watch(ctx, [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	spendable := n.FundTx(sc, 50_000)
	waitEvent(t, ch, "the first payment", isTx(spendable.TxHash()))
	kept := n.FundTx(sc, 60_000)
	waitEvent(t, ch, "the second payment", isTx(kept.TxHash()))
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
	waitEvent(t, ch, "the spend", isTx(spend.TxHash()))
	h := n.Generate(1)[0] // the spend is mined: 0 deep
	waitEvent(t, ch, "its block", func(e chain.Event) bool { return e.Kind == chain.EventBlockConnected && e.Block.Hash == h })
	if _, ops := b.Watched(); ops != 2 {
		t.Fatalf("a freshly spent outpoint left the set (%d left)", ops)
	}
	hs := n.Generate(2)
	waitEvent(t, ch, "2 blocks later", func(e chain.Event) bool { return e.Kind == chain.EventBlockConnected && e.Block.Hash == hs[1] })
	if _, ops := b.Watched(); ops != 1 {
		t.Fatalf("%d outpoints after the spend is 2 blocks deep, want only the unspent one", ops)
	}
}

// TestHistoryOfMempoolFromSummaries (btcd's HTTP RPC): the backend keeps
// only txids and summaries of the mempool; History of a script nobody
// watched when its payment, and the child spending it, entered the mempool
// still finds both (the payment by its output's summary, the child by the
// outpoint the payment showed).
func TestHistoryOfMempoolFromSummaries(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, nil)
	ch := startBackend(t, b)
	ctx := context.Background()
	watched, _ := n.NewScript(harness.P2WPKH)
	if err := b.Watch(ctx, [][]byte{watched}, nil); err != nil {
		t.Fatal(err)
	}
	later, _ := n.NewScript(harness.P2WPKH)
	other, _ := n.NewScript(harness.P2WPKH)
	pay := n.FundTx(later, 70_000)
	var op wire.OutPoint
	for i, o := range pay.TxOut {
		if string(o.PkScript) == string(later) {
			op = wire.OutPoint{Hash: pay.TxHash(), Index: uint32(i)}
		}
	}
	child := n.SpendTx(op, later, 70_000, other)
	if _, err := n.SendRaw(child); err != nil {
		t.Fatal(err)
	}
	// A payment to the watched script after both: the poll that reports
	// it has seen them (and kept their summaries only).
	mark := n.FundTx(watched, 10_000)
	waitEvent(t, ch, "the watched payment", isTx(mark.TxHash()))
	hist, err := b.History(ctx, [][]byte{later})
	if err != nil {
		t.Fatal(err)
	}
	got := map[chainhash.Hash]bool{}
	for _, h := range hist {
		got[h.Tx.TxHash()] = true
	}
	if len(hist) != 2 || !got[pay.TxHash()] || !got[child.TxHash()] {
		t.Fatalf("History = %d entries %v; want the payment %v and its child %v", len(hist), got, pay.TxHash(), child.TxHash())
	}
}
