package wallet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// goldenEvent is one event the schema-1 engine published for the fixture
// store, with its exact payload bytes.
type goldenEvent struct {
	Seq      uint64 `json:"seq"`
	WalletID string `json:"wallet_id"`
	Payload  string `json:"payload"`
}

// TestSchemaOneEventsBecomeRecords: opening a store written by the
// schema-1 engine (testdata/store-v1.db, where events are stored as wire
// JSON) migrates every event to its typed record: each kind with its
// fields, new_payment's request id and the script of the request's
// address; the log replays them in order, and get_updates drains them.
func TestSchemaOneEventsBecomeRecords(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	path := filepath.Join(t.TempDir(), "v1.db")
	copyFile(t, "testdata/store-v1.db", path)
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: newFakeChain(), NoSync: true, PollingCap: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var golden []goldenEvent
	gj, err := os.ReadFile("testdata/events-v1.golden.json")
	if err != nil || json.Unmarshal(gj, &golden) != nil || len(golden) < 8 {
		t.Fatalf("golden events: %v", err)
	}
	evs, err := eng.EventsAfter(ctx, 0, 1000)
	if err != nil || len(evs) != len(golden) {
		t.Fatalf("%d events replayed, %d golden: %v", len(evs), len(golden), err)
	}
	w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[wallet.EventKind]int{}
	for i, g := range golden {
		ev := evs[i]
		var p struct {
			Event    string   `json:"event"`
			Height   int32    `json:"height"`
			Tx       string   `json:"tx"`
			Address  string   `json:"address"`
			Status   int      `json:"status"`
			TxHashes []string `json:"tx_hashes"`
			Sent     string   `json:"sent_amount"`
		}
		if err := json.Unmarshal([]byte(g.Payload), &p); err != nil {
			t.Fatal(err)
		}
		r := ev.Record
		kinds[r.Kind]++
		ok := ev.Seq == g.Seq && ev.WalletID == g.WalletID
		switch r.Kind {
		case wallet.EventBlock:
			ok = ok && p.Event == "new_block" && r.Height == p.Height && r.Height > 0
		case wallet.EventTransaction:
			ok = ok && p.Event == "new_transaction" && r.TxID == p.Tx && len(r.TxID) == 64
		case wallet.EventVerified:
			ok = ok && p.Event == "verified_tx" && r.TxID == p.Tx && r.Height == p.Height && r.Height > 0
		case wallet.EventPayment:
			req, err := w.GetRequest(ctx, p.Address)
			ok = ok && err == nil && p.Event == "new_payment" && r.RequestID == p.Address &&
				bytes.Equal(r.Script, req.PkScript) && r.Status == p.Status && slices.Equal(r.TxHashes, p.TxHashes) &&
				amount.Fixed(r.Sent) == p.Sent
		default:
			ok = false
		}
		if !ok {
			t.Errorf("event %d: %+v from %s", g.Seq, ev, g.Payload)
		}
	}
	if kinds[wallet.EventBlock] == 0 || kinds[wallet.EventTransaction] == 0 || kinds[wallet.EventVerified] == 0 ||
		kinds[wallet.EventPayment] < 3 {
		t.Fatalf("the fixture lacks a kind: %v", kinds)
	}
	ups, err := w.Updates(ctx)
	if err != nil || len(ups) != len(golden) || ups[len(ups)-1].Seq != golden[len(golden)-1].Seq {
		t.Fatalf("get_updates after the migration: %d events, %v", len(ups), err)
	}
}
