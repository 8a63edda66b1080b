package integration

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// txFee is a decoded transaction's fee given its inputs' values.
func txFee(tx *wire.MsgTx, in int64) int64 {
	for _, o := range tx.TxOut {
		in -= o.Value
	}
	return in
}

// TestFeeCaps: payto refuses an absolute fee or a fee rate above the caps
// (Bitcoin Core's 0.1 BTC and 0.1 BTC/kvB) unless allow_high_fee=true; the
// caps are configurable and also guard the default fee and bumpfee.
func TestFeeCaps(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	fundAndConfirm(t, node, d, seed, []string{vw.Receiving[0]}, []int64{150 * 100_000_000}, "150.00000000")
	dest := vw.Receiving[3]
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{"fee", "100"}, "BTC_MAX_TX_FEE"},
		{[]any{"fee", "0.10000001"}, "BTC_MAX_TX_FEE"},
		{[]any{"feerate", 100_000}, "BTC_MAX_FEE_RATE"},
		{[]any{"feerate", "10000.001"}, "BTC_MAX_FEE_RATE"},
	} {
		e := rpcErr(t, d, "", "payto", dest, "0.001", named(seed, tc.args...))
		if e.Code != -32602 || !strings.Contains(e.Message, tc.want) || !strings.Contains(e.Message, "allow_high_fee") {
			t.Fatalf("payto %v: %+v, want -32602 naming %s", tc.args, e, tc.want)
		}
	}
	// At the rate cap, and above the caps when the call says it knows.
	var raw string
	d.Must(&raw, "", "payto", dest, "0.001", named(seed, "feerate", 10_000))
	if f := txFee(decodeHexTx(t, raw), 150*100_000_000); f < 1_000_000 || f > 2_000_000 {
		t.Fatalf("fee at the rate cap = %d", f)
	}
	d.Must(&raw, "", "payto", dest, "0.001", named(seed, "fee", "0.25", "allow_high_fee", true))
	if f := txFee(decodeHexTx(t, raw), 150*100_000_000); f != 25_000_000 {
		t.Fatalf("allowed high fee = %d", f)
	}
	// paytomany and bumpfee are guarded too.
	e := rpcErr(t, d, "", "paytomany", [][]any{{dest, "0.001"}}, named(seed, "fee", "100"))
	if e.Code != -32602 {
		t.Fatalf("paytomany fee 100: %+v", e)
	}
	var txid string
	d.Must(&raw, "", "payto", dest, "0.001", named(seed, "feerate", 2))
	d.Must(&txid, "", "broadcast", raw)
	e = rpcErr(t, d, seed, "bumpfee", txid, 20_000)
	if e.Code != -32602 || !strings.Contains(e.Message, "BTC_MAX_FEE_RATE") {
		t.Fatalf("bumpfee 20000 sat/vB: %+v", e)
	}

	// A daemon whose rate cap is below every default rate (estimates are
	// kept at 1 sat/vB at least) refuses the default fee too.
	low := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+node.WSURL(), "BTC_MAX_FEE_RATE=0.000009")
	waitSynced(t, low, node.Height())
	e = rpcErr(t, low, "", "payto", dest, "0.001", named(seed))
	if e.Code != -32602 || !strings.Contains(e.Message, "BTC_MAX_FEE_RATE") {
		t.Fatalf("default fee above a low cap: %+v", e)
	}
	d.Must(&raw, "", "payto", dest, "0.001", named(seed))
	if raw == "" {
		t.Fatal("the default daemon refused its default fee")
	}
}

