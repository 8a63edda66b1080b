package electrum_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/chaintest"
	"github.com/walletd/walletd/coins/chain/electrum"
	"github.com/walletd/walletd/coins/chain/electrum/servers"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// fakeScripts returns n distinct P2WPKH scripts of keys nobody holds.
func fakeScripts(n int, tag byte) [][]byte {
	scripts := make([][]byte, n)
	for i := range scripts {
		s := make([]byte, 22)
		s[0], s[1] = 0x00, 0x14
		s[2], s[3], s[4], s[20], s[21] = byte(i), byte(i>>8), byte(i>>16), tag, 0xc0
		scripts[i] = s
	}
	return scripts
}

// TestCostLimits runs the backend against a real ElectrumX with its
// default per-session cost limits (a public server's), not start.sh's
// unlimited test setting: one session can hold about 3,000 subscriptions
// before ElectrumX throttles it and, with requests queued behind the
// throttle, cuts it off ("server busy", then "excessive resource usage").
func TestCostLimits(t *testing.T) {
	n, x := startStack(t, electrumx.WithDefaultCostLimits())
	t.Run("DefaultSessions", func(t *testing.T) { costDefaultSessions(t, n.For(t), x) })
	t.Run("CutOff", func(t *testing.T) { costCutOff(t, n.For(t), x) })
	t.Run("BusyProof", func(t *testing.T) { costBusyProof(t, n.For(t), x) })
}

// costDefaultSessions: 8,000 scripts (more than twice what one session
// may hold) with the default Config are spread over sessions small enough
// that ElectrumX never throttles them: every script gets its status on the
// first link, no server is dropped, and a payment to the last script is
// seen.
func costDefaultSessions(t *testing.T, n *harness.Node, x *electrumx.Server) {
	const count = 8_000
	scripts := fakeScripts(count, 1)
	last, _ := n.NewScript(harness.P2WPKH)
	scripts = append(scripts, last)
	b := newBackend(t, n, tcp(t, x), nil)
	ctx := context.Background()
	if err := b.Watch(ctx, scripts, nil); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	ev.wait(t, "connected", isKind(chain.EventConnected))
	nScripts, sessions := b.Watched()
	t.Logf("%d scripts subscribed over %d sessions in %v", nScripts, sessions, time.Since(t0).Round(time.Millisecond))
	want := (count + 1 + electrum.DefaultSessionScripts - 1) / electrum.DefaultSessionScripts
	if nScripts != count+1 || sessions != want {
		t.Fatalf("Watched = %d scripts over %d sessions, want %d over %d", nScripts, sessions, count+1, want)
	}
	st := b.Stats()
	if st.Subscriptions != count+1 || st.Throttled != 0 || st.Lies != 0 {
		t.Fatalf("Stats = %+v: want every script subscribed once, on one link, never throttled or dropped", st)
	}
	tx := n.FundTx(last, 20_000)
	ev.wait(t, "the payment to the last script", accepted(tx.TxHash()))
	if st := b.Stats(); st.Throttled != 0 || st.Lies != 0 || b.Server() != x.TCP() {
		t.Fatalf("Stats = %+v on %q after the payment", st, b.Server())
	}
}

// busyReply is ElectrumX's answer to a request of a session over its
// hard cost limit (aiorpcX's ExcessiveSessionCostError), after which it
// closes the session.
var busyReply = json.RawMessage(`{"code":-101,"message":"excessive resource usage"}`)

