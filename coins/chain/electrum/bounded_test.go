package electrum_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/harness"
)

// TestHistoryAtMostFetchesNothingPastTheBound: a bounded lookup of an
// address whose server-side history is longer than the bound is refused
// from the history list alone, without one blockchain.transaction.get
// (the lookup of a busy address must not fetch its transactions); within
// the bound every transaction is fetched and returned.
func TestHistoryAtMostFetchesNothingPastTheBound(t *testing.T) {
	n, x := startStack(t)
	var gets atomic.Int64
	p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{
		Reply: func(_ *electrumproxy.Conn, method string, _ []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
			if method == "blockchain.transaction.get" {
				gets.Add(1)
			}
			return r
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	list, err := servers.Parse(p.TCP())
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, n, list, nil)
	ch, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitEvent(t, ch, isKind(chain.EventConnected), "connected")
	go func() {
		for range ch {
		}
	}()
	busy, _ := n.NewScript(harness.P2WPKH)
	for i := 0; i < 6; i++ {
		n.FundTx(busy, int64(10_000+i))
	}
	n.Generate(1)
	x.WaitTip(n.BestHash())
	ctx := context.Background()
	before := gets.Load()
	if _, err := b.HistoryAtMost(ctx, [][]byte{busy}, 5); !errors.Is(err, chain.ErrTooMuchHistory) {
		t.Fatalf("6 transactions, bound 5: %v, want ErrTooMuchHistory", err)
	}
	if got := gets.Load() - before; got != 0 {
		t.Fatalf("the refused lookup fetched %d transactions, want none", got)
	}
	hist, err := b.HistoryAtMost(ctx, [][]byte{busy}, 6)
	if err != nil || len(hist) != 6 {
		t.Fatalf("6 transactions, bound 6: %d, %v", len(hist), err)
	}
	if gets.Load() == before {
		t.Fatal("the lookup within the bound fetched no transaction through the proxy")
	}
}
