package integration

import (
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// startElectrumBTC starts btcd (regtest, 101 blocks), ElectrumX over it
// and `daemon btc` with BTC_SERVER=127.0.0.1:PORT:t, synced.
func startElectrumBTC(t *testing.T, env ...string) (*harness.Node, *electrumx.Server, *daemon.Proc) {
	t.Helper()
	node := harness.StartBtcd(t)
	node.Generate(101)
	x := electrumx.Start(t, electrumx.BtcdURL(node))
	x.WaitTip(node.BestHash())
	d := daemon.Start(t, "btc", append([]string{"BTC_NETWORK=regtest", "BTC_SERVER=" + x.TCP()}, env...)...)
	waitSynced(t, d, node.Height())
	return node, x, d
}

// regtestScript returns the output script of a Bitcoin regtest address.
func regtestScript(t *testing.T, addr string) []byte { return netScript(t, params.BTC, addr) }

// netScript returns the output script of an address of a coin's regtest.
func netScript(t *testing.T, coin func(string) (*params.Network, error), addr string) []byte {
	t.Helper()
	net, err := coin("regtest")
	if err != nil {
		t.Fatal(err)
	}
	s, err := net.PkScript(addr)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// txConfirmations reads get_transaction's confirmations.
func txConfirmations(t *testing.T, d *daemon.Proc, txid string) int64 {
	t.Helper()
	var got struct {
		Confirmations int64 `json:"confirmations"`
	}
	d.Must(&got, "", "get_transaction", txid)
	return got.Confirmations
}

// TestElectrumBTC runs the daemon on the Electrum backend against a real
// ElectrumX over btcd: the invoice lifecycle (the acceptance), a payout, a
// reorganisation, and an ElectrumX restart, on one stack.
func TestElectrumBTC(t *testing.T) {
	node, x, d := startElectrumBTC(t)

	// A request paid from outside: new_payment 7 from the mempool, 3 after
	// a block; get_transaction counts the confirmations.
	t.Run("InvoiceLifecycle", func(t *testing.T) {
		vw := vectorWallet(t, "p2wpkh-account-xpub")
		ws := d.Dial("")
		ws.Filter(vw.KeyMaterial)
		var r request
		d.Must(&r, vw.KeyMaterial, "add_request", "0.5", "order 42", 900)
		if r.Address != vw.Receiving[0] || r.Status != 0 {
			t.Fatalf("add_request: %+v", r)
		}
		serverNote := x.WatchScript(regtestScript(t, r.Address))
		sent := time.Now()
		txid := node.Fund(r.Address, 50_000_000)
		f := ws.Next(20*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		select {
		case at := <-serverNote:
			t.Logf("payment → ElectrumX's own notification: %v; → walletd's new_payment: %v", at.Sub(sent), f.At.Sub(sent))
		case <-time.After(10 * time.Second):
			t.Fatal("ElectrumX never notified its own subscriber")
		}
		if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 7 || len(got.TxHashes) != 1 || got.TxHashes[0] != txid.String() {
			t.Fatalf("get_request after mempool: %+v", got)
		}
		if c := txConfirmations(t, d, txid.String()); c != 0 {
			t.Fatalf("get_transaction of the mempool payment: %d confirmations", c)
		}
		mined := time.Now()
		node.Generate(1)
		ws.Next(20*time.Second, "verified_tx", daemon.IsEvent("verified_tx", map[string]any{"tx": txid.String(), "height": node.Height()}))
		f = ws.Next(20*time.Second, "new_payment 3", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
		t.Logf("block → new_payment 3: %v", f.At.Sub(mined))
		if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 3 || got.Confirmations != 1 {
			t.Fatalf("get_request after the block: %+v", got)
		}
		if c := txConfirmations(t, d, txid.String()); c != 1 {
			t.Fatalf("get_transaction after the block: %d confirmations", c)
		}
		node.Generate(2)
		ws.Next(20*time.Second, "new_block", daemon.IsEvent("new_block", map[string]any{"height": node.Height()}))
		if c := txConfirmations(t, d, txid.String()); c != 3 {
			t.Fatalf("get_transaction after two more blocks: %d confirmations", c)
		}
		var st map[string]int64
		d.Must(&st, vw.KeyMaterial, "get_tx_status", txid.String())
		if st["confirmations"] != 3 {
			t.Fatalf("get_tx_status: %v", st)
		}
	})

	// Detection latency over ten payments: payment → ElectrumX's own
	// notification to a subscriber, and → walletd's new_payment.
	t.Run("DetectionLatency", func(t *testing.T) {
		vw := vectorWallet(t, "electrum-standard-seed")
		// A seed wallet's events carry its master public key.
		detectionLatency(t, d, x, vw.KeyMaterial, vw.MPK, func(a string) []byte { return regtestScript(t, a) },
			func(a string) { node.Fund(a, 1_000_000) })
	})

	// A payout from a seed wallet: payto, broadcast through ElectrumX,
	// confirmed.
	t.Run("Payout", func(t *testing.T) {
		vw := vectorWallet(t, "electrum-segwit-seed")
		fundAndConfirm(t, node, d, vw.KeyMaterial, []string{vw.Receiving[0], vw.Receiving[1]}, []int64{100_000_000, 70_000_000}, "1.70000000")
		dest := vectorWallet(t, "electrum-standard-seed").Receiving[0]
		var raw string
		d.Must(&raw, "", "payto", dest, "0.5", named(vw.KeyMaterial, "feerate", 2))
		var txid string
		d.Must(&txid, "", "broadcast", raw)
		harness.WaitFor(t, 10*time.Second, "payout in btcd's mempool", func() bool { return node.InMempool(mustHash(t, txid)) })
		node.Generate(1)
		harness.WaitFor(t, 20*time.Second, "payout confirmed", func() bool {
			raw, err := d.Call("", "get_transaction", txid)
			var got struct {
				Confirmations int64 `json:"confirmations"`
			}
			return err == nil && json.Unmarshal(raw, &got) == nil && got.Confirmations == 1
		})
		var used string
		d.Must(&used, vw.KeyMaterial, "get_used_fee", txid)
		fee := parseSats(t, used)
		waitBalance(t, d, vw.KeyMaterial, formatSats(120_000_000-fee), "")
	})

	// The block holding a payment is replaced: the payment goes back to
	// unconfirmed, then is paid again in the new chain.
	t.Run("Reorg", func(t *testing.T) {
		electrumReorg(t, node, d, vectorWallet(t, "standard-account-xpub").KeyMaterial, func(a string) []byte { return regtestScript(t, a) })
	})

	// ElectrumX goes down; one request is paid (mempool) and another paid
	// and mined meanwhile; when it is back, both are found.
	t.Run("ServerRestart", func(t *testing.T) {
		vw := vectorWallet(t, "p2wpkh-p2sh-account-xpub")
		ws := d.Dial("")
		ws.Filter(vw.KeyMaterial)
		var r1, r2 request
		d.Must(&r1, vw.KeyMaterial, "add_request", "0.1")
		d.Must(&r2, vw.KeyMaterial, "add_request", "0.2")
		x.Stop()
		harness.WaitFor(t, 20*time.Second, "daemon sees the server gone", func() bool {
			var info struct {
				Connected bool `json:"connected"`
			}
			raw, err := d.Call("", "getinfo")
			return err == nil && json.Unmarshal(raw, &info) == nil && !info.Connected
		})
		node.Fund(r2.Address, 20_000_000)
		node.Generate(1)
		node.Fund(r1.Address, 10_000_000)
		x.Start()
		ws.Next(30*time.Second, "new_payment 3 for the request mined while down",
			daemon.IsEvent("new_payment", map[string]any{"address": r2.RequestID, "status": 3}))
		ws.Next(30*time.Second, "new_payment 7 for the request paid while down",
			daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 7}))
		node.Generate(1)
		ws.Next(20*time.Second, "new_payment 3 after the block",
			daemon.IsEvent("new_payment", map[string]any{"address": r1.RequestID, "status": 3}))
	})
}

// spread formats min / median / max.
func spread(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return fmt.Sprintf("min %v, median %v, max %v (%d payments)", r(s[0]), r(s[len(s)/2]), r(s[len(s)-1]), len(s))
}
