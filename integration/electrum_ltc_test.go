package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/electrumx"
	"github.com/walletd/walletd/integration/harness"
)

// ltcScript returns the output script of a Litecoin regtest address.
func ltcScript(t *testing.T, addr string) []byte { return netScript(t, params.LTC, addr) }

// TestElectrumLTC runs `daemon ltc` on the Electrum backend against a real
// ElectrumX over litecoind (COIN=Litecoin), all on one stack: the issue's
// acceptance (a request paid by litecoind's own wallet gives new_payment 7,
// then 3 after a block; get_transaction counts the confirmations; getinfo
// names the server), the detection latency beside ElectrumX's own, a
// payout, a reorganisation by invalidateblock, a restart (kill -9) that
// resumes the verified header chain from the data directory, and the chain
// taken past MWEB activation (payments in blocks ending with a HogEx, a
// peg-out paying a request, MWEB destinations refused).
func TestElectrumLTC(t *testing.T) {
	node := harness.StartLitecoind(t)
	node.FundNodeWallet()
	node.Generate(101) // mature harness coins for Fund
	x := electrumx.Start(t, node.HTTPURL(), electrumx.WithCoin("Litecoin"))
	x.WaitTip(node.BestHash())
	d := daemon.Start(t, "ltc", "LTC_NETWORK=regtest", "LTC_SERVER="+x.TCP())
	waitSynced(t, d, node.Height())
	vw := ltcVector(t, "p2wpkh-account-xpub")

	t.Run("Acceptance", func(t *testing.T) {
		node := node.For(t)
		var txid string
		took := lifecycle(t, d, "LTC", vw.KeyMaterial, vw.Receiving[0], 20*time.Second,
			func(addr string) string { txid = node.SendFromNodeWallet(addr, "0.5"); return txid },
			func() int32 { node.Generate(1); return node.Height() })
		t.Logf("litecoind wallet payment → new_payment 7 over ElectrumX: %v", took)
		if c := txConfirmations(t, d, txid); c != 1 {
			t.Fatalf("get_transaction after the block: %d confirmations", c)
		}
		node.Generate(2)
		waitSynced(t, d, node.Height())
		if c := txConfirmations(t, d, txid); c != 3 {
			t.Fatalf("get_transaction after two more blocks: %d confirmations", c)
		}
		var gi struct {
			Server    string `json:"server"`
			Connected bool   `json:"connected"`
			Network   string `json:"network"`
		}
		d.Must(&gi, "", "getinfo")
		if gi.Server != "127.0.0.1" || !gi.Connected || gi.Network != "regtest" {
			t.Fatalf("getinfo: %+v (server: the host in use)", gi)
		}
	})

	// Detection latency over ten payments from litecoind's wallet:
	// → ElectrumX's own notification to a subscriber, → walletd's
	// new_payment.
	t.Run("DetectionLatency", func(t *testing.T) {
		node := node.For(t)
		seed := ltcVector(t, "electrum-standard-seed")
		// A seed wallet's events carry its master public key.
		detectionLatency(t, d, x, seed.KeyMaterial, seed.MPK, func(a string) []byte { return ltcScript(t, a) },
			func(a string) { node.SendFromNodeWallet(a, "0.01") })
		node.Generate(1)
		waitSynced(t, d, node.Height())
	})

	seed := ltcVector(t, "electrum-segwit-seed")
	t.Run("Payout", func(t *testing.T) {
		node := node.For(t)
		var dest string
		node.Must(&dest, "getnewaddress")
		payout(t, node, d, seed.KeyMaterial, seed.Receiving[0], dest, "LTC")
	})

	// The block holding a payment is invalidated; ElectrumX follows once
	// litecoind's new chain is longer: the payment goes back to
	// unconfirmed, then is paid again in the new chain.
	t.Run("Reorg", func(t *testing.T) {
		electrumReorg(t, node.For(t), d, ltcVector(t, "standard-account-xpub").KeyMaterial, func(a string) []byte { return ltcScript(t, a) })
	})

	// kill -9 and start again: the verified header chain is resumed from
	// the data directory (not verified again), blocks mined meanwhile are
	// caught up, and payments are seen.
	t.Run("Restart", func(t *testing.T) {
		node := node.For(t)
		d.Kill()
		node.Generate(2)
		d.Restart()
		waitSynced(t, d, node.Height())
		if !strings.Contains(d.Logs(), "verified header chain resumed") {
			t.Fatalf("the restart did not resume the header chain:\n%s", d.Logs())
		}
		r := addCoinRequest(t, d, vw.KeyMaterial, "0.2")
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(vw.KeyMaterial)
		node.SendFromNodeWallet(r.Address, "0.2")
		ws.Next(20*time.Second, "new_payment 7 after the restart", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		node.Generate(1)
		ws.Next(20*time.Second, "new_payment 3 after the restart", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	})

	t.Run("MWEB", func(t *testing.T) {
		node := node.For(t)
		key := ltcVector(t, "p2wpkh-p2sh-account-xpub").KeyMaterial
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(key)
		node.ActivateMWEB()
		waitSynced(t, d, node.Height())
		// A canonical payment confirmed in a block with MWEB data.
		r := addCoinRequest(t, d, key, "0.2")
		node.Fund(r.Address, 20_000_000)
		ws.Next(20*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		node.Generate(1)
		ws.Next(20*time.Second, "new_payment 3 in an MWEB block", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))

		// An MWEB peg-out paying a request: invisible in the mempool (an
		// MWEB-only transaction), an output of the block's HogEx, which
		// ElectrumX serves with the MWEB flag.
		r = addCoinRequest(t, d, key, "0.5")
		node.PegOutTo(r.Address, "0.5")
		blk := node.Block(node.Generate(1)[0])
		hogEx := blk.Transactions[len(blk.Transactions)-1].TxHash().String()
		ws.Next(20*time.Second, "the peg-out paid the request", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
		if got := getCoinRequest(t, d, key, r.RequestID); got.Status != 3 || len(got.TxHashes) != 1 || got.TxHashes[0] != hogEx {
			t.Fatalf("get_request of the peg-out: %+v (HogEx %s)", got, hogEx)
		}
		if c := txConfirmations(t, d, hogEx); c != 1 {
			t.Fatalf("get_transaction of the HogEx: %d confirmations", c)
		}

		var mweb string
		node.Must(&mweb, "getnewaddress", "", "mweb")
		refusesMWEB(t, d, seed.KeyMaterial, mweb)
		raw, err := d.Call("", "getinfo")
		var gi struct {
			Connected bool `json:"connected"`
		}
		if err != nil || json.Unmarshal(raw, &gi) != nil || !gi.Connected {
			t.Fatalf("getinfo after MWEB: %s %v (the server was dropped?)", raw, err)
		}
	})
}
