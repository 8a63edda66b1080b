package wallet_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/walletd/walletd/coins/wallet"
)

// TestWriteV1Fixture writes a store made by this engine (schema 1, events
// stored as wire JSON) and the payload of every event it logged, for the
// typed-events migration test. It runs only when WALLETD_WRITE_V1_FIXTURE
// names the output folder.
func TestWriteV1Fixture(t *testing.T) {
	dir := os.Getenv("WALLETD_WRITE_V1_FIXTURE")
	if dir == "" {
		t.Skip("set WALLETD_WRITE_V1_FIXTURE to write the fixture")
	}
	ctx := context.Background()
	path := filepath.Join(dir, "store-v1.db")
	_ = os.Remove(path)
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, path, fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	req, err := w.AddRequest(ctx, 50_000_000, "memo & more", 900, false)
	if err != nil {
		t.Fatal(err)
	}
	req2, err := w.AddRequest(ctx, 0, "", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := ev.net.PkScript(req.Address)
	script2, _ := ev.net.PkScript(req2.Address)
	seen := 0
	fc.mempoolAdd(payTx(script, 20_000_000, 1))
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	fc.mempoolAdd(payTx(script, 30_000_000, 2))
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Status == wallet.StatusUnconfirmed })
	fc.mine(payTx(script2, 1234, 3))
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Status == wallet.StatusPaid })
	fc.mine()
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_block" && b.Height == 3 })
	all, err := ev.eng.EventsAfter(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	type golden struct {
		Seq      uint64 `json:"seq"`
		WalletID string `json:"wallet_id"`
		Payload  string `json:"payload"` // the exact bytes
	}
	var out []golden
	for _, e := range all {
		out = append(out, golden{Seq: e.Seq, WalletID: e.WalletID, Payload: string(e.Payload)})
	}
	raw, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events-v1.golden.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	ev.close()
}
