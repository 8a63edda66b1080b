package integration

import (
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// TestLTCLtcd runs `walletd ltc` on ltcd through the websocket backend:
// the invoice lifecycle (Electrum-LTC's address), a payout, and a reorg
// between two ltcd nodes (ltcd has no invalidateblock).
func TestLTCLtcd(t *testing.T) {
	a := harness.StartLtcd(t)
	// ltcd's regtest activates segwit by BIP9 signalling: 3 windows of
	// 144 blocks (walletd's P2WPKH payouts need it).
	a.Generate(432)
	d := daemon.Start(t, "ltc", "LTC_NETWORK=regtest", "LTC_SERVER="+a.WSURL())
	waitSynced(t, d, a.Height())
	vw := ltcVector(t, "p2wpkh-account-xpub")

	t.Run("InvoiceLifecycle", func(t *testing.T) {
		a := a.For(t)
		var txid string
		took := lifecycle(t, d, "LTC", vw.KeyMaterial, vw.Receiving[0], 10*time.Second,
			func(addr string) string { txid = a.Fund(addr, 50_000_000).String(); return txid },
			func() int32 { a.Generate(1); return a.Height() })
		t.Logf("payment → new_payment 7 on ltcd: %v", took)
	})

	t.Run("Payout", func(t *testing.T) {
		a := a.For(t)
		seed := ltcVector(t, "electrum-segwit-seed")
		_, dest := a.NewScript(harness.P2WPKH)
		payout(t, a, d, seed.KeyMaterial, seed.Receiving[0], dest.EncodeAddress(), "LTC")
	})

	t.Run("Reorg", func(t *testing.T) {
		a := a.For(t)
		b := harness.StartLtcd(t)
		b.ConnectPeer(a)
		b.WaitSynced(a)
		a.Disconnect(b)
		ws := d.Dial("")
		defer ws.Close()
		ws.Filter(vw.KeyMaterial)
		r := addCoinRequest(t, d, vw.KeyMaterial, "0.3")
		a.Fund(r.Address, 30_000_000)
		a.Generate(1)
		ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
		b.Generate(3)
		b.ConnectPeer(a)
		a.WaitSynced(b)
		ws.Next(20*time.Second, "unconfirmed after the reorg", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		waitSynced(t, d, a.Height())
		a.Generate(1)
		ws.Next(20*time.Second, "paid again", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	})
}
