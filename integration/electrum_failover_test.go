package integration

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// TestElectrumFailover: two ElectrumX over one btcd; the daemon's main
// server dies (kill -9) with a payment in flight; the daemon moves to the
// other one, where the payment confirms and new payments are seen. With
// BTC_ONESERVER the daemon never leaves its one server.
func TestElectrumFailover(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	x1 := electrumx.Start(t, electrumx.BtcdURL(node))
	x2 := electrumx.Start(t, electrumx.BtcdURL(node))
	x1.WaitTip(node.BestHash())
	x2.WaitTip(node.BestHash())
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+x1.TCP()+","+x2.TCP())
	waitSynced(t, d, node.Height())

	vw := vectorWallet(t, "p2wpkh-p2sh-account-xpub")
	ws := d.Dial("")
	ws.Filter(vw.KeyMaterial)
	var r1 request
	d.Must(&r1, vw.KeyMaterial, "add_request", "0.1")
	node.Fund(r1.Address, 10_000_000)
	ws.Next(20*time.Second, "new_payment 7 on the main server", daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 7}))

	x1.Kill()
	t0 := time.Now()
	node.Generate(1)
	ws.Next(30*time.Second, "new_payment 3 through the other server", daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 3}))
	t.Logf("main server killed → confirmation reported through the other: %v", time.Since(t0))
	var r2 request
	d.Must(&r2, vw.KeyMaterial, "add_request", "0.2")
	node.Fund(r2.Address, 20_000_000)
	ws.Next(20*time.Second, "new_payment 7 after the failover", daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 7}))
	node.Generate(1)
	ws.Next(20*time.Second, "new_payment 3 after the failover", daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 3}))

	// BTC_ONESERVER: the first server is dead; the second (counted by a
	// proxy) must never be tried.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	p, err := electrumproxy.Start(x2.Addr(), electrumproxy.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	d2 := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_ONESERVER=true", "BTC_SERVER="+dead+":t,"+p.TCP())
	harness.WaitFor(t, 30*time.Second, "three failed attempts on the one server", func() bool {
		return strings.Count(d2.Logs(), "cannot use server") >= 3
	})
	if n := p.Accepted.Load(); n != 0 {
		t.Fatalf("with BTC_ONESERVER the daemon connected %d times to the second server", n)
	}
	if strings.Contains(d2.Logs(), p.TCP()) {
		t.Fatalf("the second server appears in the logs:\n%s", d2.Logs())
	}
}