// TestFrozenCoinsNeverSelected: payto never spends a frozen address's coins
// or a frozen coin; unfreezing makes them spendable again.
func TestFrozenCoinsNeverSelected(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	fundAndConfirm(t, node, d, seed, []string{vw.Receiving[0], vw.Receiving[1]}, []int64{100_000_000, 70_000_000}, "1.70000000")
	var ok bool
	d.Must(&ok, seed, "freeze", vw.Receiving[0])
	if !ok {
		t.Fatal("freeze returned false for a wallet address")
	}
	d.Must(&ok, seed, "freeze", vectorWallet(t, "electrum-standard-seed").Receiving[0])
	if ok {
		t.Fatal("freeze of a foreign address returned true")
	}
	var frozen []string
	d.Must(&frozen, "", "listaddresses", named(seed, "frozen", true))
	if !reflect.DeepEqual(frozen, []string{vw.Receiving[0]}) {
		t.Fatalf("listaddresses(frozen) = %v", frozen)
	}
	dest := vectorWallet(t, "electrum-standard-seed").Receiving[1]
	var raw string
	d.Must(&raw, "", "payto", dest, "!", named(seed, "feerate", 1))
	tx := decodeHexTx(t, raw)
	if len(tx.TxIn) != 1 || tx.TxOut[0].Value >= 70_000_000 || tx.TxOut[0].Value < 69_990_000 {
		t.Fatalf("payto ! with an address frozen spent %d inputs for %d sat", len(tx.TxIn), tx.TxOut[0].Value)
	}
	// Freeze the other coin: nothing left to spend.
	var coins []struct {
		Hash string `json:"prevout_hash"`
		N    uint32 `json:"prevout_n"`
		Addr string `json:"address"`
	}
	d.Must(&coins, seed, "listunspent")
	var other string
	for _, c := range coins {
		if c.Addr == vw.Receiving[1] {
			other = fmt.Sprintf("%s:%d", c.Hash, c.N)
		}
	}
	d.Must(&ok, seed, "freeze_utxo", other)
	if e := rpcErr(t, d, "", "payto", dest, "0.1", named(seed, "feerate", 1)); e.Code != -32006 {
		t.Fatalf("payto with every coin frozen: %+v", e)
	}
	if e := rpcErr(t, d, "", "payto", dest, "0.1", named(seed, "feerate", 1, "from_coins", other)); e.Code != -32006 {
		t.Fatalf("payto from a frozen coin: %+v", e)
	}
	d.Must(&ok, seed, "unfreeze_utxo", other)
	d.Must(&ok, seed, "unfreeze", vw.Receiving[0])
	d.Must(&raw, "", "payto", dest, "1.5", named(seed, "feerate", 1))
	if tx := decodeHexTx(t, raw); len(tx.TxIn) != 2 {
		t.Fatalf("after unfreezing, payto 1.5 used %d inputs", len(tx.TxIn))
	}
}

