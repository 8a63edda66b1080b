package integration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestStalledNodeCallDelaysNoOtherWallet puts a node stand-in between the
// daemon and a real btcd that holds back one wallet's history lookup
// (searchrawtransactions of its first address) for up to 60 s: while that
// wallet's cold load hangs, another wallet's payment is detected in the
// mempool and in a block as usual; once the node answers, the cold load
// completes with the wallet's history.
func TestStalledNodeCallDelaysNoOtherWallet(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	proxy := newStallProxy(t, node.WSURL(), 60*time.Second)
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+proxy.URL())
	waitSynced(t, d, node.Height())
	b := vectorWallet(t, "standard-account-xpub")
	a := vectorWallet(t, "p2wpkh-account-xpub")
	node.Fund(a.Receiving[0], 70_000) // history the cold load must find
	node.Generate(1)
	waitSynced(t, d, node.Height())
	var rb request
	d.Must(&rb, b.KeyMaterial, "add_request", "0.01")
	ws := d.Dial("")

	proxy.Stall("searchrawtransactions", a.Receiving[0])
	loaded := make(chan error, 1)
	var bal map[string]string
	go func() {
		raw, err := d.Call(a.KeyMaterial, "getbalance")
		if err == nil {
			err = jsonUnmarshal(raw, &bal)
		}
		loaded <- err
	}()
	harness.WaitFor(t, 20*time.Second, "the cold load's history lookup held", func() bool { return proxy.Held() > 0 })

	sent := time.Now()
	node.Fund(rb.Address, 1_000_000)
	ws.Next(10*time.Second, "the other wallet's mempool payment", daemon.IsEvent("new_payment", map[string]any{"address": rb.RequestID, "status": 7}))
	t.Logf("mempool payment detected in %v while a cold load hangs", time.Since(sent))
	sent = time.Now()
	node.Generate(1)
	ws.Next(10*time.Second, "the other wallet's confirmation", daemon.IsEvent("new_payment", map[string]any{"address": rb.RequestID, "status": 3}))
	t.Logf("block payment detected in %v while a cold load hangs", time.Since(sent))
	select {
	case err := <-loaded:
		t.Fatalf("the stalled cold load returned before the node answered: %v", err)
	default:
	}
	proxy.Release()
	select {
	case err := <-loaded:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the cold load did not finish once the node answered")
	}
	if bal["confirmed"] != "0.00070000" {
		t.Fatalf("the cold-loaded wallet's balance: %v", bal)
	}
}

func jsonUnmarshal(raw []byte, out any) error { return json.Unmarshal(raw, out) }
