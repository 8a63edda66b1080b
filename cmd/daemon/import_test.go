package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/daemons/utxo"
)

const fixtures = "../../coins/electrumfile/testdata/electrum-4.6.2"

func runImportTest(t *testing.T, network string, args ...string) (int, string, string, string) {
	t.Helper()
	dir := t.TempDir()
	var out, errs bytes.Buffer
	code := runImport(context.Background(), coins()["btc"], utxo.Config{Network: network, DataPath: dir}, args, &out, &errs)
	return code, out.String(), errs.String(), dir
}

// fixtureSecrets lists the secrets the fixture files hold.
func fixtureSecrets(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Wallets []struct {
			Secrets []string `json:"secrets"`
		} `json:"wallets"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, w := range exp.Wallets {
		out = append(out, w.Secrets...)
	}
	return out
}

// TestImportDryRun: -dry-run reads and checks the files and lists what
// would be imported, without a node and without creating a store; no
// secret is printed.
func TestImportDryRun(t *testing.T) {
	files := []string{"hot-seed", "watch-xpub", "hot-wifs", "watch-addresses"}
	var args []string
	for _, f := range files {
		args = append(args, filepath.Join(fixtures, f))
	}
	code, out, errs, dir := runImportTest(t, "regtest", append([]string{"-dry-run"}, args...)...)
	if code != 0 || strings.Count(out, "requests to import") != 4 || !strings.Contains(out, "nothing was written") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "warning: hot-seed: its seed, master private key, lightning keys were not imported") ||
		!strings.Contains(errs, "warning: hot-wifs: its private keys were not imported") {
		t.Errorf("warnings:\n%s", errs)
	}
	for _, s := range fixtureSecrets(t) {
		if strings.Contains(out+errs, s) {
			t.Errorf("the output shows a secret")
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("a dry run wrote %v", entries)
	}
}

// TestImportRefusals: bad usage, an encrypted file, another network's
// wallet, a file whose addresses are not the wallet's, and a missing node
// each stop with a clear message before anything is written.
func TestImportRefusals(t *testing.T) {
	if code, _, errs, _ := runImportTest(t, "regtest"); code != 2 || !strings.Contains(errs, "usage:") {
		t.Errorf("no path: %d %s", code, errs)
	}
	code, _, errs, _ := runImportTest(t, "regtest", "-dry-run", filepath.Join(fixtures, "encrypted"), filepath.Join(fixtures, "hot-seed"))
	if code != 1 || !strings.Contains(errs, "error: encrypted: the wallet file is encrypted with a password") {
		t.Errorf("encrypted: %d %s", code, errs)
	}
	code, _, errs, _ = runImportTest(t, "mainnet", "-dry-run", filepath.Join(fixtures, "watch-xpub"))
	if code != 1 || !strings.Contains(errs, "not usable on mainnet") {
		t.Errorf("regtest wallet on mainnet: %d %s", code, errs)
	}
	// Electrum's list of addresses does not match the key: refused.
	data, err := os.ReadFile(filepath.Join(fixtures, "watch-xpub"))
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data[:bytes.Index(data, []byte(",\n{"))], &doc); err != nil {
		t.Fatal(err)
	}
	recv := doc["addresses"].(map[string]any)["receiving"].([]any)
	recv[0], recv[1] = recv[1], recv[0]
	bad, _ := json.Marshal(doc)
	tampered := filepath.Join(t.TempDir(), "tampered")
	if err := os.WriteFile(tampered, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs, _ = runImportTest(t, "regtest", "-dry-run", tampered)
	if code != 1 || !strings.Contains(errs, "is not the one walletd derives") {
		t.Errorf("tampered: %d %s", code, errs)
	}
	// Without a node nothing is written.
	code, _, errs, dir := runImportTest(t, "regtest", filepath.Join(fixtures, "watch-xpub"))
	if code != 2 || !strings.Contains(errs, "BTC_SERVER is unset") {
		t.Errorf("no node: %d %s", code, errs)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("without a node the import wrote %v", entries)
	}
}

// TestImportFolder: a folder imports its regular files, leaving out
// Electrum's temporary files and hidden files.
func TestImportFolder(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(fixtures, "watch-xpub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"w1", "w1.tmp.1234", ".hidden"} {
		if err := os.WriteFile(filepath.Join(dir, n), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	code, out, errs, _ := runImportTest(t, "regtest", "-dry-run", dir)
	if code != 0 || strings.Count(out, "requests to import") != 1 || !strings.Contains(out, "w1: deterministic wallet") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
}

// TestImportedWalletIsTheMerchantsWallet: the public key material the
// import names each wallet by has the fingerprint of the key string the
// merchant sends (a seed, an xpub, a WIF list, an address list), so the
// merchant's calls reach the imported requests.
func TestImportedWalletIsTheMerchantsWallet(t *testing.T) {
	net, err := params.BTC("regtest")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(fixtures, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Wallets []struct {
			File string `json:"file"`
			Key  string `json:"key"`
		} `json:"wallets"`
	}
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	for _, w := range exp.Wallets {
		iw, err := readWallet(filepath.Join(fixtures, w.File), net)
		if err != nil {
			t.Fatal(err)
		}
		imported, err := keys.Parse(iw.keyStr, net)
		if err != nil {
			t.Fatal(err)
		}
		merchant, err := keys.Parse(w.Key, net)
		if err != nil {
			t.Fatal(err)
		}
		if imported.HasPrivateKeys() || imported.Fingerprint() != merchant.Fingerprint() {
			t.Errorf("%s: imported as %s, the merchant's key is wallet %s", w.File, imported.Fingerprint(), merchant.Fingerprint())
		}
	}
}
