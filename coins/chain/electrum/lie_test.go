package electrum_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// events records a backend's events.
type events struct {
	mu  sync.Mutex
	all []chain.Event
}

func record(ch <-chan chain.Event) *events {
	e := &events{}
	go func() {
		for ev := range ch {
			e.mu.Lock()
			e.all = append(e.all, ev)
			e.mu.Unlock()
		}
	}()
	return e
}

func (e *events) find(match func(chain.Event) bool) (chain.Event, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range e.all {
		if match(ev) {
			return ev, true
		}
	}
	return chain.Event{}, false
}

func (e *events) wait(t testing.TB, what string, match func(chain.Event) bool) chain.Event {
	t.Helper()
	var got chain.Event
	harness.WaitFor(t, chaintest.Timeout, what, func() bool {
		var ok bool
		got, ok = e.find(match)
		return ok
	})
	return got
}

func accepted(id chainhash.Hash) func(chain.Event) bool {
	return func(e chain.Event) bool { return e.Kind == chain.EventTxAccepted && e.Tx.TxHash() == id }
}

func blockWith(id chainhash.Hash) func(chain.Event) bool {
	return func(e chain.Event) bool {
		if e.Kind != chain.EventBlockConnected {
			return false
		}
		for _, tx := range e.Block.Txs {
			if tx.TxHash() == id {
				return true
			}
		}
		return false
	}
}

