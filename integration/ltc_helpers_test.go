package integration

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
	"github.com/walletd/walletd/internal/vectors"
)

// coinRequest is get_request's reply, for any ticker (amount_<TICKER>).
type coinRequest struct {
	RequestID     string   `json:"request_id"`
	AmountSat     int64    `json:"amount_sat"`
	Address       string   `json:"address"`
	URI           string   `json:"URI"`
	Status        int      `json:"status"`
	TxHashes      []string `json:"tx_hashes"`
	Confirmations int64    `json:"confirmations"`
	amounts       map[string]any
}

func addCoinRequest(t *testing.T, d *daemon.Proc, key string, amount any) coinRequest {
	t.Helper()
	raw, err := d.Call(key, "add_request", amount)
	if err != nil {
		t.Fatalf("add_request: %v", err)
	}
	return decodeCoinRequest(t, raw)
}

func getCoinRequest(t *testing.T, d *daemon.Proc, key, id string) coinRequest {
	t.Helper()
	raw, err := d.Call(key, "get_request", id)
	if err != nil {
		t.Fatalf("get_request: %v", err)
	}
	return decodeCoinRequest(t, raw)
}

func decodeCoinRequest(t *testing.T, raw json.RawMessage) coinRequest {
	t.Helper()
	var r coinRequest
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &r.amounts); err != nil {
		t.Fatal(err)
	}
	return r
}

// ltcVector returns a regtest wallet of the Electrum-LTC vectors.
func ltcVector(t *testing.T, label string) vectors.Wallet {
	t.Helper()
	for _, w := range vectors.LoadLTC(t).Networks["regtest"].Wallets {
		if w.Label == label {
			return w
		}
	}
	t.Fatalf("no Electrum-LTC vector %s", label)
	return vectors.Wallet{}
}

// asTpub re-encodes an extended public key (vpub/upub) with the tpub
// version, the form Core's descriptors take.
func asTpub(t *testing.T, key string) string {
	t.Helper()
	k, err := hdkeychain.NewKeyFromString(key)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := k.CloneWithVersion([]byte{0x04, 0x35, 0x87, 0xcf})
	if err != nil {
		t.Fatal(err)
	}
	return tp.String()
}

