// Package integration holds walletd's tests against real nodes: each test
// starts btcd on 127.0.0.1 through the harness, runs the real walletd
// binary, and talks to it over HTTP and websockets like a Bitcart client.
package integration

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/vectors"
)

// request is get_request's reply.
type request struct {
	RequestID     string   `json:"request_id"`
	AmountBTC     string   `json:"amount_BTC"`
	AmountSat     int64    `json:"amount_sat"`
	Address       string   `json:"address"`
	URI           string   `json:"URI"`
	Status        int      `json:"status"`
	StatusStr     string   `json:"status_str"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations int64    `json:"confirmations"`
	SentAmount    string   `json:"sent_amount"`
	Expiry        int64    `json:"expiry"`
	Timestamp     int64    `json:"timestamp"`
	Message       string   `json:"message"`
	IsLightning   *bool    `json:"is_lightning"`
}

func vectorWallet(t *testing.T, label string) vectors.Wallet {
	t.Helper()
	for _, w := range vectors.Load(t).Networks["regtest"].Wallets {
		if w.Label == label {
			return w
		}
	}
	t.Fatalf("no vector %s", label)
	return vectors.Wallet{}
}

// startBTC starts a regtest btcd with 101 blocks and a daemon wired to it.
func startBTC(t *testing.T, opts ...harness.Option) (*harness.Node, *daemon.Proc) {
	t.Helper()
	node := harness.StartBtcd(t, opts...)
	node.Generate(101)
	network := "regtest"
	if node.Params().Name == "simnet" {
		network = "simnet"
	}
	d := daemon.Start(t, "btc", "BTC_NETWORK="+network, "BTC_SERVER="+node.WSURL())
	waitSynced(t, d, node.Height())
	return node, d
}

// waitSynced waits until getinfo reports the daemon synchronized at height.
func waitSynced(t *testing.T, d *daemon.Proc, height int32) {
	t.Helper()
	harness.WaitFor(t, 20*time.Second, fmt.Sprintf("daemon synced at %d", height), func() bool {
		var info struct {
			Synchronized bool  `json:"synchronized"`
			Height       int32 `json:"blockchain_height"`
			Connected    bool  `json:"connected"`
		}
		raw, err := d.Call("", "getinfo")
		return err == nil && json.Unmarshal(raw, &info) == nil && info.Synchronized && info.Connected && info.Height == height
	})
}

func getRequest(t *testing.T, d *daemon.Proc, key, id string) request {
	t.Helper()
	var r request
	d.Must(&r, key, "get_request", id)
	return r
}

// TestInvoiceLifecycle: request → mempool payment → new_payment 7 →
// block → verified_tx and new_payment 3 → confirmations counted; the
// request's address is Electrum's.
func TestInvoiceLifecycle(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	ws := d.Dial("")
	ws.Filter(vw.KeyMaterial)
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.5", "order 42", 900)
	if r.Address != vw.Receiving[0] || r.AmountBTC != "0.5" || r.AmountSat != 50_000_000 || r.Status != 0 ||
		r.Message != "order 42" || r.Expiry != 900 || r.SentAmount != "0.00000000" || len(r.TxHashes) != 0 ||
		r.IsLightning == nil || *r.IsLightning || !strings.HasPrefix(r.StatusStr, "Expires in") ||
		r.URI != fmt.Sprintf("bitcoin:%s?amount=0.5&message=order%%2042&time=%d&exp=900", vw.Receiving[0], r.Timestamp) {
		t.Fatalf("add_request: %+v", r)
	}
	sent := time.Now()
	txid := node.Fund(r.Address, 50_000_000)
	f := ws.Next(10*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	t.Logf("mempool payment → new_payment: %v", f.At.Sub(sent))
	if f.Wallet == nil || *f.Wallet != vw.KeyMaterial || f.Currency != "BTC" || f.Event()["sent_amount"] != "0.50000000" ||
		f.Event()["status_str"] != "Unconfirmed" {
		t.Fatalf("frame: %+v", f)
	}
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 7 || got.TxHashes[0] != txid.String() || got.Confirmations != 0 {
		t.Fatalf("get_request after mempool: %+v", got)
	}
	node.Generate(1)
	ws.Next(10*time.Second, "verified_tx", daemon.IsEvent("verified_tx", map[string]any{"tx": txid.String(), "height": node.Height()}))
	ws.Next(10*time.Second, "new_payment 3", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 3 || got.StatusStr != "Paid" || got.Confirmations != 1 {
		t.Fatalf("get_request after block: %+v", got)
	}
	node.Generate(2)
	ws.Next(10*time.Second, "new_block", daemon.IsEvent("new_block", map[string]any{"height": node.Height()}))
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Confirmations != 3 {
		t.Fatalf("confirmations: %+v", got)
	}
	var st map[string]int64
	d.Must(&st, vw.KeyMaterial, "get_tx_status", txid.String())
	if st["confirmations"] != 3 {
		t.Fatalf("get_tx_status: %v", st)
	}
	var bal map[string]string
	d.Must(&bal, vw.KeyMaterial, "getbalance")
	if bal["confirmed"] != "0.50000000" || len(bal) != 1 {
		t.Fatalf("getbalance: %v", bal)
	}
	// The next request takes the next Electrum address.
	var r2 request
	d.Must(&r2, vw.KeyMaterial, "add_request", 0.001)
	if r2.Address != vw.Receiving[1] || r2.AmountBTC != "0.001" {
		t.Fatalf("second request: %+v", r2)
	}
	var ups []map[string]any
	d.Must(&ups, vw.KeyMaterial, "get_updates")
	if len(ups) < 4 {
		t.Fatalf("get_updates: %v", ups)
	}
	// Unknown request: -32003.
	if _, err := d.Call(vw.KeyMaterial, "get_request", "nope"); err == nil || err.(*daemon.RPCError).Code != -32003 {
		t.Fatalf("unknown request: %v", err)
	}
}

// TestLazyLoadWithHistory: a wallet whose addresses were paid before the
// daemon ever saw it gets its history, balance and unused address right on
// its first call.
func TestLazyLoadWithHistory(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	node.Fund(vw.Receiving[0], 10_000)
	node.Fund(vw.Receiving[2], 20_000)
	node.Fund(vw.Change[1], 30_000)
	node.Generate(1)
	node.Fund(vw.Receiving[4], 40_000) // stays in the mempool
	var bal map[string]string
	d.Must(&bal, vw.KeyMaterial, "getbalance")
	if bal["confirmed"] != "0.00060000" || bal["unconfirmed"] != "0.00040000" {
		t.Fatalf("getbalance: %v", bal)
	}
	var hist []map[string]any // Electrum 4.6's list
	d.Must(&hist, vw.KeyMaterial, "onchain_history")
	if len(hist) != 4 {
		t.Fatalf("history: %v", hist)
	}
	var unspent []map[string]any
	d.Must(&unspent, vw.KeyMaterial, "listunspent")
	if len(unspent) != 4 {
		t.Fatalf("listunspent: %v", unspent)
	}
	var unused string
	d.Must(&unused, vw.KeyMaterial, "getunusedaddress")
	if unused != vw.Receiving[1] {
		t.Fatalf("getunusedaddress = %s, Electrum's first unused is %s", unused, vw.Receiving[1])
	}
	var mine bool
	d.Must(&mine, vw.KeyMaterial, "ismine", vw.Change[2])
	if !mine {
		t.Fatal("ismine(change[2]) false")
	}
	var mpk string
	d.Must(&mpk, vw.KeyMaterial, "getmpk")
	if mpk != vw.MPK {
		t.Fatalf("getmpk %s want %s", mpk, vw.MPK)
	}
	// The same wallet named by its xpub shares the state.
	d.Must(&bal, vw.MPK, "getbalance")
	if bal["confirmed"] != "0.00060000" {
		t.Fatalf("getbalance via mpk: %v", bal)
	}
	// Address lookups against the node's index.
	var ah []map[string]any
	d.Must(&ah, "", "getaddresshistory", vw.Receiving[2])
	if len(ah) != 1 {
		t.Fatalf("getaddresshistory: %v", ah)
	}
	var ab map[string]string
	d.Must(&ab, "", "getaddressbalance", vw.Receiving[4])
	if ab["unconfirmed"] != "0.00040000" || ab["confirmed"] != "0.00000000" {
		t.Fatalf("getaddressbalance: %v", ab)
	}
	var au []map[string]any
	d.Must(&au, "", "getaddressunspent", vw.Receiving[0])
	if len(au) != 1 || au[0]["value"].(float64) != 10_000 {
		t.Fatalf("getaddressunspent: %v", au)
	}
	var info map[string]any
	d.Must(&info, "", "getinfo")
	if info["total_wallets"].(float64) != 1 {
		t.Fatalf("getinfo: %v", info)
	}
}

// TestKill9PaymentWhileDown: kill -9 the daemon, pay its request and mine
// while it is down; after restart the request is paid and the event reaches
// a client that reconnects with ?since=.
func TestKill9PaymentWhileDown(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "standard-account-xpub")
	ws := d.Dial("")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.2")
	node.Generate(1)
	last := ws.Next(10*time.Second, "new_block", daemon.IsEvent("new_block", nil)).Seq()
	d.Kill()
	node.Fund(r.Address, 20_000_000)
	node.Generate(1)
	d.Restart()
	waitSynced(t, d, node.Height())
	got := getRequest(t, d, vw.KeyMaterial, r.RequestID)
	if got.Status != 3 || got.SentAmount != "0.20000000" {
		t.Fatalf("after restart: %+v", got)
	}
	ws2 := d.Dial(fmt.Sprintf("?since=%d", last))
	p := ws2.Next(10*time.Second, "replayed new_payment", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	if p.Seq() <= last {
		t.Fatalf("replayed seq %d not after %d", p.Seq(), last)
	}
	if p.Wallet == nil || *p.Wallet != vw.KeyMaterial {
		t.Fatalf("replayed wallet key %v", p.Wallet)
	}
}

// TestKill9MempoolPaymentWhileDown: a payment that only reaches the
// mempool while the daemon is down is found on restart (status 7), before
// any block.
func TestKill9MempoolPaymentWhileDown(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.25")
	d.Kill()
	node.Fund(r.Address, 25_000_000)
	d.Restart()
	ws := d.Dial("?since=0")
	ws.Next(20*time.Second, "new_payment 7 after restart", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 7 || got.SentAmount != "0.25000000" {
		t.Fatalf("after restart: %+v", got)
	}
}

// TestUnderpaymentAndExpiry: an underpaid request stays unpaid with
// sent_amount; an unpaid request expires; a payment after expiry is still
// recorded and reported.
func TestUnderpaymentAndExpiry(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-p2sh-account-xpub")
	ws := d.Dial("")
	var under, exp request
	d.Must(&under, vw.KeyMaterial, "add_request", "0.01")
	d.Must(&exp, vw.KeyMaterial, "add_request", "0.02", "", 1)
	node.Fund(under.Address, 400_000)
	f := ws.Next(10*time.Second, "underpaid new_payment", daemon.IsEvent("new_payment", map[string]any{"address": under.RequestID}))
	if f.Event()["status"].(float64) != 0 || f.Event()["sent_amount"] != "0.00400000" {
		t.Fatalf("underpaid: %v", f.Event())
	}
	node.Generate(1)
	if got := getRequest(t, d, vw.KeyMaterial, under.RequestID); got.Status != 0 || got.SentAmount != "0.00400000" {
		t.Fatalf("underpaid after block: %+v", got)
	}
	harness.WaitFor(t, 10*time.Second, "request expired", func() bool {
		return getRequest(t, d, vw.KeyMaterial, exp.RequestID).Status == 1
	})
	var expired []request
	d.Must(&expired, vw.KeyMaterial, "list_requests", false, true)
	if len(expired) != 1 || expired[0].RequestID != exp.RequestID {
		t.Fatalf("list_requests(expired): %+v", expired)
	}
	node.Fund(exp.Address, 2_000_000)
	ws.Next(10*time.Second, "late payment", daemon.IsEvent("new_payment", map[string]any{"address": exp.RequestID, "status": 7}))
	node.Generate(1)
	ws.Next(10*time.Second, "late payment paid", daemon.IsEvent("new_payment", map[string]any{"address": exp.RequestID, "status": 3}))
}

// TestReorgUnconfirmsPayment: two btcd nodes; the daemon's node mines the
// paying block, the other mines a longer chain without it; after they
// connect the request goes back to unconfirmed (with an event), and is
// paid again once the tx is mined on the winning chain.
func TestReorgUnconfirmsPayment(t *testing.T) {
	a, d := startBTC(t)
	b := harness.StartBtcd(t)
	b.ConnectPeer(a)
	b.WaitSynced(a)
	a.Disconnect(b)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	ws := d.Dial("")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.3")
	a.Fund(r.Address, 30_000_000)
	a.Generate(1)
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	b.Generate(3)
	b.ConnectPeer(a)
	a.WaitSynced(b)
	ws.Next(20*time.Second, "unconfirmed after reorg", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	waitSynced(t, d, a.Height())
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 7 {
		t.Fatalf("after reorg: %+v", got)
	}
	a.Generate(1)
	ws.Next(20*time.Second, "paid again", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
}

// TestNodeRestartCatchUp: the node goes away and comes back (simnet keeps
// its chain); blocks mined before the daemon reconnects are caught up.
func TestNodeRestartCatchUp(t *testing.T) {
	node, d := startBTC(t, harness.WithSimnet())
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.4")
	node.Restart()
	node.Fund(r.Address, 40_000_000)
	node.Generate(2)
	waitSynced(t, d, node.Height())
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 3 || got.Confirmations != 2 {
		t.Fatalf("after node restart: %+v", got)
	}
}

// TestThousandWallets loads 1,000 new xpubs lazily in one daemon; each is
// tracked, and a payment to the last one is detected.
func TestThousandWallets(t *testing.T) {
	node, d := startBTC(t)
	keys := make([]string, 1000)
	for i := range keys {
		seed := make([]byte, 32)
		_, _ = rand.Read(seed)
		m, err := hdkeychain.NewMaster(seed, node.Params())
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := m.Neuter()
		keys[i] = pub.String()
	}
	start := time.Now()
	for _, k := range keys {
		d.Must(nil, k, "getbalance")
	}
	t.Logf("1,000 cold loads in %v (%v each)", time.Since(start), time.Since(start)/1000)
	var info map[string]any
	d.Must(&info, "", "getinfo")
	if info["total_wallets"].(float64) != 1000 {
		t.Fatalf("total_wallets: %v", info["total_wallets"])
	}
	ws := d.Dial("")
	var r request
	d.Must(&r, keys[999], "add_request", "0.001")
	node.Fund(r.Address, 100_000)
	ws.Next(10*time.Second, "payment to wallet 1000", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
}
