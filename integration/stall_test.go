package integration

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumproxy"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/vectors"
)

// stallHold bounds how long a stand-in holds a call back.
const stallHold = 60 * time.Second

// TestStalledNodeCallDelaysNoOtherWallet puts a node stand-in between the
// daemon and a real btcd that holds back one wallet's history lookup
// (searchrawtransactions of its first address) for up to 60 s: while that
// wallet's cold load hangs, another wallet's payment is detected in the
// mempool and in a block as usual; once the node answers, the cold load
// completes with the wallet's history.
func TestStalledNodeCallDelaysNoOtherWallet(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	proxy := newStallProxy(t, node.WSURL(), stallHold)
	coldLoadUnderStall(t, stallBTC, node, proxy.URL(), proxy.staller, func(a vectors.Wallet, _ chainhash.Hash) {
		proxy.Stall("searchrawtransactions", a.Receiving[0])
	})
}

// TestStalledCoreCallDelaysNoOtherWallet is the same proof for the Core
// JSON-RPC backend on btcd's HTTP RPC: the stand-in holds back the
// getblock of the block that paid the wallet being loaded (its backfill
// reads the blocks since the daemon's first tip; btcd serves no filters).
func TestStalledCoreCallDelaysNoOtherWallet(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	proxy := newHTTPStallProxy(t, node.HTTPURL(), stallHold)
	coldLoadUnderStall(t, stallBTC, node, proxy.URL(), proxy.staller, func(_ vectors.Wallet, paid chainhash.Hash) {
		proxy.Stall("getblock", paid.String())
	})
}

// TestStalledLitecoinCoreCallDelaysNoOtherWallet is the Core backend's
// proof on Litecoin Core (Debian's litecoind, block filters served): the
// backfill reads the filters, then the matching blocks; the stand-in holds
// back the getblock of the block that paid the wallet being loaded.
func TestStalledLitecoinCoreCallDelaysNoOtherWallet(t *testing.T) {
	node := harness.StartLitecoind(t, harness.WithBlockFilters())
	node.FundNodeWallet()
	node.Generate(101)
	proxy := newHTTPStallProxy(t, node.HTTPURL(), stallHold)
	coldLoadUnderStall(t, stallLTC, node, proxy.URL(), proxy.staller, func(_ vectors.Wallet, paid chainhash.Hash) {
		proxy.Stall("getblock", paid.String())
	})
}

// TestStalledElectrumCallDelaysNoOtherWallet is the same proof for the
// Electrum backend on a real ElectrumX: the stand-in holds back the reply
// to blockchain.scripthash.get_history, then (on a fresh node) to
// blockchain.scripthash.subscribe, of the loaded wallet's paid address.
func TestStalledElectrumCallDelaysNoOtherWallet(t *testing.T) {
	for _, method := range []string{"blockchain.scripthash.get_history", "blockchain.scripthash.subscribe"} {
		t.Run(method, func(t *testing.T) {
			node := harness.StartBtcd(t)
			node.Generate(101)
			x := electrumx.Start(t, electrumx.BtcdURL(node))
			x.WaitTip(node.BestHash())
			s := newStaller(stallHold)
			t.Cleanup(s.Release)
			p, err := electrumproxy.Start(x.Addr(), electrumStallHooks(s))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Stop)
			coldLoadUnderStall(t, stallBTC, node, p.TCP(), s, func(a vectors.Wallet, _ chainhash.Hash) {
				s.Stall(method, electrumx.ScriptHash(regtestScript(t, a.Receiving[0])))
			})
		})
	}
}

// stallCoin is the daemon a stall proof runs: its coin, its regtest
// vector wallets, and the variables naming the network and server.
type stallCoin struct {
	coin   string // daemon's coin name ("btc")
	vector func(t *testing.T, label string) vectors.Wallet
	env    func(server string) []string
}

var (
	stallBTC = stallCoin{coin: "btc", vector: vectorWallet,
		env: func(server string) []string { return []string{"BTC_NETWORK=regtest", "BTC_SERVER=" + server} }}
	stallLTC = stallCoin{coin: "ltc", vector: ltcVector,
		env: func(server string) []string { return []string{"LTC_NETWORK=regtest", "LTC_SERVER=" + server} }}
)

// coldLoadUnderStall starts the daemon of c on server (a stand-in in
// front of node). Wallet a is paid while not loaded; stall(a, the
// paying block) makes the stand-in s hold the node calls a's cold load
// needs. While a's first getbalance hangs on them, wallet b's request is
// paid, and b's payment must be reported in the mempool and in a block
// as usual (within 10 s; the times are logged). Once s lets go, a's load
// completes with its balance.
func coldLoadUnderStall(t *testing.T, c stallCoin, node *harness.Node, server string, s *staller, stall func(a vectors.Wallet, paid chainhash.Hash)) {
	t.Helper()
	d := daemon.Start(t, c.coin, c.env(server)...)
	waitSynced(t, d, node.Height())
	b := c.vector(t, "standard-account-xpub")
	a := c.vector(t, "p2wpkh-account-xpub")
	node.Fund(a.Receiving[0], 70_000) // history the cold load must find
	paid := node.Generate(1)[0]
	waitSynced(t, d, node.Height())
	var rb request
	d.Must(&rb, b.KeyMaterial, "add_request", "0.01")
	ws := d.Dial("")

	stall(a, paid)
	loaded := make(chan error, 1)
	var bal map[string]string
	go func() {
		raw, err := d.Call(a.KeyMaterial, "getbalance")
		if err == nil {
			err = json.Unmarshal(raw, &bal)
		}
		loaded <- err
	}()
	harness.WaitFor(t, 20*time.Second, "the cold load's history lookup held", func() bool { return s.Held() > 0 })

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
	if s.Held() == 0 {
		t.Fatal("the stand-in let the cold load's call go before the end: the test proves nothing")
	}
	s.Release()
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