// liarThenHonest starts a backend whose main server is a lying proxy in
// front of x, with x itself next; it watches script.
func liarThenHonest(t *testing.T, n *harness.Node, x *electrumx.Server, hooks electrumproxy.Hooks, script []byte) (*electrum.Backend, *electrumproxy.Proxy, *events) {
	t.Helper()
	p, err := electrumproxy.Start(x.Addr(), hooks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	list, err := servers.Parse(p.TCP() + "," + x.TCP())
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, n, list, func(c *electrum.Config) { c.StatusGrace = 2 * time.Second })
	if err := b.Watch(context.Background(), [][]byte{script}, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return b, p, record(ch)
}

// waitHonest waits until the backend dropped the liar for x.
func waitHonest(t *testing.T, b *electrum.Backend, x *electrumx.Server, p *electrumproxy.Proxy) {
	t.Helper()
	harness.WaitFor(t, chaintest.Timeout, "the backend on the honest server", func() bool { return b.Server() == x.TCP() })
	if p.Lies.Load() == 0 {
		t.Fatal("the proxy never lied: the test proves nothing")
	}
}

// TestLyingServer puts a lying proxy in front of a real ElectrumX, as the
// backend's main server, the real server behind it as the next one; for
// each lie the backend must drop the liar, use the honest server, and never
// report what the liar said.
func TestLyingServer(t *testing.T) {
	n, x := startStack(t)
	ctx := context.Background()

	t.Run("ForgedProofOfAMempoolPayment", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.FakeConfirmation(electrumx.ScriptHash(sc), false), sc)
		ev.wait(t, "connected", isKind(chain.EventConnected))
		tx := n.FundTx(sc, 50_000)
		waitHonest(t, b, x, p)
		ev.wait(t, "the payment, unconfirmed, from the honest server", accepted(tx.TxHash()))
		if _, ok := ev.find(blockWith(tx.TxHash())); ok {
			t.Fatal("the payment was reported confirmed before any block")
		}
		h := n.Generate(1)[0]
		got := ev.wait(t, "the block that really confirms it", blockWith(tx.TxHash()))
		if got.Block.Hash != h {
			t.Fatalf("payment reported in block %v, mined in %v", got.Block.Hash, h)
		}
	})

	t.Run("RefusedProofOfAClaimedConfirmation", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.FakeConfirmation(electrumx.ScriptHash(sc), true), sc)
		ev.wait(t, "connected", isKind(chain.EventConnected))
		tx := n.FundTx(sc, 50_000)
		t0 := time.Now()
		waitHonest(t, b, x, p)
		t.Logf("liar dropped %v after the payment (StatusGrace 2s)", time.Since(t0))
		ev.wait(t, "the payment, unconfirmed", accepted(tx.TxHash()))
		if _, ok := ev.find(blockWith(tx.TxHash())); ok {
			t.Fatal("the payment was reported confirmed before any block")
		}
	})

	t.Run("PaymentWithABadSignature", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		// A real confirmed output, spent with a signature that does
		// not verify, to the watched script.
		ownerScript, _ := n.NewScript(harness.P2WPKH)
		parent := n.FundTx(ownerScript, 80_000)
		n.Generate(1)
		fake := n.SpendTx(wire.OutPoint{Hash: parent.TxHash(), Index: 0}, ownerScript, 80_000, sc)
		fake.TxIn[0].Witness[0][10] ^= 0xff
		x.WaitTip(n.BestHash())
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.FakePayment(electrumx.ScriptHash(sc), fake), sc)
		waitHonest(t, b, x, p)
		ev.wait(t, "connected to the honest server", isKind(chain.EventConnected))
		real := n.FundTx(sc, 30_000)
		ev.wait(t, "a real payment", accepted(real.TxHash()))
		if _, ok := ev.find(accepted(fake.TxHash())); ok {
			t.Fatal("the forged payment was reported")
		}
		if h, err := b.History(ctx, [][]byte{sc}); err != nil || len(h) != 1 || h[0].Tx.TxHash() != real.TxHash() {
			t.Fatalf("History = %v, %v", h, err)
		}
	})

	t.Run("PaymentFromNothing", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		fake := wire.NewMsgTx(2)
		fake.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Hash: chainhash.Hash{1, 2, 3}, Index: 0}, Witness: wire.TxWitness{{1}, {2}}})
		fake.AddTxOut(&wire.TxOut{Value: 1_000_000, PkScript: sc})
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.FakePayment(electrumx.ScriptHash(sc), fake), sc)
		waitHonest(t, b, x, p)
		ev.wait(t, "connected to the honest server", isKind(chain.EventConnected))
		if _, ok := ev.find(accepted(fake.TxHash())); ok {
			t.Fatal("the invented payment was reported")
		}
	})

	t.Run("HeadersWithWrongDifficulty", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		from := int64(n.Height()) + 1
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.BadHeaders(from), sc)
		ev.wait(t, "connected", isKind(chain.EventConnected))
		if b.Server() != p.TCP() {
			t.Fatalf("not on the proxy first: %q", b.Server())
		}
		tx := n.FundTx(sc, 40_000)
		h := n.Generate(1)[0]
		waitHonest(t, b, x, p)
		// Reconnected at the new tip: the consumer catches up with
		// FilterBlocks.
		ev.wait(t, "reconnected", func(e chain.Event) bool { return e.Kind == chain.EventConnected && e.Tip.Hash == h })
		blocks, err := b.FilterBlocks(ctx, []chainhash.Hash{h})
		if err != nil || len(blocks) != 1 || len(blocks[0].Txs) != 1 || blocks[0].Txs[0].TxHash() != tx.TxHash() {
			t.Fatalf("FilterBlocks(real block) = %+v, %v", blocks, err)
		}
		if _, ok := ev.find(func(e chain.Event) bool { return e.Kind == chain.EventBlockConnected && e.Block.Height == int32(from) }); ok {
			t.Fatal("a block was reported from the bad headers")
		}
	})

	// Not a lie: the status notification of a confirmation comes after the
	// block was reported (a slow server). The block is disconnected and
	// connected again with the transaction, so the consumer never misses
	// a confirmation.
	t.Run("LateConfirmation", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		sh := electrumx.ScriptHash(sc)
		var mu sync.Mutex
		holding := false
		var held *electrumproxy.Conn
		var heldParams json.RawMessage
		p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{Notify: func(c *electrumproxy.Conn, method string, params json.RawMessage) json.RawMessage {
			var ps []json.RawMessage
			mu.Lock()
			defer mu.Unlock()
			if holding && method == "blockchain.scripthash.subscribe" && json.Unmarshal(params, &ps) == nil && electrumproxy.Str(ps[0]) == sh {
				held, heldParams = c, params
				return nil
			}
			return params
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		list, _ := servers.Parse(p.TCP())
		b := newBackend(t, n, list, nil)
		if err := b.Watch(ctx, [][]byte{sc}, nil); err != nil {
			t.Fatal(err)
		}
		ch, err := b.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ev := record(ch)
		ev.wait(t, "connected", isKind(chain.EventConnected))
		tx := n.FundTx(sc, 20_000)
		ev.wait(t, "the payment", accepted(tx.TxHash()))
		mu.Lock()
		holding = true
		mu.Unlock()
		h := n.Generate(1)[0]
		first := ev.wait(t, "the block, reported without the late confirmation", func(e chain.Event) bool {
			return e.Kind == chain.EventBlockConnected && e.Block.Hash == h
		})
		if len(first.Block.Txs) != 0 {
			t.Fatal("the status was not held back: the test proves nothing")
		}
		mu.Lock()
		holding = false
		c, params := held, heldParams
		mu.Unlock()
		if c == nil {
			t.Fatal("no status notification held")
		}
		var ps []json.RawMessage
		_ = json.Unmarshal(params, &ps)
		if err := c.Inject("blockchain.scripthash.subscribe", ps); err != nil {
			t.Fatal(err)
		}
		again := ev.wait(t, "the block again, with the transaction", blockWith(tx.TxHash()))
		if again.Block.Hash != h {
			t.Fatalf("reported in %v, mined in %v", again.Block.Hash, h)
		}
		ev.mu.Lock()
		defer ev.mu.Unlock()
		var seq []string
		for _, e := range ev.all {
			if e.Block != nil && e.Block.Hash == h {
				seq = append(seq, fmt.Sprintf("%d:%d", e.Kind, len(e.Block.Txs)))
			}
		}
		want := fmt.Sprintf("%d:0 %d:0 %d:1", chain.EventBlockConnected, chain.EventBlockDisconnected, chain.EventBlockConnected)
		if strings.Join(seq, " ") != want {
			t.Fatalf("events of the block (kind:txs): %v, want %s", seq, want)
		}
	})

	// Not a lie either: a server may refuse a history (ElectrumX's
	// "history too large"). The backend still connects, does not retry
	// in a loop, and History says so.
	t.Run("RefusedHistory", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		sh := electrumx.ScriptHash(sc)
		x.WaitTx(n.FundTx(sc, 10_000).TxHash())
		p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{Reply: func(c *electrumproxy.Conn, method string, params []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
			if method == "blockchain.scripthash.get_history" && len(params) > 0 && electrumproxy.Str(params[0]) == sh {
				return electrumproxy.Reply{Error: json.RawMessage(`{"code":1,"message":"history too large"}`)}
			}
			return r
		}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Stop)
		list, _ := servers.Parse(p.TCP())
		b := newBackend(t, n, list, nil)
		if err := b.Watch(ctx, [][]byte{sc}, nil); err != nil {
			t.Fatal(err)
		}
		ch, err := b.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		record(ch).wait(t, "connected despite the refusal", isKind(chain.EventConnected))
		if _, err := b.History(ctx, [][]byte{sc}); err == nil || !strings.Contains(err.Error(), "refuses") {
			t.Fatalf("History of a refused script: %v", err)
		}
		if st := b.Stats(); st.Lies != 0 || st.Histories != 0 {
			t.Fatalf("stats %+v", st)
		}
	})

	t.Run("TransactionThatIsNotItsID", func(t *testing.T) {
		sc, _ := n.NewScript(harness.P2WPKH)
		other := n.FundTx(sc, 10_000) // known before the backend starts
		x.WaitTx(other.TxHash())
		n.Generate(1)
		x.WaitTip(n.BestHash())
		pay := n.SpendTx(wire.OutPoint{Hash: other.TxHash(), Index: 0}, sc, 10_000, sc)
		b, p, ev := liarThenHonest(t, n, x, electrumproxy.SwapTx(pay.TxHash().String(), other), sc)
		ev.wait(t, "connected", isKind(chain.EventConnected))
		if _, err := n.SendRaw(pay); err != nil {
			t.Fatal(err)
		}
		waitHonest(t, b, x, p)
		ev.wait(t, "the real transaction", accepted(pay.TxHash()))
	})
}