// costCutOff: a server that cuts a session off for cost after 1,500
// subscriptions (a proxy in front of the real ElectrumX answers the next
// one "excessive resource usage" and closes the session, as ElectrumX
// does), with the sessions configured far too large (25,000): the backend
// never counts the server as lying, uses it again with smaller sessions
// until they fit, and then every script has its status and a payment to
// the last one is seen.
func costCutOff(t *testing.T, n *harness.Node, x *electrumx.Server) {
	const count, limit = 4_000, 1_500
	var cuts atomic.Int64
	p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{
		Reply: func(c *electrumproxy.Conn, method string, _ []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
			if method != "blockchain.scripthash.subscribe" {
				return r
			}
			v, _ := c.State.LoadOrStore("subs", new(int))
			subs := v.(*int) // the proxy calls Reply on one goroutine per connection
			*subs++
			if *subs > limit {
				cuts.Add(1)
				return electrumproxy.Reply{Error: busyReply, Disconnect: true}
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
	scripts := fakeScripts(count, 2)
	last, _ := n.NewScript(harness.P2WPKH)
	scripts = append(scripts, last)
	b := newBackend(t, n, list, func(c *electrum.Config) { c.SessionScripts, c.Window = 25_000, 1_000 })
	ctx := context.Background()
	if err := b.Watch(ctx, scripts, nil); err != nil {
		t.Fatal(err)
	}
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	ev.wait(t, "connected", isKind(chain.EventConnected))
	nScripts, sessions := b.Watched()
	st := b.Stats()
	t.Logf("cut off %d times; then %d scripts over %d sessions; %+v", cuts.Load(), nScripts, sessions, st)
	if cuts.Load() == 0 || st.Throttled == 0 {
		t.Fatalf("the proxy cut %d sessions, the backend saw %d: the test proves nothing", cuts.Load(), st.Throttled)
	}
	if st.Lies != 0 {
		t.Fatalf("a server cutting a session off for cost was counted as lying: %+v", st)
	}
	if nScripts != count+1 || sessions*limit < count+1 {
		t.Fatalf("Watched = %d scripts over %d sessions: they do not fit under the server's %d per session", nScripts, sessions, limit)
	}
	if b.Server() != p.TCP() {
		t.Fatalf("server %q, want the proxy %q still in use", b.Server(), p.TCP())
	}
	tx := n.FundTx(last, 21_000)
	ev.wait(t, "the payment to the last script", accepted(tx.TxHash()))
}

// costBusyProof: a server that answers "server busy" (-102, a request
// queued behind ElectrumX's throttle past its REQUEST_TIMEOUT) to every
// merkle proof for longer than StatusGrace is throttling, not lying: the
// backend reconnects and, once the server answers again, reports the
// confirmation; nothing is counted as a lie.
func costBusyProof(t *testing.T, n *harness.Node, x *electrumx.Server) {
	const busyFor = 3 * time.Second
	var mu sync.Mutex
	var first time.Time
	var refused atomic.Int64
	p, err := electrumproxy.Start(x.Addr(), electrumproxy.Hooks{
		Reply: func(c *electrumproxy.Conn, method string, _ []json.RawMessage, r electrumproxy.Reply) electrumproxy.Reply {
			if method != "blockchain.transaction.get_merkle" {
				return r
			}
			mu.Lock()
			defer mu.Unlock()
			if first.IsZero() {
				first = time.Now()
			}
			if time.Since(first) < busyFor {
				refused.Add(1)
				return electrumproxy.Reply{Error: json.RawMessage(`{"code":-102,"message":"server busy - request timed out"}`)}
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
	script, _ := n.NewScript(harness.P2WPKH)
	b := newBackend(t, n, list, func(c *electrum.Config) { c.StatusGrace = busyFor / 3 })
	ctx := context.Background()
	ch, err := b.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ev := record(ch)
	ev.wait(t, "connected", isKind(chain.EventConnected))
	if err := b.Watch(ctx, [][]byte{script}, nil); err != nil {
		t.Fatal(err)
	}
	tx := n.FundTx(script, 22_000)
	ev.wait(t, "the payment", accepted(tx.TxHash()))
	n.Generate(1)
	harness.WaitFor(t, chaintest.Timeout, "its block", func() bool {
		_, ok := ev.find(blockWith(tx.TxHash()))
		return ok
	})
	st := b.Stats()
	t.Logf("%d proofs refused as busy; %+v", refused.Load(), st)
	if refused.Load() == 0 || st.Throttled == 0 {
		t.Fatalf("%d proofs refused, %d links throttled: the test proves nothing", refused.Load(), st.Throttled)
	}
	if st.Lies != 0 {
		t.Fatalf("a busy server was counted as lying: %+v", st)
	}
}
