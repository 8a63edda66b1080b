package electrum_test

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// TestStalledScriptDelaysNoOther: a server that hangs on the history of
// one newly watched script (a proxy in front of ElectrumX holds that
// get_history reply) delays neither the payments nor the blocks of the
// other scripts; the Watch of the stalled script returns only once its
// history is synced, and History then gives it. A reply that never comes
// still fails the link after CallTimeout.
func TestStalledScriptDelaysNoOther(t *testing.T) {
	n, x := startStack(t)
	slow, _ := n.NewScript(harness.P2WPKH)
	other, _ := n.NewScript(harness.P2WPKH)
	lost, _ := n.NewScript(harness.P2WPKH)
	old := n.FundTx(slow, 30_000)
	n.FundTx(lost, 30_000)
	x.WaitTip(n.Generate(1)[0])

	var held atomic.Int64
	release := make(chan struct{})
	never := make(chan struct{})
	p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{
		Reply: func(_ *electrumproxy.Conn, method string, params []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
			if method != "blockchain.scripthash.get_history" || len(params) == 0 {
				return r
			}
			switch electrumproxy.Str(params[0]) {
			case electrumx.ScriptHash(slow):
				held.Add(1)
				r.Hold = release
			case electrumx.ScriptHash(lost):
				r.Hold = never
			}
			return r
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	t.Cleanup(func() { close(never) })
	list, err := servers.Parse(p.TCP())
	if err != nil {
		t.Fatal(err)
	}
	const callTimeout = 5 * time.Second
	b := newBackend(t, n, list, func(c *electrum.Config) { c.CallTimeout = callTimeout })
	ctx := context.Background()
	if err := b.Watch(ctx, [][]byte{other}, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	ev.wait(t, "connected", isKind(chain.EventConnected))

	watched := make(chan error, 1)
	go func() { watched <- b.Watch(ctx, [][]byte{slow}, nil) }()
	harness.WaitFor(t, 10*time.Second, "the new script's history held", func() bool { return held.Load() > 0 })
	t0 := time.Now()
	pay := n.FundTx(other, 20_000)
	ev.wait(t, "the other script's payment", accepted(pay.TxHash()))
	t.Logf("payment accepted %v after it was sent, a history being held", time.Since(t0))
	t0 = time.Now()
	n.Generate(1)
	ev.wait(t, "the other script's block", blockWith(pay.TxHash()))
	t.Logf("block reported %v after it was mined, a history being held", time.Since(t0))
	select {
	case err := <-watched:
		t.Fatalf("Watch returned before the stalled script's history came: %v", err)
	default:
	}
	close(release)
	select {
	case err := <-watched:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not return once the history came")
	}
	hist, err := b.History(ctx, [][]byte{slow})
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 1 || hist[0].Tx.TxHash() != old.TxHash() || hist[0].Confirmations != 2 {
		t.Fatalf("History of the stalled script: %+v", hist)
	}

	// A history reply that never comes fails the link after CallTimeout.
	t0 = time.Now()
	go func() { _ = b.Watch(ctx, [][]byte{lost}, nil) }()
	ev.wait(t, "the link dropped", isKind(chain.EventDisconnected))
	if d := time.Since(t0); d < callTimeout {
		t.Fatalf("the link dropped %v after the call, before CallTimeout", d)
	}
}
