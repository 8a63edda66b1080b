package bch_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/daemons/bch"
	"github.com/walletd/walletd/daemons/utxo"
	"github.com/walletd/walletd/internal/vectors"
)

type client struct {
	t   *testing.T
	url string
}

// start runs the BCH daemon on network (no backend) behind a real HTTP
// server.
func start(t *testing.T, network string) *client {
	t.Helper()
	cfg := utxo.Config{Login: "electrum", Password: "electrumz", Network: network, MaxBodyBytes: 1 << 20,
		MaxBatch: 10, DataPath: t.TempDir()}
	d, err := utxo.New(context.Background(), bch.Coin(), cfg, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d.Handler())
	t.Cleanup(func() { _ = d.CloseClients(context.Background()); ts.Close(); _ = d.Close() })
	return &client{t: t, url: ts.URL}
}

type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

type reply struct {
	Result json.RawMessage `json:"result"`
	Error  *rpcError       `json:"error"`
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

func (c *client) errorOf(method string, params ...any) rpcError {
	c.t.Helper()
	r := c.call(method, params...)
	if r.Error == nil {
		c.t.Fatalf("%s: no error, result %s", method, r.Result)
	}
	return *r.Error
}

// vectorNet is the vectors network a BCH network answers as.
func vectorNet(name string) string {
	switch name {
	case "testnet4", "scalenet", "chipnet":
		return "testnet"
	}
	return name
}

// TestNetworks: the daemon starts on every network Bitcart's BCH daemon
// accepts, and refuses BTC's signet; port 5004, prefix BCH.
func TestNetworks(t *testing.T) {
	if bch.DefaultPort != 5004 || bch.EnvPrefix != "BCH" || bch.Coin().Ticker != "BCH" || bch.Coin().Flavor != utxo.ElectronCash {
		t.Fatalf("coin %+v", bch.Coin())
	}
	for _, n := range []string{"mainnet", "testnet", "testnet4", "scalenet", "regtest", "chipnet"} {
		c := start(t, n)
		var info map[string]any
		c.result(&info, "getinfo")
		if info["network"] != n || info["version"] != "4.4.2" || info["fee_per_kb"] != float64(1000) {
			t.Errorf("%s: getinfo %v", n, info)
		}
	}
	cfg := utxo.Config{Network: "signet", DataPath: t.TempDir()}
	if _, err := utxo.New(context.Background(), bch.Coin(), cfg, nil, nil); err == nil {
		t.Fatal("BCH on signet started")
	}
}

// TestKeyAndAddressVectors: validatekey and validateaddress answer
// Electron Cash's verdicts on every input of the vectors, on every network
// (testnet4, scalenet and chipnet as testnet), through the daemon.
func TestKeyAndAddressVectors(t *testing.T) {
	v := vectors.LoadElectronCash(t)
	for _, n := range params.BCHNetworks() {
		c := start(t, n)
		nv := v.Networks[vectorNet(n)]
		if len(nv.ValidateKey) < 10 || len(nv.ValidateAddress) < 10 {
			t.Fatalf("%s: vectors too small", n)
		}
		for in, want := range nv.ValidateKey {
			var got bool
			c.result(&got, "validatekey", in)
			if got != want {
				t.Errorf("%s: validatekey(%.40q) = %v, Electron Cash %v", n, in, got, want)
			}
		}
		for in, want := range nv.ValidateAddress {
			var got bool
			c.result(&got, "validateaddress", in)
			if got != want {
				t.Errorf("%s: validateaddress(%q) = %v, Electron Cash %v", n, in, got, want)
			}
		}
		for _, w := range nv.Wallets {
			var got bool
			c.result(&got, "validatekey", w.KeyMaterial)
			want := w.Kind != "address_list" && w.Kind != "privkey_list"
			if got != want {
				t.Errorf("%s: validatekey(wallet %s) = %v", n, w.Label, got)
			}
		}
	}
}

// TestElectronCashSurface: Electron Cash's method names as Bitcart's BCH
// daemon serves them (get_request an alias of getrequest; no Electrum
// request methods, no lightning), its seeds, static fees, and its spec
// overlay with lightning off.
func TestElectronCashSurface(t *testing.T) {
	c := start(t, "regtest")
	var names []string
	c.result(&names, "help")
	have := map[string]bool{}
	for _, n := range names {
		have[n] = true
	}
	for _, n := range []string{"addrequest", "getrequest", "get_request", "listrequests", "rmrequest", "clearrequests",
		"history", "payto", "paytomany", "getbalance", "get_updates", "addressconvert", "make_electrum_seed"} {
		if !have[n] {
			t.Errorf("%s is not served", n)
		}
	}
	for _, n := range []string{"add_request", "list_requests", "delete_request", "clear_requests", "onchain_history",
		"nodeid", "lnpay", "open_channel"} {
		if have[n] {
			t.Errorf("%s is served: Electron Cash has no such command", n)
		}
	}
	if r := c.call("add_request", "0.1"); r.Error == nil || r.Error.Code != -32601 {
		t.Errorf("add_request: %+v", r.Error)
	}

	var version string
	c.result(&version, "version")
	if version != "4.4.2" {
		t.Errorf("version %q", version)
	}
	var seed string
	c.result(&seed, "make_seed")
	if len(strings.Fields(seed)) != 12 || keys.ElectronCashSeedType(seed) != keys.ECSeedBIP39 {
		t.Errorf("make_seed gave a %d-word %q seed", len(strings.Fields(seed)), keys.ElectronCashSeedType(seed))
	}
	c.result(&seed, "make_electrum_seed")
	if keys.ElectronCashSeedType(seed) != keys.ECSeedElectrum {
		t.Errorf("make_electrum_seed gave a %q seed", keys.ElectronCashSeedType(seed))
	}
	var fee json.RawMessage
	c.result(&fee, "recommended_fee", 2)
	if string(fee) != "0" {
		t.Errorf("recommended_fee = %s, Bitcart's BCH answers 0", fee)
	}
	c.result(&fee, "getfeerate")
	if string(fee) != "1000" {
		t.Errorf("getfeerate = %s", fee)
	}
	var s string
	c.result(&s, "get_default_fee", 226)
	if s != "0.00000226" {
		t.Errorf("get_default_fee(226) = %s", s)
	}
	var conv map[string]string
	c.result(&conv, "addressconvert", "qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2cq3drge2x")
	if conv["cashaddr"] != "bchreg:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2cq3drge2x" || !strings.HasPrefix(conv["legacy"], "m") && !strings.HasPrefix(conv["legacy"], "n") {
		t.Errorf("addressconvert %v", conv)
	}

	// A cashaddr with a bad checksum: Electron Cash's message, -32004.
	e := c.errorOf("getaddresshistory", "bchreg:qpdhgctl8ggyu7m77tpxf2aj7wg4cgzx2cq3drge2y")
	if e.Code != -32004 || !strings.Contains(e.Message, "invalid checksum in address") {
		t.Errorf("bad checksum: %+v", e)
	}

	req, _ := http.NewRequest("GET", c.url+"/spec", nil)
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var sp struct {
		ElectrumMap  map[string]int  `json:"electrum_map"`
		Capabilities map[string]bool `json:"capabilities"`
	}
	if err := json.Unmarshal(raw, &sp); err != nil {
		t.Fatal(err)
	}
	if sp.ElectrumMap["invalid checksum in address"] != -32004 || sp.Capabilities["lightning"] {
		t.Errorf("/spec: %s", raw)
	}
}

// TestVerifyMessage: verifymessage takes Electron Cash 4.4.2's signature
// (coins/bch's vectors) for the key's address in every form, and refuses
// another message.
func TestVerifyMessage(t *testing.T) {
	c := start(t, "mainnet")
	secret, _ := hex.DecodeString("621b8a5c8f3c8df720b7e724dc5e5f24d0aa13343577610783d36fc6ad459167")
	key, _ := btcec.PrivKeyFromBytes(secret)
	net, _ := params.BCH("mainnet")
	addr, script, err := net.PubKeyAddress(params.P2PKH, key.PubKey().SerializeCompressed())
	if err != nil {
		t.Fatal(err)
	}
	legacy, _ := net.CashAddr().Legacy(script)
	const sig = "IM/QrVjKwedMGBM602k3BvHQIpJnwLJy+95S3TJJdGr0IG5NapEF7AYasBgt6MJAo3hEcWDwtSDg+K14kyjMrzo="
	for _, a := range []string{addr, "bitcoincash:" + addr, legacy} {
		var ok bool
		c.result(&ok, "verifymessage", a, sig, "walletd")
		if !ok {
			t.Errorf("verifymessage(%s) = false", a)
		}
	}
	var ok bool
	c.result(&ok, "verifymessage", addr, sig, "walletd!")
	if ok {
		t.Error("a signature verifies another message")
	}
}
