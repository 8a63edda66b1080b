package btcdws_test

import (
	"context"
	"sync"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/btcdws"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/integration/harness"
)

// setMatcher is the Matcher a consumer would give: the scripts and
// outpoints it watches.
type setMatcher struct {
	mu      sync.Mutex
	scripts map[string]bool
	ops     map[wire.OutPoint]bool
}

func newSetMatcher() *setMatcher {
	return &setMatcher{scripts: map[string]bool{}, ops: map[wire.OutPoint]bool{}}
}

func (m *setMatcher) WatchesScript(s []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.scripts[string(s)]
}

func (m *setMatcher) WatchesOutpoint(op wire.OutPoint) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.ops[op]
}

func (m *setMatcher) add(scripts [][]byte, ops []wire.OutPoint) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range scripts {
		m.scripts[string(s)] = true
	}
	for _, op := range ops {
		m.ops[op] = true
	}
}

// localBackend is a locally matching backend whose Watch also feeds its
// matcher, as the wallet engine's index is fed: what the conformance suite
// watches is what the matcher answers for.
type localBackend struct {
	*btcdws.Backend
	m *setMatcher
}

func (l localBackend) Watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	if err := l.Backend.Watch(ctx, scripts, ops); err != nil {
		return err
	}
	l.m.add(scripts, ops)
	return nil
}

func newLocalBackend(t testing.TB, n *harness.Node) localBackend {
	b := newBackend(t, n, func(c *btcdws.Config) { c.MatchLocally = true })
	m := newSetMatcher()
	if !b.MatchLocally(m) {
		t.Fatal("MatchLocally refused with Config.MatchLocally set")
	}
	return localBackend{b, m}
}

// TestConformanceLocal runs the shared backend suite against a real btcd
// with local matching: blocks read in full, every mempool transaction
// received, both matched by the consumer's Matcher; no node-side filter.
func TestConformanceLocal(t *testing.T) {
	n := harness.StartBtcd(t, harness.WithSimnet())
	var last localBackend
	chaintest.Run(t, func(t *testing.T, nc chaintest.NodeControl) chain.Backend {
		last = newLocalBackend(t, nc.(nodeControl).n)
		return last
	}, nodeControl{n})
	if a, o := last.Watched(); a != 0 || o != 0 {
		t.Fatalf("a locally matching backend kept a filter set of %d addresses and %d outpoints", a, o)
	}
}

// TestMatchLocallyNeedsConfig: without Config.MatchLocally the backend
// keeps the node's filter.
func TestMatchLocallyNeedsConfig(t *testing.T) {
	n := harness.StartBtcd(t)
	b := newBackend(t, n, nil)
	if b.MatchLocally(newSetMatcher()) {
		t.Fatal("MatchLocally accepted without Config.MatchLocally")
	}
}

// TestLocalMempoolAndLearnedOutpoints: a spend of an output the backend
// matched (but its consumer has not applied: the Matcher does not know the
// outpoint) is matched, in a later block of one FilterBlocks call and in
// the mempool; MempoolMatches returns the matching mempool transactions
// parents first, and none other.
func TestLocalMempoolAndLearnedOutpoints(t *testing.T) {
	n := harness.StartBtcd(t)
	n.Generate(101)
	lb := newLocalBackend(t, n)
	ctx, cancel := context.WithTimeout(context.Background(), chaintest.Timeout)
	defer cancel()
	ch, err := lb.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, chain.EventConnected)
	go func() {
		for range ch {
		}
	}()
	watched, _ := n.NewScript(harness.P2WPKH)
	lb.m.add([][]byte{watched}, nil)

	// Block A pays the watched script; block B spends that output to an
	// unwatched script.
	other, _ := n.NewScript(harness.P2WPKH)
	pay := n.FundTx(watched, 50_000)
	a := n.Generate(1)[0]
	spend := n.SpendTx(wire.OutPoint{Hash: pay.TxHash(), Index: 0}, watched, 50_000, other)
	if _, err := n.SendRaw(spend); err != nil {
		t.Fatal(err)
	}
	unrelated := n.FundTx(other, 30_000)
	b := n.Generate(1)[0]
	fresh := newLocalBackend(t, n) // knows nothing learned by lb
	fresh.m.add([][]byte{watched}, nil)
	fch, err := fresh.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, fch, chain.EventConnected)
	go func() {
		for range fch {
		}
	}()
	blocks, err := fresh.FilterBlocks(ctx, []chainhash.Hash{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks[0].Txs) != 1 || blocks[0].Txs[0].TxHash() != pay.TxHash() {
		t.Fatalf("block A: %d txs, want the payment", len(blocks[0].Txs))
	}
	if len(blocks[1].Txs) != 1 || blocks[1].Txs[0].TxHash() != spend.TxHash() {
		t.Fatalf("block B: %d txs, want only the spend of the learned output (not %v)", len(blocks[1].Txs), unrelated.TxHash())
	}

	// The same in the mempool, asked for on a backend that learned
	// nothing: the child is listed after its parent and matched through it.
	pay2 := n.FundTx(watched, 60_000)
	spend2 := n.SpendTx(wire.OutPoint{Hash: pay2.TxHash(), Index: 0}, watched, 60_000, other)
	if _, err := n.SendRaw(spend2); err != nil {
		t.Fatal(err)
	}
	n.FundTx(other, 20_000)
	mp := newLocalBackend(t, n)
	mp.m.add([][]byte{watched}, nil)
	mch, err := mp.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, mch, chain.EventConnected)
	go func() {
		for range mch {
		}
	}()
	size, err := mp.MempoolSize(ctx)
	if err != nil || size != 3 {
		t.Fatalf("MempoolSize = %d, %v; want 3", size, err)
	}
	txs, err := mp.MempoolMatches(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(txs) != 2 || txs[0].TxHash() != pay2.TxHash() || txs[1].TxHash() != spend2.TxHash() {
		got := make([]chainhash.Hash, len(txs))
		for i, tx := range txs {
			got[i] = tx.TxHash()
		}
		t.Fatalf("MempoolMatches = %v; want [%v %v]", got, pay2.TxHash(), spend2.TxHash())
	}
}
