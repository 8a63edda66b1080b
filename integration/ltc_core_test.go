package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestLTCCore runs `walletd ltc` on Litecoin Core (Debian's litecoind,
// regtest, block filters served) through the Core JSON-RPC backend, all on
// one node: the acceptance check, a payout, a reorg by invalidateblock, the
// node restarted with blocks mined meanwhile, and the chain taken past MWEB
// activation (payments in blocks with MWEB data, an MWEB peg-out paying a
// request, MWEB destinations refused).
func TestLTCCore(t *testing.T) {
	node := harness.StartLitecoind(t, harness.WithBlockFilters())
	node.FundNodeWallet()
	node.Generate(101) // mature harness coins for Fund
	d := daemon.Start(t, "ltc", "LTC_NETWORK=regtest", "LTC_SERVER="+node.HTTPURL(), "LTC_BIRTHDAY=0")
	waitSynced(t, d, node.Height())
	vw := ltcVector(t, "p2wpkh-account-xpub")

	// The acceptance check: the request's address is the node's own
	// deriveaddresses for the wallet's key; a payment sent by the node's
	// wallet gives new_payment 7 within two seconds (default 250 ms
	// polling), then 3 after a block.
	t.Run("Acceptance", func(t *testing.T) {
		node := node.For(t)
		want := mustDeriveOne(t, node, "wpkh("+asTpub(t, vw.KeyMaterial)+"/0/*)")
		if want != vw.Receiving[0] {
			t.Fatalf("deriveaddresses %s, Electrum-LTC %s", want, vw.Receiving[0])
		}
		var txid string
		took := lifecycle(t, d, "LTC", vw.KeyMaterial, want, 2*time.Second,
			func(addr string) string { txid = node.SendFromNodeWallet(addr, "0.5"); return txid },
			func() int32 { node.Generate(1); return node.Height() })
		t.Logf("node wallet payment → new_payment 7: %v (poll interval 250ms)", took)
		i := info(t, d)
		if i.Backfill == nil || i.Backfill.Method != "bip158" || i.Backfill.Running || i.Backfill.Scans < 1 || i.Network != "regtest" {
			t.Fatalf("getinfo backfill: %+v", i.Backfill)
		}
	})

	seed := ltcVector(t, "electrum-segwit-seed")
	t.Run("Payout", func(t *testing.T) {
		node := node.For(t)
		var dest string
		mustCallNode(t, node, &dest, "getnewaddress")
		payout(t, node, d, seed.KeyMaterial, seed.Receiving[0], dest, "LTC")
	})

	// Litecoin Core's dust rule (-dustrelayfee 0.0003 LTC/kvB, ten times
	// Bitcoin's) is walletd's: litecoind refuses a p2wpkh output of 2939
	// litoshis as dust and walletd refuses to build it; 2940 is relayed.
	t.Run("Dust", func(t *testing.T) {
		node := node.For(t)
		var dest string
		mustCallNode(t, node, &dest, "getnewaddress", "", "bech32")
		// The node wallet's own checks refuse the output first
		// ("Transaction amount too small"): build the spend by hand.
		var coins []struct {
			TxID   string      `json:"txid"`
			Vout   int         `json:"vout"`
			Amount json.Number `json:"amount"`
		}
		mustCallNode(t, node, &coins, "listunspent", 1)
		if len(coins) == 0 {
			t.Fatal("the node wallet has no coins")
		}
		var change string
		mustCallNode(t, node, &change, "getrawchangeaddress", "bech32")
		left := parseSats(t, coins[0].Amount.String()) - 2939 - 10_000
		var raw string
		mustCallNode(t, node, &raw, "createrawtransaction",
			[]any{map[string]any{"txid": coins[0].TxID, "vout": coins[0].Vout}},
			map[string]any{dest: "0.00002939", change: fmt.Sprintf("%d.%08d", left/1e8, left%1e8)})
		var signed struct {
			Hex string `json:"hex"`
		}
		mustCallNode(t, node, &signed, "signrawtransactionwithwallet", raw)
		var accept []struct {
			Allowed bool   `json:"allowed"`
			Reason  string `json:"reject-reason"`
		}
		mustCallNode(t, node, &accept, "testmempoolaccept", []string{signed.Hex})
		if len(accept) != 1 || accept[0].Allowed || accept[0].Reason != "dust" {
			t.Fatalf("litecoind on a 2939-litoshi output: %+v", accept)
		}
		re := rpcErr(t, d, seed.KeyMaterial, "payto", dest, "0.00002939")
		if re.Code != -32602 || !strings.Contains(re.Message, "dust") {
			t.Fatalf("payto 2939 litoshis = %d %q", re.Code, re.Message)
		}
		var tx string
		d.Must(&tx, seed.KeyMaterial, "payto", dest, "0.0000294")
		var txid string
		d.Must(&txid, seed.KeyMaterial, "broadcast", tx)
		if !node.InMempool(decodeHexTx(t, tx).TxHash()) {
			t.Fatalf("the 2940-litoshi payout %s is not in litecoind's mempool", txid)
		}
	})

	t.Run("ReorgByInvalidate", func(t *testing.T) {
		node := node.For(t)
		reorgByInvalidate(t, node, d, vw.KeyMaterial)
	})

	// The node goes away and comes back; the payment and blocks made
	// before walletd reconnects are caught up.
	t.Run("NodeRestart", func(t *testing.T) {
		node := node.For(t)
		r := addCoinRequest(t, d, vw.KeyMaterial, "0.4")
		node.Restart()
		node.Fund(r.Address, 40_000_000)
		node.Generate(2)
		waitSynced(t, d, node.Height())
		if got := getCoinRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 3 || got.Confirmations != 2 {
			t.Fatalf("after the node restart: %+v", got)
		}
	})

	t.Run("MWEB", func(t *testing.T) {
		node := node.For(t)
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(vw.KeyMaterial)
		node.ActivateMWEB()
		waitSynced(t, d, node.Height())
		// A canonical payment confirmed in a block with MWEB data.
		r := addCoinRequest(t, d, vw.KeyMaterial, "0.2")
		node.Fund(r.Address, 20_000_000)
		ws.Next(10*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		node.Generate(1)
		ws.Next(10*time.Second, "new_payment 3 in an MWEB block", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))

		// An MWEB peg-out paying a request: invisible in the mempool
		// (an MWEB-only transaction), an output of the block's HogEx.
		r = addCoinRequest(t, d, vw.KeyMaterial, "0.5")
		node.PegOutTo(r.Address, "0.5")
		node.Generate(1)
		ws.Next(10*time.Second, "the peg-out paid the request", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
		waitSynced(t, d, node.Height())

		var mweb string
		mustCallNode(t, node, &mweb, "getnewaddress", "", "mweb")
		refusesMWEB(t, d, seed.KeyMaterial, mweb)
		var valid bool
		d.Must(&valid, "", "validateaddress", mweb)
		if valid {
			t.Fatal("validateaddress accepts an MWEB address (Electrum-LTC's is_address does not)")
		}
	})
}
