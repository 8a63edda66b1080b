package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/integration/daemon"
)

// TestTwoPartPaymentConfirmations (fidelity review G2): a request paid by
// two transactions, the first buried under ten blocks when the second
// arrives, reports the confirmations of the least-confirmed payment it
// needs (Electrum's conf_needed), so a merchant waiting for N
// confirmations waits for the top-up's, not the first part's.
func TestTwoPartPaymentConfirmations(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	ws := d.Dial("")
	var r request
	d.Must(&r, vw.KeyMaterial, "add_request", "0.01")
	node.Fund(r.Address, 400_000)
	ws.Next(10*time.Second, "first part", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 0}))
	node.Generate(10)
	waitSynced(t, d, node.Height())
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 0 || got.SentAmount != "0.00400000" {
		t.Fatalf("after the first part: %+v", got)
	}
	top := node.Fund(r.Address, 600_000)
	ws.Next(10*time.Second, "top-up in the mempool", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 7 || got.Confirmations != 0 || len(got.TxHashes) != 2 {
		t.Fatalf("top-up unconfirmed: %+v (the first part's 10 confirmations must not count)", got)
	}
	node.Generate(1)
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Status != 3 || got.Confirmations != 1 || got.SentAmount != "0.01000000" {
		t.Fatalf("top-up in a block: %+v, want 1 confirmation (the top-up's), not 11", got)
	}
	node.Generate(2)
	waitSynced(t, d, node.Height())
	if got := getRequest(t, d, vw.KeyMaterial, r.RequestID); got.Confirmations != 3 {
		t.Fatalf("two blocks later: %+v", got)
	}
	var st map[string]int64
	d.Must(&st, vw.KeyMaterial, "get_tx_status", top.String())
	if st["confirmations"] != 3 {
		t.Fatalf("get_tx_status(top-up): %v", st)
	}
}

// TestAddRequestGapExhausted (fidelity review G8): with every address of
// the gap limit taken by a request, add_request without force answers
// false as Electrum does (the SDK always sends force=true, which derives
// past the gap).
func TestAddRequestGapExhausted(t *testing.T) {
	_, d := startBTC(t)
	vw := vectorWallet(t, "standard-account-xpub")
	for i := range 20 {
		var r request
		d.Must(&r, vw.KeyMaterial, "add_request", "0.001")
		if i < len(vw.Receiving) && r.Address != vw.Receiving[i] {
			t.Fatalf("request %d on %s, want %s", i, r.Address, vw.Receiving[i])
		}
	}
	raw, err := d.Call(vw.KeyMaterial, "add_request", "0.001")
	if err != nil || string(raw) != "false" {
		t.Fatalf("add_request past the gap: %s, %v; want false", raw, err)
	}
	var r request
	d.Must(&r, "", "add_request", map[string]any{"amount": "0.001", "force": true, "xpub": vw.KeyMaterial})
	if r.Address == "" || r.Status != 0 {
		t.Fatalf("forced add_request: %+v", r)
	}
}

// TestWireIsNotHTMLEscaped (fidelity review G12): replies carry "&", "<"
// and ">" as Bitcart's daemons (Python's json.dumps) write them, not as
// \u0026, \u003c, \u003e (encoding/json's default), in a request's URI and
// memo, in the fast reply path and in encoding/json's.
func TestWireIsNotHTMLEscaped(t *testing.T) {
	_, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	raw, err := d.Call(vw.KeyMaterial, "add_request", "0.5", "a&b <c>", 900)
	if err != nil {
		t.Fatal(err)
	}
	var r request
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`?amount=0.5&message=a%26b%20%3Cc%3E&time=`, `"message":"a&b <c>"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("add_request reply lacks %s: %s", want, raw)
		}
	}
	for _, call := range [][]any{{"get_request", r.RequestID}, {"list_requests"}} {
		raw, err := d.Call(vw.KeyMaterial, call[0].(string), call[1:]...)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), `\u0026`) || strings.Contains(string(raw), `\u003c`) || !strings.Contains(string(raw), "&message=") {
			t.Errorf("%s: HTML-escaped: %s", call[0], raw)
		}
	}
	raw, err = d.Call("", "modifypaymenturl", r.URI, "0.6")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), `\u0026`) || !strings.Contains(string(raw), "&message=") {
		t.Errorf("modifypaymenturl: HTML-escaped: %s", raw)
	}
}
