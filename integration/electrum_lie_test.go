package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// TestElectrumLyingServers runs `daemon btc` on three Electrum servers: two
// lying proxies in front of a real ElectrumX, then the real one. The first
// forges the confirmation (history, status and merkle proof) of a real
// mempool payment; the second invents a payment to another request (a
// transaction spending a real coin with a signature that does not verify).
// The daemon must drop both, settle on the honest server, and never report
// a payment that is not real or a confirmation that did not happen.
func TestElectrumLyingServers(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	x := electrumx.Start(t, electrumx.BtcdURL(node))
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	r1Script, r2Script := regtestScript(t, vw.Receiving[0]), regtestScript(t, vw.Receiving[1])

	ownerScript, _ := node.NewScript(harness.P2WPKH)
	parent := node.FundTx(ownerScript, 40_000_000)
	node.Generate(1)
	fake := node.SpendTx(wire.OutPoint{Hash: parent.TxHash(), Index: 0}, ownerScript, 40_000_000, r2Script)
	fake.TxIn[0].Witness[0][10] ^= 0xff
	x.WaitTip(node.BestHash())

	forger, err := electrumproxy.Start(x.Addr(), electrumproxy.FakeConfirmation(electrumx.ScriptHash(r1Script), false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(forger.Stop)
	inventor, err := electrumproxy.Start(x.Addr(), electrumproxy.FakePayment(electrumx.ScriptHash(r2Script), fake))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inventor.Stop)

	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+strings.Join([]string{forger.TCP(), inventor.TCP(), x.TCP()}, ","))
	waitSynced(t, d, node.Height())
	if forger.Sessions() == 0 {
		t.Fatal("the daemon is not on the first server")
	}

	ws := d.Dial("")
	ws.Filter(vw.KeyMaterial)
	var frames []daemon.Frame
	next := func(what string, pred func(daemon.Frame) bool) daemon.Frame {
		return ws.Next(30*time.Second, what, func(f daemon.Frame) bool {
			frames = append(frames, f)
			return pred(f)
		})
	}
	var r1, r2 request
	d.Must(&r1, vw.KeyMaterial, "add_request", "0.5")
	d.Must(&r2, vw.KeyMaterial, "add_request", "0.4")
	if r1.Address != vw.Receiving[0] || r2.Address != vw.Receiving[1] {
		t.Fatalf("requests at %s and %s", r1.Address, r2.Address)
	}

	txid := node.Fund(r1.Address, 50_000_000)
	next("new_payment 7 from the honest server", daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 7}))
	harness.WaitFor(t, 30*time.Second, "both liars dropped", func() bool {
		return strings.Count(d.Logs(), "server lied") >= 2
	})
	for _, p := range []*electrumproxy.Proxy{forger, inventor} {
		if p.Lies.Load() == 0 {
			t.Fatalf("proxy %s never lied: the test proves nothing", p.TCP())
		}
		if !strings.Contains(d.Logs(), fmt.Sprintf("server lied; dropping it\" server=%s", p.TCP())) {
			t.Fatalf("no drop of %s in the logs:\n%s", p.TCP(), d.Logs())
		}
	}
	mined := time.Now()
	node.Generate(1)
	paid := next("new_payment 3 after the block", daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 3}))
	if paid.At.Before(mined) {
		t.Fatal("status 3 before the block")
	}
	for _, f := range frames {
		ev := f.Event()
		if ev["event"] == "new_payment" && ev["address"] == r2.RequestID {
			t.Fatalf("a payment was reported for the request only the liar paid: %v", ev)
		}
		if ev["event"] == "new_payment" && fmt.Sprint(ev["status"]) == "3" && f.At.Before(mined) {
			t.Fatalf("a confirmation was reported before the block: %v", ev)
		}
	}
	if got := getRequest(t, d, vw.KeyMaterial, r2.RequestID); got.Status != 0 || len(got.TxHashes) != 0 {
		t.Fatalf("the request only the liar paid: %+v", got)
	}
	if got := getRequest(t, d, vw.KeyMaterial, r1.RequestID); got.Status != 3 || got.Confirmations != 1 || got.TxHashes[0] != txid.String() {
		t.Fatalf("the request really paid: %+v", got)
	}
}
