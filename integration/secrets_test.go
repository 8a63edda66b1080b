package integration

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil/v2"

	"github.com/walletd/walletd/integration/daemon"
)

// TestNoSecretsOnDisk runs wallets whose key material is secret (an
// Electrum seed, an account xprv, a WIF list) through requests, payments and
// a restart, then reads every file of the daemon's data directory and its
// logs: none contains the seed phrase, its BIP32 seed, the xprv or the WIF.
// Events of the seed wallet carry its master public key, never the seed,
// before and after a restart.
func TestNoSecretsOnDisk(t *testing.T) {
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
	wifKey := "p2wpkh:" + wif.String()
	secrets := []string{seed.KeyMaterial, seed.BIP32SeedHex, xprv.KeyMaterial, wif.String(), hex.EncodeToString(priv.Serialize())}

	ws := d.Dial("")
	for _, key := range []string{seed.KeyMaterial, xprv.KeyMaterial, wifKey} {
		var r request
		d.Must(&r, key, "add_request", "0.01", "secret test")
		node.Fund(r.Address, 1_000_000)
		ws.Next(10*time.Second, "payment", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
		d.Must(nil, key, "getbalance")
		d.Must(nil, key, "listunspent")
	}
	node.Generate(1)
	var r request
	d.Must(&r, seed.KeyMaterial, "add_request", "0.02")
	waitSynced(t, d, node.Height())
	if err := d.Stop(); err != nil { // graceful: everything flushed
		t.Fatalf("stop: %v", err)
	}
	d.Restart()
	waitSynced(t, d, node.Height())
	ws = d.Dial("")
	node.Fund(r.Address, 2_000_000)
	f := ws.Next(10*time.Second, "payment after restart", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID}))
	if f.Wallet == nil || *f.Wallet != seed.MPK {
		t.Errorf("after restart the seed wallet's events carry %v, want its mpk", f.Wallet)
	}
	d.Must(nil, seed.KeyMaterial, "getbalance") // the client names it again: still never the seed
	node.Generate(1)
	f = ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	if f.Wallet == nil || *f.Wallet != seed.MPK {
		t.Errorf("once named again by its seed, events carry %v, want its mpk", f.Wallet)
	}
	d.Kill()

	needles := map[string][]byte{}
	for i, sec := range secrets {
		needles[fmt.Sprintf("secret %d (%.12s…)", i, sec)] = []byte(sec)
	}
	assertNotInDir(t, d.DataDir, needles)
	logs := d.Logs()
	if !strings.Contains(logs, "request") {
		t.Fatal("no request logs captured: the scan is broken")
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain a secret (%.12s…)", s)
		}
	}
}

// TestDisklessViaSelector: a wallet named with the merchant's object form
// {"xpub": …, "diskless": true} works (request, payment, events) and nothing
// about it reaches the data directory.
func TestDisklessViaSelector(t *testing.T) {
	node, d := startBTC(t)
	vw := vectorWallet(t, "p2wpkh-p2sh-account-xpub")
	sel := map[string]any{"xpub": vw.KeyMaterial, "contract": nil, "diskless": true, "quiet_mode": false}
	ws := d.Dial("")
	ws.Filter(vw.KeyMaterial)
	var r request
	d.Must(&r, sel, "add_request", "0.03", "diskless order")
	if r.Address != vw.Receiving[0] {
		t.Fatalf("address %s, Electrum's %s", r.Address, vw.Receiving[0])
	}
	txid := node.Fund(r.Address, 3_000_000)
	ws.Next(10*time.Second, "payment", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 7}))
	node.Generate(1)
	ws.Next(10*time.Second, "paid", daemon.IsEvent("new_payment", map[string]any{"address": r.RequestID, "status": 3}))
	var bal map[string]string
	d.Must(&bal, sel, "getbalance")
	if bal["confirmed"] != "0.03000000" {
		t.Fatalf("getbalance: %v", bal)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	needles := map[string][]byte{"request id": []byte(r.RequestID), "memo": []byte("diskless order"),
		"txid": []byte(txid.String()), "txid bytes": txid.CloneBytes(), "mpk": []byte(vw.KeyMaterial)}
	for i, a := range vw.Receiving {
		needles[fmt.Sprintf("receiving[%d]", i)] = []byte(a)
	}
	assertNotInDir(t, d.DataDir, needles)
}

// assertNotInDir reads every file under dir and fails the test for each
// needle found; it fails too when there is no file (the scan would prove
// nothing).
func assertNotInDir(t *testing.T, dir string, needles map[string][]byte) {
	t.Helper()
	files := 0
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for what, n := range needles {
			if bytes.Contains(b, n) {
				t.Errorf("%s holds %s", path, what)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("scanning %s: %v (%d files)", dir, err, files)
	}
}

// assertNoSeedWords fails if any word of seed stands alone anywhere under
// dir: not inside a longer run of letters, digits, "_" or base64 characters, so
// that random bytes and base64 text cannot fake a match.
func assertNoSeedWords(t *testing.T, dir, seed string) {
	t.Helper()
	words := strings.Fields(seed)
	var res []*regexp.Regexp
	for _, w := range words {
		res = append(res, regexp.MustCompile(`(^|[^A-Za-z0-9+/_])`+regexp.QuoteMeta(w)+`([^A-Za-z0-9+/_]|$)`))
	}
	err := filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, re := range res {
			// The word as a whole token; the regexp runs only where the
			// word occurs at all (a store file is mostly free pages: the
			// regexp alone took minutes per file under -race).
			if bytes.Contains(b, []byte(words[i])) && re.Match(b) {
				t.Errorf("%s contains seed word %d", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