// TestElectrum46Shapes: onchain_history as 4.6's list, get_transaction with
// use_spv and Electrum's input JSON, listunspent's 4.6 fields, getinfo's
// fields, gettransaction and deserialize.
func TestElectrum46Shapes(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "electrum-segwit-seed")
	seed := vw.KeyMaterial
	var r request
	d.Must(&r, seed, "add_request", "1", "order 7", 900)
	if r.AmountBTC != "1." {
		t.Fatalf("amount_BTC of 1 BTC = %q, want Electrum's \"1.\"", r.AmountBTC)
	}
	fundAndConfirm(t, node, d, seed, []string{r.Address}, []int64{100_000_000}, "1.00000000")
	var null any = "x"
	d.Must(&null, seed, "setlabel", vw.Receiving[4], "cold")
	if null != nil {
		t.Fatalf("setlabel returned %v", null)
	}

	var hist []map[string]any
	d.Must(&hist, seed, "onchain_history")
	if len(hist) != 1 {
		t.Fatalf("onchain_history = %v", hist)
	}
	h := hist[0]
	want := []string{"txid", "amount_sat", "fee_sat", "height", "confirmations", "timestamp", "monotonic_timestamp",
		"incoming", "bc_value", "bc_balance", "date", "txpos_in_block", "wanted_height", "label", "group_id"}
	for _, k := range want {
		if _, ok := h[k]; !ok {
			t.Errorf("onchain_history item lacks %q: %v", k, h)
		}
	}
	if len(h) != len(want) || h["amount_sat"] != float64(100_000_000) || h["incoming"] != true || h["bc_value"] != "1." ||
		h["bc_balance"] != "1." || h["confirmations"] != float64(1) || h["label"] != "order 7" || h["fee_sat"] != nil ||
		h["height"] != float64(node.Height()) || h["timestamp"] != h["monotonic_timestamp"] {
		t.Fatalf("onchain_history item = %v", h)
	}
	txid := h["txid"].(string)
	d.Must(&null, seed, "setlabel", txid, "first payment")
	d.Must(&hist, "", "onchain_history", named(seed, "show_addresses", true, "year", 1999))
	if len(hist) != 0 {
		t.Fatalf("onchain_history(year=1999) = %v", hist)
	}
	d.Must(&hist, "", "onchain_history", named(seed, "show_addresses", true, "show_fiat", true))
	if hist[0]["label"] != "first payment" || hist[0]["inputs"] == nil || hist[0]["outputs"] == nil || hist[0]["fiat_value"] != "No Data" {
		t.Fatalf("onchain_history(show_addresses, show_fiat) = %v", hist[0])
	}

	// get_transaction with use_spv (the SDK's call), inputs as to_json: the
	// harness's funding transaction has no witness (no "witness" key), the
	// wallet's own spend is segwit (scriptSig "" and the witness).
	var tx map[string]any
	d.Must(&tx, "", "get_transaction", txid, map[string]any{"use_spv": true})
	in0 := tx["inputs"].([]any)[0].(map[string]any)
	if _, has := in0["witness"]; has || in0["scriptSig"] == "" || in0["coinbase"] != false || tx["confirmations"] != float64(1) {
		t.Fatalf("get_transaction input of a legacy tx = %v", in0)
	}
	var signed, spend string
	d.Must(&signed, "", "payto", vw.Receiving[3], "0.1", named(seed, "feerate", 1))
	d.Must(&spend, "", "broadcast", signed)
	d.Must(&tx, "", "get_transaction", spend, map[string]any{"use_spv": true})
	in0 = tx["inputs"].([]any)[0].(map[string]any)
	if wit, ok := in0["witness"].([]any); !ok || len(wit) != 2 || in0["scriptSig"] != "" || in0["nsequence"] != float64(0xfffffffd) ||
		tx["confirmations"] != float64(0) {
		t.Fatalf("get_transaction input of a segwit tx = %v", tx)
	}
	// addtransaction of a transaction that does not touch the wallet: false.
	foreign, _ := node.NewScript(harness.P2WPKH)
	var buf bytes.Buffer
	_ = node.FundTx(foreign, 50_000).Serialize(&buf)
	var added any
	d.Must(&added, seed, "addtransaction", hex.EncodeToString(buf.Bytes()))
	if added != false {
		t.Fatalf("addtransaction of an unrelated tx = %v, want false", added)
	}
	var hexTx string
	d.Must(&hexTx, "", "gettransaction", spend)
	var des map[string]any
	d.Must(&des, "", "deserialize", hexTx)
	delete(tx, "confirmations")
	if !reflect.DeepEqual(des, tx) {
		t.Fatalf("deserialize(gettransaction) = %v, get_transaction = %v", des, tx)
	}
	// A coinbase input: scriptSig, witness (segwit block) and coinbase false.
	var blk struct {
		Tx []string `json:"tx"`
	}
	raw, err := node.Call(t.Context(), "getblock", node.BlockHash(2).String())
	if err != nil || json.Unmarshal(raw, &blk) != nil {
		t.Fatalf("getblock: %v", err)
	}
	d.Must(&tx, "", "get_transaction", blk.Tx[0])
	in0 = tx["inputs"].([]any)[0].(map[string]any)
	if in0["coinbase"] != false || in0["scriptSig"] == "" || in0["prevout_hash"] != strings.Repeat("0", 64) {
		t.Fatalf("coinbase input = %v", in0)
	}

	var utxos []map[string]any
	d.Must(&utxos, seed, "listunspent")
	if len(utxos) != 2 { // the payment to Receiving[3] and the change, both unconfirmed
		t.Fatalf("listunspent = %v", utxos)
	}
	for _, u := range utxos {
		if u["nsequence"] != float64(4294967294) || u["coinbase"] != false || u["height"] != float64(0) || u["desc"] != nil ||
			u["value_sats"] != nil || u["bip32_paths"] == nil || (u["value"] != "0.1" && !strings.HasPrefix(u["value"].(string), "0.89")) {
			t.Fatalf("listunspent item = %v", u)
		}
	}

	var info map[string]any
	d.Must(&info, "", "getinfo")
	for _, k := range []string{"network", "path", "server", "blockchain_height", "server_height", "spv_nodes", "connected",
		"auto_connect", "version", "fee_estimates", "synchronized", "total_wallets"} {
		if _, ok := info[k]; !ok {
			t.Errorf("getinfo lacks %q: %v", k, info)
		}
	}
	if info["server"] != "127.0.0.1" || info["spv_nodes"] != float64(1) || info["version"] != "4.6.0b1" || info["default_wallet"] != nil {
		t.Fatalf("getinfo = %v", info)
	}
}

