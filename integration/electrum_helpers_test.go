package integration

import (
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// detectionLatency pays ten requests of wallet key (its events filtered by
// filterKey) with pay, which returns once the payment is in the node's
// mempool, and logs the spread of the time from then to ElectrumX's own
// notification to a subscriber of the address (script gives its output
// script), and to walletd's new_payment 7.
func detectionLatency(t *testing.T, d *daemon.Proc, x *electrumx.Server, key, filterKey string,
	script func(addr string) []byte, pay func(addr string)) {
	t.Helper()
	ws := d.Dial("")
	defer ws.Close()
	ws.Filter(filterKey)
	var server, daemonLat []time.Duration
	for i := 0; i < 10; i++ {
		r := addCoinRequest(t, d, key, "0.01")
		note := x.WatchScript(script(r.Address))
		sent := time.Now()
		pay(r.Address)
		f := ws.Next(20*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		select {
		case at := <-note:
			server = append(server, at.Sub(sent))
		case <-time.After(10 * time.Second):
			t.Fatal("ElectrumX never notified its own subscriber")
		}
		daemonLat = append(daemonLat, f.At.Sub(sent))
	}
	t.Logf("payment → ElectrumX notification: %s", spread(server))
	t.Logf("payment → walletd new_payment:    %s", spread(daemonLat))
}

// electrumReorg: the block holding a payment to a request of wallet key is
// invalidated; ElectrumX follows once the node's new chain is longer (two
// blocks are mined): the payment goes back to unconfirmed (new_payment 7),
// then is paid again in the new chain (3, with two confirmations).
func electrumReorg(t *testing.T, node *harness.Node, d *daemon.Proc, key string, script func(addr string) []byte) {
	t.Helper()
	ws := d.Dial("")
	defer ws.Close()
	ws.Filter(key)
	r := addCoinRequest(t, d, key, "0.3")
	tx := node.FundTx(script(r.Address), 30_000_000)
	ws.Next(20*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	h := node.Generate(1)[0]
	ws.Next(20*time.Second, "new_payment 3", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	node.InvalidateBlock(h)
	if !node.InMempool(tx.TxHash()) {
		if _, err := node.SendRaw(tx); err != nil {
			t.Fatalf("resubmitting the payment: %v", err)
		}
	}
	hs := node.Generate(2)
	ws.Next(20*time.Second, "new_payment 7 (confirmation lost)", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	ws.Next(20*time.Second, "new_payment 3 (mined again)", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	waitSynced(t, d, node.Height())
	if got := getCoinRequest(t, d, key, r.RequestID); got.Status != 3 || got.Confirmations != 2 {
		t.Fatalf("get_request after the reorg: %+v (new blocks %v)", got, hs)
	}
	if c := txConfirmations(t, d, tx.TxHash().String()); c != 2 {
		t.Fatalf("get_transaction after the reorg: %d confirmations", c)
	}
}
