package utxo

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/daemons/base"
	"github.com/walletd/walletd/internal/vectors"
	"github.com/walletd/walletd/spec"
)

func btcCoin() Coin { return Coin{Ticker: "BTC", Network: params.BTC, CatalogName: "btc"} }

// rpcClient talks to a daemon over real HTTP.
type rpcClient struct {
	t   testing.TB
	url string
}

func newDaemon(t testing.TB, network string) *rpcClient {
	t.Helper()
	return newDaemonWith(t, network, nil)
}

// newDaemonWith is newDaemon over a backend (not started: only its
// wallet-less calls are used).
func newDaemonWith(t testing.TB, network string, backend chain.Backend, opts ...func(*Config)) *rpcClient {
	t.Helper()
	cfg := Config{Login: "electrum", Password: "electrumz", Network: network, MaxBodyBytes: 1 << 20, MaxBatch: 10,
		DataPath: t.TempDir()}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := New(context.Background(), btcCoin(), cfg, backend, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(d.Handler())
	t.Cleanup(func() { _ = d.CloseClients(context.Background()); ts.Close(); _ = d.Close() })
	return &rpcClient{t: t, url: ts.URL}
}

type rpcReply struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func (c *rpcClient) call(method string, params ...any) rpcReply {
	c.t.Helper()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest("POST", c.url+"/", bytes.NewReader(body))
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r rpcReply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *rpcClient) boolResult(method string, params ...any) bool {
	c.t.Helper()
	r := c.call(method, params...)
	if r.Error != nil {
		c.t.Fatalf("%s: error %+v", method, *r.Error)
	}
	var b bool
	if err := json.Unmarshal(r.Result, &b); err != nil {
		c.t.Fatalf("%s: result %s: %v", method, r.Result, err)
	}
	return b
}

// TestValidateKeyElectrumVectors checks validatekey against Electrum's own
// verdicts on every network of the vectors.
func TestValidateKeyElectrumVectors(t *testing.T) {
	v := vectors.Load(t)
	for name, net := range v.Networks {
		c := newDaemon(t, name)
		if len(net.ValidKey) == 0 {
			t.Fatalf("%s: no key verdicts", name)
		}
		for key, want := range net.ValidKey {
			if got := c.boolResult("validatekey", key); got != want {
				t.Errorf("%s: validatekey(%.30q) = %v, Electrum says %v", name, key, got, want)
			}
		}
		for _, w := range net.Wallets {
			if !c.boolResult("validatekey", w.KeyMaterial) {
				t.Errorf("%s: wallet %s key material not valid", name, w.Label)
			}
		}
	}
}

// TestValidateAddressVectors: every Electrum address is valid on its own
// network; mainnet ones are invalid on regtest and the reverse.
func TestValidateAddressVectors(t *testing.T) {
	v := vectors.Load(t)
	daemons := map[string]*rpcClient{}
	for name := range v.Networks {
		daemons[name] = newDaemon(t, name)
	}
	for name, net := range v.Networks {
		for _, w := range net.Wallets {
			for _, a := range append(append([]string{}, w.Receiving...), w.Change...) {
				if !daemons[name].boolResult("validateaddress", a) {
					t.Errorf("%s: %s invalid", name, a)
				}
				if name == "mainnet" && daemons["regtest"].boolResult("validateaddress", a) {
					t.Errorf("mainnet address %s valid on regtest", a)
				}
				if name == "regtest" && daemons["mainnet"].boolResult("validateaddress", a) {
					t.Errorf("regtest address %s valid on mainnet", a)
				}
			}
		}
	}
	for _, junk := range []string{"", " ", "bc1", "1111111111111111111114oLvT3", strings.Repeat("z", 100)} {
		if daemons["mainnet"].boolResult("validateaddress", junk) {
			t.Errorf("junk %q valid", junk)
		}
	}
}

func TestValidateMissingParam(t *testing.T) {
	c := newDaemon(t, "regtest")
	for _, m := range []string{"validatekey", "validateaddress"} {
		r := c.call(m)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) {
			t.Errorf("%s(): %+v", m, r)
		}
		r = c.call(m, 5)
		if r.Error == nil || r.Error.Code != int(spec.InvalidParams) {
			t.Errorf("%s(5): %+v", m, r)
		}
	}
}

// TestEveryMethodHasHelp asks help for every listed method.
func TestEveryMethodHasHelp(t *testing.T) {
	c := newDaemon(t, "regtest")
	r := c.call("help")
	var names []string
	if err := json.Unmarshal(r.Result, &names); err != nil || len(names) == 0 {
		t.Fatalf("help: %s %v", r.Result, err)
	}
	for _, n := range names {
		r := c.call("help", n)
		var text string
		if r.Error != nil || json.Unmarshal(r.Result, &text) != nil || !strings.Contains(text, "(") || len(text) < 20 {
			t.Errorf("help(%q) = %s %+v", n, r.Result, r.Error)
		}
	}
}

func TestErrorTableCodesCataloged(t *testing.T) {
	cat, err := spec.Load("btc", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range base.EmittedCodes(ErrorTable()) {
		if spec.Cataloged(code) && !cat.Has(code) {
			t.Errorf("code %d not in catalog", code)
		}
	}
}

func TestUnknownNetworkRefused(t *testing.T) {
	_, err := New(context.Background(), btcCoin(), Config{Network: "moon", DataPath: t.TempDir()}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "moon") {
		t.Errorf("network moon: %v", err)
	}
}

func TestGetinfoWithoutBackend(t *testing.T) {
	c := newDaemon(t, "regtest")
	r := c.call("getinfo")
	var info Info
	if err := json.Unmarshal(r.Result, &info); err != nil {
		t.Fatal(err)
	}
	if info.Connected || info.Network != "regtest" || info.Version != ElectrumVersion || info.WalletdVersion != Version || info.Synchronized || info.FeeEstimates == nil {
		t.Errorf("getinfo: %+v", info)
	}
}