// TestRequestWithoutAmountOrExpiry: add_request with amount and expiry null
// (what the SDK sends for expire=0) makes a request without an amount that
// never expires; get_invoice returns on-chain requests; delete_request
// returns null; get_request takes Electrum's and Bitcart's names.
func TestRequestWithoutAmountOrExpiry(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-account-xpub")
	key := vw.KeyMaterial
	var r map[string]any
	d.Must(&r, "", "add_request", map[string]any{"amount": nil, "memo": "tip", "expiry": nil, "force": true, "xpub": key})
	if r["amount_BTC"] != "unknown" || r["amount_sat"] != nil || r["expiry"] != float64(0) || r["status_str"] != "Unpaid" {
		t.Fatalf("add_request(null, null) = %v", r)
	}
	id := r["request_id"].(string)
	// Absent expiry keeps Electrum's default of an hour; 0 is never.
	d.Must(&r, "", "add_request", map[string]any{"amount": "0.1", "xpub": key})
	if r["expiry"] != float64(3600) {
		t.Fatalf("default expiry = %v", r["expiry"])
	}
	d.Must(&r, "", "add_request", map[string]any{"amount": "0", "expiry": 0, "xpub": key})
	if r["expiry"] != float64(0) || r["amount_BTC"] != "unknown" {
		t.Fatalf("add_request(0, expiry=0) = %v", r)
	}
	for _, bad := range []any{-1, 315360001, "1e3", 9223372036854775807} {
		if e := rpcErr(t, d, "", "add_request", map[string]any{"amount": "0.1", "expiry": bad, "xpub": key}); e.Code != -32602 {
			t.Fatalf("expiry %v: %+v", bad, e)
		}
	}
	var inv map[string]any
	d.Must(&inv, key, "get_invoice", id)
	if inv["request_id"] != id || inv["amount_BTC"] != "unknown" {
		t.Fatalf("get_invoice = %v", inv)
	}
	if _, has := inv["sent_amount"]; has {
		t.Fatalf("get_invoice has sent_amount: %v", inv)
	}
	if e := rpcErr(t, d, key, "get_invoice", "nosuchinvoice"); e.Code != -32012 {
		t.Fatalf("get_invoice unknown: %+v", e)
	}
	for _, name := range []string{"request_id", "address", "key"} {
		var got map[string]any
		d.Must(&got, "", "get_request", map[string]any{name: id, "xpub": key})
		if got["request_id"] != id {
			t.Fatalf("get_request(%s=…) = %v", name, got)
		}
	}
	// A payment of any amount pays it.
	node.Fund(vw.Receiving[0], 12_345)
	harness.WaitFor(t, 20*time.Second, "request paid in mempool", func() bool {
		var got map[string]any
		d.Must(&got, key, "get_request", id)
		return got["status"] == float64(7)
	})
	var del any = "x"
	d.Must(&del, key, "delete_request", id)
	if del != nil {
		t.Fatalf("delete_request returned %v", del)
	}
	if e := rpcErr(t, d, key, "get_request", id); e.Code != -32003 {
		t.Fatalf("deleted request: %+v", e)
	}
}

