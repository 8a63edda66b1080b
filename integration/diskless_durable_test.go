package integration

import (
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
)

// TestDisklessThenDurableSurvivesRestart is the merchant's "generate
// wallet" flow followed by invoices, then a restart: make_seed → getmpk
// with {"xpub": seed, "diskless": true} → close_wallet → add_request with
// the returned mpk (no diskless) → restart → get_request keeps the
// request. Then the payout flow: a key opened diskless first (a payout
// with the private key), then its public key durably without a close: the
// requests of both survive a kill -9 and restart, and payments to them
// after the restart are reported.
func TestDisklessThenDurableSurvivesRestart(t *testing.T) {
	node, d := startBTC(t)
	var seed string
	d.Must(&seed, "", "make_seed")
	var mpk string
	d.Must(&mpk, map[string]any{"xpub": seed, "diskless": true}, "getmpk")
	d.Must(nil, map[string]any{"xpub": seed, "diskless": true}, "close_wallet")
	var r request
	d.Must(&r, mpk, "add_request", "0.01", "invoice 1")

	// Payout flow: the private key first, diskless, then the xpub.
	payout := vectorWallet(t, "electrum-segwit-seed")
	var bal map[string]string
	d.Must(&bal, map[string]any{"xpub": payout.KeyMaterial, "diskless": true}, "getbalance")
	var r2 request
	d.Must(&r2, payout.MPK, "add_request", "0.02", "invoice 2")

	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	d.Restart()
	waitSynced(t, d, node.Height())
	if got := getRequest(t, d, mpk, r.RequestID); got.Message != "invoice 1" || got.Address != r.Address {
		t.Fatalf("the merchant's request after a restart: %+v", got)
	}
	if got := getRequest(t, d, payout.MPK, r2.RequestID); got.Message != "invoice 2" || got.Address != r2.Address {
		t.Fatalf("the payout wallet's request after a restart: %+v", got)
	}
	ws := d.Dial("")
	node.Fund(r.Address, 1_000_000)
	ws.Next(10*time.Second, "payment after restart", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	d.Kill()
	node.Fund(r2.Address, 2_000_000)
	node.Generate(1)
	d.Restart()
	waitSynced(t, d, node.Height())
	if got := getRequest(t, d, payout.MPK, r2.RequestID); got.Status != 3 || got.SentAmount != "0.02000000" {
		t.Fatalf("payment while down: %+v", got)
	}
}