// lifecycle is the invoice lifecycle on any coin and backend: a request
// for 0.5 coins at want (the expected address), paid by pay (which returns
// the txid) → new_payment 7 within mempoolWithin → mine → verified_tx and
// new_payment 3 → get_request paid with its confirmations. It returns the
// time from pay's return (the transaction in the node's mempool) to the
// status-7 frame.
func lifecycle(t *testing.T, d *daemon.Proc, ticker, key, want string, mempoolWithin time.Duration,
	pay func(addr string) string, mine func() int32) time.Duration {
	t.Helper()
	ws := d.Dial("")
	defer ws.Close()
	ws.Filter(key)
	r := addCoinRequest(t, d, key, "0.5")
	if r.Address != want || r.AmountSat != 50_000_000 || r.Status != 0 || r.amounts["amount_"+ticker] != "0.5" {
		t.Fatalf("add_request: %+v (want address %s, amount_%s)", r, want, ticker)
	}
	txid := pay(r.Address)
	sent := time.Now() // the transaction is in the node's mempool
	f := ws.Next(mempoolWithin, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	took := f.At.Sub(sent)
	if f.Currency != ticker || f.Event()["sent_amount"] != "0.50000000" {
		t.Fatalf("frame: %+v", f)
	}
	if got := getCoinRequest(t, d, key, r.RequestID); got.Status != 7 || len(got.TxHashes) != 1 || got.TxHashes[0] != txid {
		t.Fatalf("get_request after mempool: %+v (txid %s)", got, txid)
	}
	h := mine()
	ws.Next(10*time.Second, "verified_tx", daemon.IsEvent("verified_tx", map[string]any{"tx": txid, "height": h}))
	ws.Next(10*time.Second, "new_payment 3", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	if got := getCoinRequest(t, d, key, r.RequestID); got.Status != 3 || got.Confirmations != 1 {
		t.Fatalf("get_request after block: %+v", got)
	}
	return took
}

// getInfo is getinfo's reply.
type getInfo struct {
	Synchronized bool   `json:"synchronized"`
	Height       int32  `json:"blockchain_height"`
	ServerHeight int32  `json:"server_height"`
	Connected    bool   `json:"connected"`
	Network      string `json:"network"`
	Backfill     *struct {
		Method     string `json:"method"`
		Running    bool   `json:"running"`
		FromHeight int32  `json:"from_height"`
		ToHeight   int32  `json:"to_height"`
		Height     int32  `json:"height"`
		Scans      int64  `json:"scans"`
	} `json:"backfill"`
}

func info(t *testing.T, d *daemon.Proc) getInfo {
	t.Helper()
	var i getInfo
	d.Must(&i, "", "getinfo")
	return i
}

// reorgByInvalidate: a request paid in block B goes back to unconfirmed
// when B is invalidated (the tx returns to the mempool), and is paid again
// in the replacement block.
func reorgByInvalidate(t *testing.T, node *harness.Node, d *daemon.Proc, key string) {
	t.Helper()
	ws := d.Dial("")
	defer ws.Close()
	ws.Filter(key)
	r := addCoinRequest(t, d, key, "0.3")
	node.Fund(r.Address, 30_000_000)
	b := node.Generate(1)[0]
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	node.InvalidateBlock(b)
	ws.Next(20*time.Second, "unconfirmed after the reorg", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	waitSynced(t, d, node.Height())
	if got := getCoinRequest(t, d, key, r.RequestID); got.Status != 7 || got.Confirmations != 0 {
		t.Fatalf("after the reorg: %+v", got)
	}
	node.Generate(1)
	ws.Next(20*time.Second, "paid again", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
}

// payout: a seed wallet funded by the node pays dest with payto and
// broadcast; the node has the transaction, and after a block the wallet's
// balance is the funding minus the payment and the fee.
func payout(t *testing.T, node *harness.Node, d *daemon.Proc, seed, fundAddr, dest, ticker string) {
	t.Helper()
	d.Must(nil, seed, "getbalance")
	node.Fund(fundAddr, 100_000_000)
	node.Generate(1)
	waitSynced(t, d, node.Height())
	waitBalance(t, d, seed, "1.00000000", "")
	var signed string
	d.Must(&signed, seed, "payto", dest, "0.1")
	tx := decodeHexTx(t, signed)
	var txid string
	d.Must(&txid, seed, "broadcast", signed)
	if txid != tx.TxHash().String() || !node.InMempool(tx.TxHash()) {
		t.Fatalf("broadcast %s: not in the node's mempool", txid)
	}
	var fee string
	d.Must(&fee, seed, "get_used_fee", txid)
	if f := parseSats(t, fee); f <= 0 || f > 1_000_000 {
		t.Fatalf("get_used_fee = %s", fee)
	}
	node.Generate(1)
	waitSynced(t, d, node.Height())
	harness.WaitFor(t, 20*time.Second, "balance after the payout", func() bool {
		var bal map[string]string
		raw, err := d.Call(seed, "getbalance")
		if err != nil || json.Unmarshal(raw, &bal) != nil {
			return false
		}
		left := parseSats(t, bal["confirmed"])
		return left < 90_000_000 && left > 89_000_000 && bal["unconfirmed"] == ""
	})
	var hist []map[string]any // Electrum 4.6's onchain_history: a list
	d.Must(&hist, seed, "onchain_history")
	found := false
	for _, h := range hist {
		found = found || h["txid"] == txid
	}
	if !found {
		t.Fatalf("%s payout %s not in onchain_history: %v", ticker, txid, hist)
	}
}

// refusesMWEB: payto to an MWEB address is an invalid-address error that
// says why.
func refusesMWEB(t *testing.T, d *daemon.Proc, seed, mwebAddr string) {
	t.Helper()
	re := rpcErr(t, d, seed, "payto", mwebAddr, "0.01")
	if re.Code != -32004 || !strings.Contains(re.Message, "MWEB") {
		t.Fatalf("payto(MWEB address) = %d %q", re.Code, re.Message)
	}
}

func mustDeriveOne(t *testing.T, node *harness.Node, desc string) string {
	t.Helper()
	addrs := node.DeriveAddresses(desc, 0, 0)
	if len(addrs) != 1 {
		t.Fatalf("deriveaddresses %s: %v", desc, addrs)
	}
	return addrs[0]
}

// mustCallNode calls the node's RPC and decodes the result into out.
func mustCallNode(t *testing.T, node *harness.Node, out any, method string, params ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	raw, err := node.Call(ctx, method, params...)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
}
