package ltc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/daemons/btc"
	"github.com/walletd/walletd/daemons/ltc"
	"github.com/walletd/walletd/daemons/utxo"
)

type client struct {
	t   *testing.T
	url string
}

// start runs a daemon of coin (no backend) behind a real HTTP server.
func start(t *testing.T, coin utxo.Coin) *client {
	t.Helper()
	cfg := utxo.Config{Login: "electrum", Password: "electrumz", Network: "regtest", MaxBodyBytes: 1 << 20,
		MaxBatch: 10, DataPath: t.TempDir()}
	d, err := utxo.New(context.Background(), coin, cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d.Handler())
	t.Cleanup(func() { _ = d.CloseClients(context.Background()); ts.Close(); _ = d.Close() })
	return &client{t: t, url: ts.URL}
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *client) call(method string, params ...any) reply {
	c.t.Helper()
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest("POST", c.url+"/", bytes.NewReader(body))
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *client) result(out any, method string, params ...any) {
	c.t.Helper()
	r := c.call(method, params...)
	if r.Error != nil {
		c.t.Fatalf("%s: %+v", method, *r.Error)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		c.t.Fatalf("%s: %s: %v", method, r.Result, err)
	}
}

func (c *client) get(path string) string {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.url+path, nil)
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestCoin(t *testing.T) {
	c := ltc.Coin()
	if c.Ticker != "LTC" || c.CatalogName != "btc" || ltc.DefaultPort != 5001 || ltc.EnvPrefix != "LTC" {
		t.Fatalf("coin %+v", c)
	}
	for _, name := range []string{"mainnet", "testnet", "regtest"} {
		if n, err := c.Network(name); err != nil || n.Coin != "LTC" {
			t.Fatalf("%s: %v %v", name, n, err)
		}
	}
	if _, err := c.Network("signet"); err == nil {
		t.Fatal("LTC has no signet in Electrum-LTC's constants")
	}
}

// TestServesBTCSurface: the LTC daemon serves the BTC method set and spec
// (as Bitcart's LTC daemon does) with Litecoin's addresses and message
// magic.
func TestServesBTCSurface(t *testing.T) {
	l := start(t, ltc.Coin())
	b := start(t, btc.Coin())

	var lh, bh []string
	l.result(&lh, "help")
	b.result(&bh, "help")
	sort.Strings(lh)
	sort.Strings(bh)
	if strings.Join(lh, ",") != strings.Join(bh, ",") || len(lh) < 40 {
		t.Fatalf("LTC methods differ from BTC's:\n%v\n%v", lh, bh)
	}
	if l.get("/spec") != b.get("/spec") {
		t.Fatal("LTC's /spec is not BTC's")
	}

	var ok bool
	l.result(&ok, "validateaddress", "rltc1q3m9g8v6g3c380z7254vrq0umdq60ptcxsuxmt6")
	if !ok {
		t.Fatal("LTC regtest bech32 refused")
	}
	l.result(&ok, "validateaddress", "bcrt1q3m9g8v6g3c380z7254vrq0umdq60ptcx3cmtuk")
	if ok {
		t.Fatal("BTC regtest address accepted by LTC")
	}
	l.result(&ok, "validatekey", "vpub5ZAzT2yFb7B3KqJKN5G8qVJFRk9xkcnVZX19GhFzPXhPhQzvtvw7zuF6uieRtYjvgGKSvsqrv7ZMUhRcKgsodhZBdgYdYLcqW6EnStXEdVW")
	if !ok {
		t.Fatal("vpub refused on LTC regtest")
	}

	// Signed by Litecoin Core 0.21.2.1 (signmessagewithprivkey, regtest)
	// with the Electrum-LTC vectors' p2pkh WIF: Litecoin's message magic.
	const addr = "mwf6L4XbHmvaZx7qqyTbw5znv4mCuzYYgT"
	const sig = "IC0UDE14HYkzUd99HNqJe+4hAfbbt4nNuG4+ZxhaixVoXOI2Er3O2IBdNu435R2XuRCdBT88sQAMDCg/EwhuUn8="
	l.result(&ok, "verifymessage", addr, sig, "walletd LTC")
	if !ok {
		t.Fatal("a Litecoin Core signature does not verify on LTC")
	}
	b.result(&ok, "verifymessage", addr, sig, "walletd LTC")
	if ok {
		t.Fatal("a Litecoin signature verifies with Bitcoin's magic")
	}

	var info map[string]any
	l.result(&info, "getinfo")
	if info["network"] != "regtest" || info["connected"] != false {
		t.Fatalf("getinfo %v", info)
	}

	// Lightning: -32011, as for BTC.
	r := l.call("lnpay", "lnbcrt1")
	if r.Error == nil || r.Error.Code != -32011 {
		t.Fatalf("lnpay: %+v", r.Error)
	}
}

// TestDustIsLitecoinCores: Litecoin's dust thresholds are Litecoin Core's
// (-dustrelayfee 30000 sat/kvB): 5460 litoshis for p2pkh, 2940 for p2wpkh;
// Bitcoin's stay 546 and 294.
func TestDustIsLitecoinCores(t *testing.T) {
	net, _ := params.LTC("regtest")
	btcNet, _ := params.BTC("regtest")
	p2pkh := append(append([]byte{0x76, 0xa9, 20}, make([]byte, 20)...), 0x88, 0xac)
	p2wpkh := append([]byte{0x00, 20}, make([]byte, 20)...)
	for _, c := range []struct {
		dust      func(*wire.TxOut) bool
		script    []byte
		threshold int64
	}{
		{ltc.Engine(net).Policy.Dust, p2pkh, 5460},
		{ltc.Engine(net).Policy.Dust, p2wpkh, 2940},
		{wallet.Bitcoin(btcNet).Policy.Dust, p2pkh, 546},
		{wallet.Bitcoin(btcNet).Policy.Dust, p2wpkh, 294},
	} {
		if !c.dust(wire.NewTxOut(c.threshold-1, c.script)) || c.dust(wire.NewTxOut(c.threshold, c.script)) {
			t.Errorf("dust threshold of %x is not %d", c.script[:2], c.threshold)
		}
	}
}
