package electrum_test

import (
	"context"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/integration/harness"
)

// TestManyScripts subscribes 30,000 scripts over several sessions (10,000
// each here) against a real ElectrumX, checks a payment to the last one is
// seen, then restarts ElectrumX: the reconnect subscribes them all again
// but fetches only the history whose status changed. BenchmarkSubscribe
// measures 100,000 with the default sessions.
func TestManyScripts(t *testing.T) {
	manyScripts(t, 30_000, 10_000)
}

// BenchmarkSubscribe measures the subscription of 100,000 scripts (and the
// resubscription after an ElectrumX restart) against a local ElectrumX:
// go test -run '^$' -bench Subscribe -benchtime 1x ./coins/chain/electrum/
func BenchmarkSubscribe(b *testing.B) {
	for range b.N {
		manyScripts(b, 100_000, electrum.DefaultSessionScripts)
	}
}

func manyScripts(t testing.TB, count, perSession int) {
	n, x := startStack(t)
	scripts := make([][]byte, count)
	for i := range scripts {
		s := make([]byte, 22)
		s[0], s[1] = 0x00, 0x14 // P2WPKH of a fake key hash
		s[2], s[3], s[4], s[21] = byte(i), byte(i>>8), byte(i>>16), 0xee
		scripts[i] = s
	}
	last, _ := n.NewScript(harness.P2WPKH)
	scripts = append(scripts, last)
	b := newBackend(t, n, tcp(t, x), func(c *electrum.Config) { c.SessionScripts = perSession })
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	ev.wait(t, "connected", isKind(chain.EventConnected))
	t0 := time.Now()
	if err := b.Watch(ctx, scripts, nil); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	took := time.Since(t0)
	nScripts, sessions := b.Watched()
	t.Logf("subscribed %d scripts over %d sessions in %v (%.0f/s)", nScripts, sessions, took, float64(nScripts)/took.Seconds())
	if nScripts != count+1 || sessions != (count+perSession)/perSession {
		t.Fatalf("Watched = %d scripts, %d sessions", nScripts, sessions)
	}
	tx := n.FundTx(last, 10_000)
	ev.wait(t, "payment to the last script", accepted(tx.TxHash()))

	before := b.Stats()
	x.Stop()
	ev.wait(t, "disconnected", isKind(chain.EventDisconnected))
	x.Start()
	mark := time.Now()
	harness.WaitFor(t, 5*time.Minute, "reconnected", b.Connected)
	t.Logf("ElectrumX back → reconnected with %d scripts resubscribed (statuses compared, none refetched): %v", count+1, time.Since(mark))
	after := b.Stats()
	if subs := after.Subscriptions - before.Subscriptions; subs != int64(count+1) {
		t.Fatalf("%d scripts resubscribed, want %d", subs, count+1)
	}
	if h := after.Histories - before.Histories; h != 0 {
		t.Fatalf("the reconnect refetched %d histories; no status changed", h)
	}
	tx2 := n.FundTx(last, 11_000)
	ev.wait(t, "payment after the reconnect", accepted(tx2.TxHash()))
}
