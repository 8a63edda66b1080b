package integration

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"

	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/internal/repo"
)

// paramName matches one parameter of a help signature:
// "add_request(amount, memo=\"\", expiry=3600)".
var paramName = regexp.MustCompile(`[(,]\s*([a-z_0-9]+)`)

// methodParams reads the daemon's method table through help: every method
// name and its parameter names.
func methodParams(t *testing.T, d *daemon.Proc) map[string][]string {
	t.Helper()
	var names []string
	d.Must(&names, "", "help")
	if len(names) < 40 {
		t.Fatalf("help lists %d methods", len(names))
	}
	out := map[string][]string{}
	for _, n := range names {
		var text string
		d.Must(&text, "", "help", n)
		sig, _, _ := strings.Cut(text, "\n")
		var ps []string
		for _, m := range paramName.FindAllStringSubmatch(sig, -1) {
			ps = append(ps, m[1])
		}
		out[n] = ps
	}
	return out
}

// post sends a raw body with the default credentials.
func post(t *testing.T, d *daemon.Proc, body []byte) string {
	t.Helper()
	req, _ := http.NewRequest("POST", d.URL+"/", bytes.NewReader(body))
	req.SetBasicAuth("electrum", "electrumz")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestSecretsNeverEchoed is issue 9's secrets check: a seed, an xprv and a
// WIF put in every parameter of every method of the daemon's own table
// (read through help), positional and named, all parameters at once, as
// the method name and as a named argument's key, never come back in a
// reply and never reach the daemon's logs at debug level. The wallet in
// these calls is a public key with funds on a real node, so the handlers
// run past argument binding.
func TestSecretsNeverEchoed(t *testing.T) {
	node, d := startBTC(t)
	seed := vectorWallet(t, "electrum-segwit-seed")
	xprv := vectorWallet(t, "standard-account-xprv")
	priv, err := btcec.NewPrivateKey()
	if err != nil {
		t.Fatal(err)
	}
	wif, err := btcutil.NewWIF(priv, node.Params(), true)
	if err != nil {
		t.Fatal(err)
	}
	watch := vectorWallet(t, "p2wpkh-account-xpub")
	fundAndConfirm(t, node, d, watch.KeyMaterial, []string{watch.Receiving[0]}, []int64{10_000_000}, "0.10000000")
	methods := methodParams(t, d)
	secrets := []string{seed.KeyMaterial, xprv.KeyMaterial, wif.String()}

	var bodies [][]byte
	add := func(req map[string]any) {
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	for _, secret := range secrets {
		add(map[string]any{"id": 1, "method": secret})
		for m, ps := range methods {
			add(map[string]any{"id": 1, "method": m, "params": map[string]any{secret: 1, "xpub": watch.KeyMaterial}})
			all := map[string]any{"xpub": watch.KeyMaterial}
			var positional []any
			for i, p := range ps {
				add(map[string]any{"id": 1, "method": m, "params": map[string]any{p: secret, "xpub": watch.KeyMaterial}})
				pos := make([]any, i+1)
				pos[i] = secret
				add(map[string]any{"id": 1, "method": m, "params": append(pos, map[string]any{"xpub": watch.KeyMaterial})})
				all[p] = secret
				positional = append(positional, secret)
			}
			add(map[string]any{"id": 1, "method": m, "params": all})
			add(map[string]any{"id": 1, "method": m, "params": positional})
		}
	}
	t.Logf("%d requests over %d methods", len(bodies), len(methods))
	errorsSeen := 0
	for start := 0; start < len(bodies); start += 50 {
		end := min(start+50, len(bodies))
		batch := append([]byte("["), bytes.Join(bodies[start:end], []byte(","))...)
		batch = append(batch, ']')
		var replies []struct {
			Error json.RawMessage `json:"error"`
		}
		if reply := post(t, d, batch); json.Unmarshal([]byte(reply), &replies) != nil || len(replies) != end-start {
			t.Fatalf("batch reply: %.300s", reply)
		}
		// Results may carry an argument by design (normalizeaddress,
		// modifypaymenturl return theirs); errors never may.
		for i, r := range replies {
			if r.Error == nil {
				continue
			}
			errorsSeen++
			for _, s := range secrets {
				if strings.Contains(string(r.Error), s[:20]) {
					t.Errorf("an error echoes a secret (%.8s…): %s for %s", s, r.Error, bodies[start+i])
				}
			}
		}
	}
	if errorsSeen < len(bodies)/2 {
		t.Fatalf("only %d error replies for %d requests: the check proves little", errorsSeen, len(bodies))
	}
	logs := d.Logs()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "request failed") {
		t.Fatal("no debug logs captured: the scan proves nothing")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s[:20]) {
			i := strings.Index(logs, s[:20])
			t.Errorf("the debug log holds a secret (%.8s…): …%s…", s, logs[max(0, i-200):min(len(logs), i+40)])
		}
	}
}

