package utxo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/coins/wallet"
)

// TestRenderedEventsAreSchemaOnesBytes: a store written by the schema-1
// engine, which logged Bitcart's wire JSON, is opened by the BTC daemon (its
// events migrate to typed records); every event the daemon renders from the
// log, through the hub's replay (GET /ws?since=0, real HTTP), has exactly
// the bytes the old engine published (coins/wallet/testdata), for every
// kind: new_block, new_transaction, verified_tx and new_payment with the
// request id as address.
func TestRenderedEventsAreSchemaOnesBytes(t *testing.T) {
	var golden []struct {
		Seq      uint64 `json:"seq"`
		WalletID string `json:"wallet_id"`
		Payload  string `json:"payload"`
	}
	raw, err := os.ReadFile("../../coins/wallet/testdata/events-v1.golden.json")
	if err != nil || json.Unmarshal(raw, &golden) != nil || len(golden) < 8 {
		t.Fatalf("golden events: %v", err)
	}
	dir := t.TempDir()
	store, err := os.ReadFile("../../coins/wallet/testdata/store-v1.db")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "btc-regtest.db"), store, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Login: "electrum", Password: "electrumz", Network: "regtest", MaxBodyBytes: 1 << 20, MaxBatch: 10,
		DataPath: dir, WSQueue: 64}
	d, err := New(context.Background(), btcCoin(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d.Handler())
	t.Cleanup(func() { _ = d.CloseClients(context.Background()); ts.Close(); _ = d.Close() })

	kinds := map[string]bool{}
	evs, err := d.engine.EventsAfter(context.Background(), 0, 1000)
	if err != nil || len(evs) != len(golden) {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, g := range golden {
		if got := string(d.renderEvent(evs[i])); got != g.Payload {
			t.Errorf("event %d renders\n%s\nthe schema-1 engine published\n%s", g.Seq, got, g.Payload)
		}
		var e struct{ Event string }
		_ = json.Unmarshal([]byte(g.Payload), &e)
		kinds[e.Event] = true
	}
	if len(kinds) != 4 {
		t.Fatalf("the golden events lack a kind: %v", kinds)
	}
	if got := d.renderEvents([]wallet.Event{evs[1]}); len(got) != 1 || string(got[0]) != golden[1].Payload {
		t.Errorf("get_updates renders %s", got)
	}

	// The replay of GET /ws?since=0 carries the same bytes.
	hdr := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("electrum:electrumz"))}}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws?since=0", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, g := range golden {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var frame struct {
			Updates []json.RawMessage `json:"updates"`
		}
		if err := conn.ReadJSON(&frame); err != nil {
			t.Fatal(err)
		}
		if len(frame.Updates) != 1 || string(frame.Updates[0]) != g.Payload {
			t.Fatalf("replayed frame %s, want %s", frame.Updates, g.Payload)
		}
	}
}

// TestRenderedPaymentIsNotHTMLEscaped: event JSON keeps "&", "<" and ">"
// as they are, as Python's json module writes them.
func TestRenderedPaymentIsNotHTMLEscaped(t *testing.T) {
	d := &Daemon{}
	got := string(d.renderEvent(wallet.Event{Seq: 3, Record: wallet.EventRecord{Kind: wallet.EventPayment, RequestID: "a&b<c>"}}))
	if want := `{"address":"a&b<c>","event":"new_payment","sent_amount":"0.00000000","seq":3,"status":0,"status_str":"Unpaid","tx_hashes":[]}`; got != want {
		t.Fatalf("%s, want %s", got, want)
	}
}
