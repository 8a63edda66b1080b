package integration

import (
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestCoreBTCOnBtcdHTTP runs the BTC daemon on the Core JSON-RPC backend
// against btcd's own HTTP RPC (BTC_SERVER=http://…): the invoice lifecycle,
// a reorg by invalidateblock, and a wallet loaded after its payment (its
// history found by reading blocks: btcd serves no BIP158 filters over RPC).
func TestCoreBTCOnBtcdHTTP(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+node.HTTPURL(), "BTC_BIRTHDAY=0")
	waitSynced(t, d, node.Height())
	vw := vectorWallet(t, "p2wpkh-account-xpub")

	t.Run("InvoiceLifecycle", func(t *testing.T) {
		node := node.For(t)
		var txid string
		took := lifecycle(t, d, "BTC", vw.KeyMaterial, vw.Receiving[0], 10*time.Second,
			func(addr string) string { txid = node.Fund(addr, 50_000_000).String(); return txid },
			func() int32 { node.Generate(1); return node.Height() })
		t.Logf("payment → new_payment 7 (250 ms polling): %v", took)
	})

	t.Run("ReorgByInvalidate", func(t *testing.T) {
		node := node.For(t)
		reorgByInvalidate(t, node, d, vw.KeyMaterial)
	})

	t.Run("HistoryOfANewWallet", func(t *testing.T) {
		node := node.For(t)
		other := vectorWallet(t, "p2wpkh-p2sh-account-xpub")
		node.Fund(other.Receiving[0], 12_000_000)
		node.Generate(1)
		waitSynced(t, d, node.Height())
		waitBalance(t, d, other.KeyMaterial, "0.12000000", "")
		i := info(t, d)
		if i.Backfill == nil || i.Backfill.Method != "blocks" || i.Backfill.FromHeight != 0 || i.Backfill.Height != i.Backfill.ToHeight {
			t.Fatalf("getinfo backfill: %+v", i.Backfill)
		}
		r := addCoinRequest(t, d, other.KeyMaterial, "0.01")
		if r.Address != other.Receiving[1] {
			t.Fatalf("the next request reuses a paid address: %s", r.Address)
		}
	})
}