// TestHugeKeyMaterialRefused: a 1 MB xpub (28,000 addresses in the review,
// 6 s of CPU and 12 MB of store for good) is refused with -32005 before
// anything is decoded, tracked or asked of the node.
func TestHugeKeyMaterialRefused(t *testing.T) {
	node, d := startBTC(t)
	addr := vectorWallet(t, "p2wpkh-account-xpub").Receiving[0]
	for name, key := range map[string]string{
		"1 MB token":      strings.Repeat("z", 999_000),
		"1,001 addresses": strings.TrimSpace(strings.Repeat(addr+" ", 1001)),
	} {
		if e := rpcErr(t, d, key, "getbalance"); e.Code != -32005 {
			t.Errorf("%s: %+v", name, e)
		}
	}
	var info struct {
		Wallets int `json:"total_wallets"`
	}
	d.Must(&info, "", "getinfo")
	if info.Wallets != 0 {
		t.Errorf("%d wallets tracked after refused key material", info.Wallets)
	}
	_ = node
}

// oldVectors reads coins/keys/testdata/electrum_old.json (made by
// Electrum 4.3.4) for a network.
func oldVectors(t *testing.T, network string) []struct {
	Label       string   `json:"label"`
	KeyMaterial string   `json:"key_material"`
	MPK         string   `json:"mpk"`
	Receiving   []string `json:"receiving"`
	Change      []string `json:"change"`
} {
	t.Helper()
	root, err := repo.Root()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "coins", "keys", "testdata", "electrum_old.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Networks map[string]struct {
			Wallets []struct {
				Label       string   `json:"label"`
				KeyMaterial string   `json:"key_material"`
				MPK         string   `json:"mpk"`
				Receiving   []string `json:"receiving"`
				Change      []string `json:"change"`
			} `json:"wallets"`
		} `json:"networks"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Networks[network].Wallets
}

// TestOldSeedWallet: an Electrum 1.x seed, which Bitcart loads, works in
// walletd: validatekey says true, getmpk gives Electrum's mpk, the request
// address is Electrum's, a payment is reported, and a payout signed with
// its uncompressed keys is accepted by the node; its mpk is the same wallet.
func TestOldSeedWallet(t *testing.T) {
	node, d := startBTC(t)
	w := oldVectors(t, "regtest")[0]
	var ok bool
	d.Must(&ok, "", "validatekey", w.KeyMaterial)
	if !ok {
		t.Fatal("validatekey(old seed) is false")
	}
	var mpk string
	d.Must(&mpk, w.KeyMaterial, "getmpk")
	if mpk != w.MPK {
		t.Fatalf("getmpk %s, Electrum %s", mpk, w.MPK)
	}
	ws := d.Dial("")
	var r request
	d.Must(&r, w.KeyMaterial, "add_request", "0.5", "old seed order")
	if r.Address != w.Receiving[0] {
		t.Fatalf("request address %s, Electrum's first %s", r.Address, w.Receiving[0])
	}
	node.Fund(r.Address, 50_000_000)
	ws.Next(10*time.Second, "payment", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	node.Generate(1)
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	waitBalance(t, d, w.MPK, "0.50000000", "")

	dest := vectorWallet(t, "p2wpkh-account-xpub").Receiving[1]
	var raw string
	d.Must(&raw, "", "payto", dest, "0.2", named(w.KeyMaterial, "feerate", 2))
	tx := decodeHexTx(t, raw)
	if len(tx.TxIn) != 1 || len(tx.TxIn[0].SignatureScript) < 100 { // DER sig + 65-byte key
		t.Fatalf("payout input: %x", tx.TxIn[0].SignatureScript)
	}
	var txid string
	d.Must(&txid, "", "broadcast", raw)
	if !node.InMempool(mustHash(t, txid)) {
		t.Fatal("the node does not have the old wallet's payout")
	}
	// The watch-only form (its mpk) cannot sign: an unsigned PSBT.
	var psbt string
	d.Must(&psbt, "", "payto", dest, "0.1", named(w.MPK, "feerate", 2))
	if strings.HasPrefix(psbt, "0100") || strings.HasPrefix(psbt, "0200") {
		t.Errorf("the mpk signed a transaction")
	}
}