// TestSecretsCarriedByTheCall: create and restore write nothing; getseed,
// getmasterprivate and getprivatekeys answer only for the key material the
// call itself carries; changegaplimit and getminacceptablegap.
func TestSecretsCarriedByTheCall(t *testing.T) {
	_, d := startBTC(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "my_wallet")
	var created map[string]any
	d.Must(&created, "", "create", map[string]any{"wallet_path": path})
	seed, _ := created["seed"].(string)
	if len(strings.Fields(seed)) != 12 || created["path"] != path || !strings.Contains(created["msg"].(string), "wrote nothing") {
		t.Fatalf("create = %v", created)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("create wrote %s", path)
	}
	var restored map[string]any
	d.Must(&restored, "", "restore", seed)
	if !strings.Contains(restored["msg"].(string), "wrote no secret") {
		t.Fatalf("restore = %v", restored)
	}
	assertNoSeedWords(t, d.DataDir, seed)

	vw := vectorWallet(t, "electrum-segwit-seed")
	var got string
	d.Must(&got, vw.KeyMaterial, "getseed")
	if got != vw.KeyMaterial {
		t.Fatalf("getseed = %q", got)
	}
	var mpk, xprvMPK string
	d.Must(&mpk, vw.KeyMaterial, "getmpk")
	d.Must(&got, vw.KeyMaterial, "getmasterprivate")
	d.Must(&xprvMPK, got, "getmpk")
	if !strings.HasPrefix(got, "vprv") || xprvMPK != mpk {
		t.Fatalf("getmasterprivate = %q (its mpk %q, the seed's %q)", got, xprvMPK, mpk)
	}
	for _, m := range []string{"getseed", "getmasterprivate"} {
		if e := rpcErr(t, d, mpk, m); e.Code != -32602 {
			t.Fatalf("%s with the xpub: %+v", m, e)
		}
	}
	if e := rpcErr(t, d, mpk, "getprivatekeys", vw.Receiving[0]); e.Code != -32602 {
		t.Fatalf("getprivatekeys with the xpub: %+v", e)
	}
	d.Must(&got, vw.KeyMaterial, "getprivatekeys", vw.Receiving[2])
	typ, wif, _ := strings.Cut(got, ":")
	w, err := btcutil.DecodeWIF(wif)
	if typ != "p2wpkh" || err != nil {
		t.Fatalf("getprivatekeys = %q", got)
	}
	regtest, _ := params.BTC("regtest")
	if addr, _, _ := regtest.PubKeyAddress(params.P2WPKH, w.PrivKey.PubKey().SerializeCompressed()); addr != vw.Receiving[2] {
		t.Fatalf("the exported key pays %s, not %s", addr, vw.Receiving[2])
	}
	var forPath string
	d.Must(&forPath, vw.KeyMaterial, "getprivatekeyforpath", "m/0/2")
	if forPath != got {
		t.Fatalf("getprivatekeyforpath(m/0/2) = %q, getprivatekeys = %q", forPath, got)
	}
	var conv string
	d.Must(&conv, "", "convert_xkey", mpk, "standard")
	if !strings.HasPrefix(conv, "tpub") {
		t.Fatalf("convert_xkey = %q", conv)
	}
	d.Must(&conv, "", "convert_xkey", conv, "p2wpkh")
	if conv != mpk {
		t.Fatalf("convert_xkey back = %q, want %q", conv, mpk)
	}

	if e := rpcErr(t, d, mpk, "changegaplimit", 30); e.Code != -32602 || !strings.Contains(e.Message, "iknowwhatimdoing") {
		t.Fatalf("changegaplimit without iknowwhatimdoing: %+v", e)
	}
	var gap int
	d.Must(&gap, mpk, "getminacceptablegap")
	if gap != 1 {
		t.Fatalf("getminacceptablegap = %d", gap)
	}
	var ok bool
	d.Must(&ok, "", "changegaplimit", 30, named(mpk, "iknowwhatimdoing", true))
	var addrs []string
	d.Must(&addrs, "", "listaddresses", named(mpk, "receiving", true))
	if !ok || len(addrs) != 30 {
		t.Fatalf("changegaplimit(30) = %v, %d receiving addresses", ok, len(addrs))
	}
	var wallets []map[string]any
	d.Must(&wallets, "", "list_wallets")
	found := false
	for _, lw := range wallets {
		found = found || lw["path"] == mpk
	}
	if !found {
		t.Fatalf("list_wallets = %v", wallets)
	}
	var names []string
	d.Must(&names, "", "help")
	for _, n := range []string{"gettransaction", "create", "restore", "freeze_utxo", "getfeerate", "listconfig", "version_info"} {
		if !contains(names, n) {
			t.Errorf("help() lacks %s", n)
		}
	}
	var text string
	d.Must(&text, "", "help", map[string]any{"func": "payto"})
	if !strings.Contains(text, "allow_high_fee") {
		t.Fatalf("help(func=payto) = %q", text)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
