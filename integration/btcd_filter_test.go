package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestBtcdNodeFilter runs the daemon with BTC_BTCD_FILTER=node, btcd's own
// transaction filter (loadtxfilter), the path the default (local matching
// against the engine's index, which every other test of this package
// runs) replaced: a mempool payment and its block are reported; a mempool
// payment made while the daemon is down (kill -9) is found on restart by
// looking up the open requests' addresses; a block that leaves the chain
// unconfirms the payment.
func TestBtcdNodeFilter(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+node.WSURL(), "BTC_BTCD_FILTER=node")
	waitSynced(t, d, node.Height())
	if strings.Contains(d.Logs(), localMatchLog) {
		t.Fatal("BTC_BTCD_FILTER=node: the daemon matched locally")
	}
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	ws := d.Dial("")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.1")
	node.Fund(r.Address, 10_000_000)
	ws.Next(10*time.Second, "mempool payment", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	node.Generate(1)
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))

	var r2 request
	d.Must(&r2, vw.KeyMaterial, "add_request", "0.2")
	d.Kill()
	node.Fund(r2.Address, 20_000_000)
	d.Restart()
	ws2 := d.Dial("?since=0")
	ws2.Next(20*time.Second, "mempool payment made while down", daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 7}))
	h := node.Generate(1)[0]
	ws2.Next(10*time.Second, "paid after restart", daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 3}))
	node.InvalidateBlock(h)
	ws2.Next(20*time.Second, "unconfirmed when its block left the chain", daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 7}))
}

// localMatchLog is the daemon's log line when it matches locally.
const localMatchLog = "the chain backend matches blocks and mempool transactions against the engine's index"

// TestBtcdLocalMatchIsDefault: without BTC_BTCD_FILTER the daemon matches
// locally (so the other tests of this package run that path).
func TestBtcdLocalMatchIsDefault(t *testing.T) {
	_, d := startBTC(t)
	if !strings.Contains(d.Logs(), localMatchLog) {
		t.Fatalf("the daemon does not match locally by default; its log:\n%s", d.Logs())
	}
}
