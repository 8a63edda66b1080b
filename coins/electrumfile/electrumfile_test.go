package electrumfile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/electrumfile"
)

// expected is expected.json, written by make_wallets.py fixtures with
// Electrum's own view of every wallet and request.
type expected struct {
	Electrum string `json:"electrum"`
	Wallets  []struct {
		File        string            `json:"file"`
		Key         string            `json:"key"`
		MPK         string            `json:"mpk"`
		Secrets     []string          `json:"secrets"`
		Receiving   int               `json:"receiving"`
		Change      int               `json:"change"`
		Addresses   []string          `json:"addresses"`
		SeedVersion int               `json:"seed_version"`
		Labels      map[string]string `json:"labels"`
		Requests    []struct {
			ID        string   `json:"id"`
			Address   string   `json:"address"`
			AmountSat int64    `json:"amount_sat"`
			Message   string   `json:"message"`
			Time      int64    `json:"time"`
			Exp       int64    `json:"exp"`
			Height    int64    `json:"height"`
			Lightning bool     `json:"lightning"`
			Status    int      `json:"status"`
			TxHashes  []string `json:"tx_hashes"`
		} `json:"requests"`
	} `json:"wallets"`
	Encrypted string `json:"encrypted"`
}

// checkFixtures parses every wallet of a fixture folder and compares it
// with what Electrum itself says about it.
func checkFixtures(t *testing.T, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp expected
	if err := json.Unmarshal(raw, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Wallets) != 4 {
		t.Fatalf("%d wallets in expected.json", len(exp.Wallets))
	}
	now := time.Now()
	for _, ew := range exp.Wallets {
		data, err := os.ReadFile(filepath.Join(dir, ew.File))
		if err != nil {
			t.Fatal(err)
		}
		// Bitcart names the file after the key text.
		bitcartName := filepath.Base(ew.Key)
		w, err := electrumfile.Parse(bitcartName, data)
		if err != nil {
			t.Fatalf("%s %s: %v", exp.Electrum, ew.File, err)
		}
		where := exp.Electrum + " " + ew.File
		if w.SeedVersion != ew.SeedVersion {
			t.Errorf("%s: seed version %d, want %d", where, w.SeedVersion, ew.SeedVersion)
		}
		if ew.MPK != "" {
			if w.Kind != electrumfile.KindDeterministic || w.XPub != ew.MPK || len(w.Receiving) != ew.Receiving || len(w.Change) != ew.Change {
				t.Errorf("%s: kind %v xpub %s, %d/%d addresses; want %s, %d/%d", where, w.Kind, w.XPub, len(w.Receiving), len(w.Change), ew.MPK, ew.Receiving, ew.Change)
			}
		} else if w.Kind != electrumfile.KindImported || strings.Join(w.Addresses, " ") != strings.Join(ew.Addresses, " ") {
			t.Errorf("%s: kind %v addresses %v, want %v", where, w.Kind, w.Addresses, ew.Addresses)
		}
		// Secrets: dropped, named, never in the value nor in its name.
		if w.HasSecrets() != (len(ew.Secrets) > 0) {
			t.Errorf("%s: dropped %v, file secrets %d", where, w.Dropped, len(ew.Secrets))
		}
		dump := fmt.Sprintf("%#v %+v %v", w, w, w.Requests)
		for _, s := range ew.Secrets {
			if strings.Contains(dump, s) {
				t.Errorf("%s: a secret of the file is in the parsed wallet", where)
			}
			for _, word := range strings.Fields(s) {
				if len(ew.Secrets) > 0 && strings.Contains(" "+w.Name+" ", " "+word+" ") {
					t.Errorf("%s: the wallet's name %q shows a word of a secret", where, w.Name)
				}
			}
		}
		if len(ew.Secrets) > 0 && w.Name == bitcartName {
			t.Errorf("%s: a hot wallet named after its key material is named by its file name", where)
		}
		if len(ew.Secrets) == 0 && !strings.Contains(bitcartName, " ") && w.Name != bitcartName {
			t.Errorf("%s: watch-only wallet named %q, want its file name %q", where, w.Name, bitcartName)
		}
		// Requests, with Electrum's ids and statuses.
		got := map[string]electrumfile.Request{}
		for _, r := range w.Requests {
			got[r.ID] = r
		}
		skipped := map[string]bool{}
		for _, s := range w.Skipped {
			skipped[s.ID] = true
		}
		statuses := map[int]bool{}
		for _, er := range ew.Requests {
			label := ew.Labels[er.ID]
			if er.Address == "" {
				if !skipped[er.ID] {
					t.Errorf("%s %s: a lightning-only request is not skipped", where, label)
				}
				continue
			}
			r, ok := got[er.ID]
			if !ok {
				t.Errorf("%s %s: request %s missing", where, label, er.ID)
				continue
			}
			if r.Address != er.Address || r.AmountSat != er.AmountSat || r.Message != er.Message || r.Time != er.Time ||
				r.Exp != er.Exp || r.Height != er.Height || r.Lightning != er.Lightning {
				t.Errorf("%s %s: %+v, Electrum says %+v", where, label, r, er)
			}
			if st := r.StatusAt(now); st != er.Status {
				t.Errorf("%s %s: status %d, Electrum says %d", where, label, st, er.Status)
			}
			statuses[er.Status] = true
			hashes := append([]string{}, r.TxHashes...)
			sort.Strings(hashes)
			if strings.Join(hashes, ",") != strings.Join(er.TxHashes, ",") {
				t.Errorf("%s %s: tx_hashes %v, Electrum says %v", where, label, hashes, er.TxHashes)
			}
		}
		if len(w.Requests)+len(w.Skipped) != len(ew.Requests) {
			t.Errorf("%s: %d requests + %d skipped, Electrum has %d", where, len(w.Requests), len(w.Skipped), len(ew.Requests))
		}
		want := []int{electrumfile.StatusUnpaid, electrumfile.StatusExpired, electrumfile.StatusPaid}
		if ew.MPK != "" {
			want = append(want, electrumfile.StatusUnconfirmed)
		}
		for _, st := range want {
			if !statuses[st] {
				t.Errorf("%s: no request with status %d among the fixtures", where, st)
			}
		}
	}
	_, err = electrumfile.Read(filepath.Join(dir, exp.Encrypted))
	if !errors.Is(err, electrumfile.ErrEncrypted) {
		t.Errorf("%s encrypted file: %v, want ErrEncrypted", exp.Electrum, err)
	}
}

// TestElectrumMadeFiles: wallet files that Electrum 4.3.4, 4.4.6, 4.5.8
// and 4.6.2 made (testdata, see make_wallets.py) parse to what Electrum
// itself says of them.
func TestElectrumMadeFiles(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/electrum-*")
	if len(dirs) < 4 {
		t.Fatalf("fixtures: %v", dirs)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) { checkFixtures(t, dir) })
	}
}

// TestInstalledElectrum makes the fixtures afresh with the Electrum this
// machine has (Debian's python3-electrum, which CI installs) and parses
// them.
func TestInstalledElectrum(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "../../integration/testdata/electrum/make_wallets.py", "fixtures", dir)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make_wallets.py (needs python3-electrum): %v\n%s", err, out)
	}
	checkFixtures(t, dir)
}

func fixture(t *testing.T, ver, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "electrum-"+ver, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAppendedPatches: a 4.5+ file whose last append was cut short parses
// as if that append never happened (Electrum drops it too); a file with
// garbage after the object is refused.
func TestAppendedPatches(t *testing.T) {
	data := fixture(t, "4.6.2", "watch-xpub")
	if !strings.Contains(string(data), `"op": "add", "path": "/stored_height"`) {
		t.Fatal("fixture has no appended patches")
	}
	whole, err := electrumfile.Parse("w", data)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the file inside its last patch, then after its last comma.
	last := strings.LastIndex(string(data), ",\n{")
	for _, cut := range [][]byte{data[:len(data)-10], data[:last+2]} {
		w, err := electrumfile.Parse("w", cut)
		if err != nil {
			t.Fatalf("cut file: %v", err)
		}
		if len(w.Requests) != len(whole.Requests) || w.XPub != whole.XPub {
			t.Fatalf("cut file parsed differently")
		}
	}
	// Without the patches the file is the state before the reload: fewer
	// requests, no history.
	first := strings.Index(string(data), ",\n{")
	base, err := electrumfile.Parse("w", data[:first])
	if err != nil {
		t.Fatal(err)
	}
	if len(base.Requests) >= len(whole.Requests) {
		t.Fatalf("patches added no request: %d vs %d", len(base.Requests), len(whole.Requests))
	}
	for _, bad := range []string{string(data) + "garbage", string(data[:first]) + ",\n{\"op\": \"move\", \"path\": \"/x\", \"from\": \"/y\"}",
		string(data[:first]) + ",\n{\"op\": \"replace\", \"path\": \"/nope\", \"value\": 1}",
		string(data[:first]) + ",\n{\"op\": \"remove\", \"path\": \"/payment_requests/nope\"}"} {
		if _, err := electrumfile.Parse("w", []byte(bad)); !errors.Is(err, electrumfile.ErrNotWallet) {
			t.Errorf("bad appended data: %v", err)
		}
	}
}

// TestPatchOps: add, replace and remove on objects and arrays, as
// jsonpatch applies them.
func TestPatchOps(t *testing.T) {
	base := `{"seed_version": 60, "wallet_type": "imported", "addresses": {"bcrt1qa": {}},
 "payment_requests": {}, "list": [1, 2, 3], "x": {"a": 1}}`
	patches := []string{
		`{"op": "add", "path": "/list/-", "value": 4}`,
		`{"op": "add", "path": "/list/0", "value": 0}`,
		`{"op": "remove", "path": "/list/1"}`,
		`{"op": "replace", "path": "/list/0", "value": 9}`,
		`{"op": "add", "path": "/addresses/bcrt1qb", "value": {}}`,
		`{"op": "remove", "path": "/addresses/bcrt1qa"}`,
		`{"op": "replace", "path": "/x/a", "value": null}`,
		`[{"op": "add", "path": "/addresses/bcrt1~1c", "value": {}}]`,
	}
	w, err := electrumfile.Parse("w", []byte(base+",\n"+strings.Join(patches, ",\n")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(w.Addresses, " "); got != "bcrt1/c bcrt1qb" {
		t.Fatalf("addresses after patches: %q", got)
	}
	for _, bad := range []string{`{"op": "add", "path": "/list/7", "value": 1}`, `{"op": "remove", "path": "/list/x"}`,
		`{"op": "add", "path": "/nope/a", "value": 1}`, `{"op": "add", "path": "", "value": {}}`, `{"op": "add", "path": "/x"}`, `"op"`} {
		if _, err := electrumfile.Parse("w", []byte(base+",\n"+bad)); !errors.Is(err, electrumfile.ErrNotWallet) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestRefused: other formats and kinds of wallets get a clear error that
// never quotes the file's contents.
func TestRefused(t *testing.T) {
	secret := "vprv9FuNxfxVyzukqVbN5FrkMtxU1nMyBDoUZtfutuydb59caxfdc1kn1GHZ9aTbh9q7FEGRF8ctV23kAf3HaYkTQ4GYLu9YeYhuM48ifnnhVYk"
	ks := `"keystore": {"type": "bip32", "xpub": "vpub5UtjNBVPpNU4", "xprv": "` + secret + `"}`
	cases := []struct {
		name, data string
		want       error
	}{
		{"empty", "", electrumfile.ErrNotWallet},
		{"text", "hello", electrumfile.ErrNotWallet},
		{"array", "[1]", electrumfile.ErrNotWallet},
		{"cut", `{"seed_version": 50, "keystore": {"xprv": "` + secret, electrumfile.ErrNotWallet},
		{"bad type", `{"seed_version": "x", ` + ks + `}`, electrumfile.ErrNotWallet},
		{"no version", `{` + ks + `}`, electrumfile.ErrNotWallet},
		{"4.2", `{"seed_version": 49, "wallet_type": "standard", ` + ks + `}`, electrumfile.ErrVersion},
		{"4.7", `{"seed_version": 61, "wallet_type": "standard", ` + ks + `}`, electrumfile.ErrVersion},
		{"multisig", `{"seed_version": 60, "wallet_type": "2of3", "x1": {"type": "bip32", "xprv": "` + secret + `"}}`, electrumfile.ErrUnsupportedWallet},
		{"2fa", `{"seed_version": 60, "wallet_type": "2fa", ` + ks + `}`, electrumfile.ErrUnsupportedWallet},
		{"old", `{"seed_version": 60, "wallet_type": "standard", "keystore": {"type": "old", "mpk": "ab", "seed": "` + secret + `"}}`, electrumfile.ErrUnsupportedWallet},
		{"no keystore", `{"seed_version": 60, "wallet_type": "standard"}`, electrumfile.ErrNotWallet},
		{"no addresses", `{"seed_version": 60, "wallet_type": "imported", "keystore": {"type": "imported", "keypairs": {"02ab": "` + secret + `"}}}`, electrumfile.ErrUnsupportedWallet},
		{"encrypted", "QklFMQOQ+mIh1y2Ywn7Mz", electrumfile.ErrEncrypted},
		{"encrypted hw", "QklFMgOQ+mIh1y2Ywn7Mz", electrumfile.ErrEncrypted},
	}
	for _, c := range cases {
		_, err := electrumfile.Parse("w", []byte(c.data))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:20]) {
			t.Errorf("%s: the error quotes the secret", c.name)
		}
	}
}

// TestRequestsSkipped: requests walletd cannot carry are listed with a
// reason, and the others still come.
func TestRequestsSkipped(t *testing.T) {
	doc := `{"seed_version": 53, "wallet_type": "imported", "addresses": {"bcrt1qa": {}},
 "payment_requests": {
  "ok": {"amount_msat": 1000, "message": "m", "time": 10, "exp": 0, "height": 0, "outputs": [[0, "bcrt1qa", 1]], "payment_hash": null},
  "ln": {"amount_msat": 1000, "message": "m", "time": 10, "exp": 0, "height": 0, "outputs": [], "payment_hash": "ab"},
  "lnpaid": {"amount_msat": 1000, "message": "m", "time": 10, "exp": 0, "height": 0, "outputs": [[0, "bcrt1qa", 1]], "payment_hash": "cd"},
  "two": {"amount_msat": 1000, "message": "m", "time": 10, "exp": 0, "height": 0, "outputs": [[0, "bcrt1qa", 1], [0, "bcrt1qa", 1]]},
  "script": {"amount_msat": 1000, "message": "m", "time": 10, "exp": 0, "height": 0, "outputs": [[2, "0014ab", 1]]},
  "bad": {"amount_msat": 1000, "message": "m", "time": "x"}
 },
 "lightning_payments": {"lnpaid": [1000, 1, 3]}}`
	w, err := electrumfile.Parse("w", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Requests) != 1 || w.Requests[0].ID != "ok" || w.Requests[0].Paid != electrumfile.StatusUnpaid {
		t.Fatalf("requests: %+v", w.Requests)
	}
	var ids []string
	for _, s := range w.Skipped {
		if s.Reason == "" {
			t.Errorf("%s skipped without a reason", s.ID)
		}
		ids = append(ids, s.ID)
	}
	if strings.Join(ids, " ") != "bad ln lnpaid script two" {
		t.Fatalf("skipped: %v", w.Skipped)
	}
}

// TestNames: a wallet is named by its file name unless that name is key
// material; unreadable files are named without their name when it may be.
func TestNames(t *testing.T) {
	data := fixture(t, "4.6.2", "hot-seed")
	var exp expected
	if err := json.Unmarshal(fixture(t, "4.6.2", "expected.json"), &exp); err != nil {
		t.Fatal(err)
	}
	seed := exp.Wallets[0].Key
	mpk := exp.Wallets[0].MPK
	for name, want := range map[string]string{
		"shop-1":                              "shop-1",
		seed:                                  "wallet " + mpk,
		"feature":                             "wallet " + mpk, // a word of the seed
		"vprv9FuNxfxVyzukqVbN5FrkMtxU1nMyBDo": "wallet " + mpk,
		"p2wpkh:cSrd9pdM6okc8XysQ6yAK84cgnVW": "wallet " + mpk,
		"":                                    "wallet " + mpk,
	} {
		w, err := electrumfile.Parse(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if w.Name != want {
			t.Errorf("file %q named %q, want %q", name, w.Name, want)
		}
	}
	for path, shown := range map[string]bool{
		"/data/regtest/wallets/" + seed: false,
		"/data/wallets/" + mpk:          true,
		"/data/wallets/cSrd9pdM6okc8XysQ6yAK84cgnVWNGUckGwiSs5V6oxxQf32f81p": false,
		"/data/wallets/5KYZdUEo39z3FPrtuX2QbbwGnNP5zTd7yyr2SC1j299sBCnWjss":  false,
		"/data/wallets/default_wallet":                                       true,
	} {
		got := electrumfile.SafeName(path)
		if (got == filepath.Base(path)) != shown || (!shown && strings.Contains(got, filepath.Base(path))) {
			t.Errorf("SafeName(%q) = %q", path, got)
		}
	}
	_, err := electrumfile.Read("/nonexistent/" + seed)
	if err == nil || strings.Contains(err.Error(), "misery") {
		t.Errorf("reading a missing file: %v", err)
	}
}

// TestStatusRules: Electrum's payment rules on hand-made history: the
// request's height excludes older payments, several payments add up,
// unverified ones count as unconfirmed, and an amount of 0 needs one.
func TestStatusRules(t *testing.T) {
	mk := func(reqs, txo, hist, verified string) *electrumfile.Wallet {
		doc := `{"seed_version": 60, "wallet_type": "imported", "addresses": {"A": {}, "B": {}, "C": {}, "D": {}},
 "payment_requests": {` + reqs + `}, "txo": {` + txo + `}, "addr_history": {` + hist + `}, "verified_tx3": {` + verified + `}}`
		w, err := electrumfile.Parse("w", []byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	req := func(id, addr string, amount, height int) string {
		return fmt.Sprintf(`"%s": {"amount_msat": %d, "message": "", "time": 1, "exp": 0, "height": %d, "outputs": [[0, "%s", %d]]}`, id, amount*1000, height, addr, amount)
	}
	w := mk(req("old", "A", 100, 50)+","+req("sum", "B", 100, 0)+","+req("unver", "C", 100, 0)+","+req("zero", "D", 0, 0),
		`"t1": {"A": {"0": [100, false]}}, "t2": {"B": {"0": [60, false]}}, "t3": {"B": {"1": [40, false]}}, "t4": {"C": {"0": [100, false]}}`,
		`"A": [["t1", 40]], "B": [["t2", 60], ["t3", 0]], "C": [["t4", 70]]`,
		`"t1": [40, 0, 1, "h"], "t2": [60, 0, 1, "h"]`)
	got := map[string]electrumfile.Request{}
	for _, r := range w.Requests {
		got[r.ID] = r
	}
	for id, want := range map[string]int{"old": electrumfile.StatusUnpaid, "sum": electrumfile.StatusUnconfirmed,
		"unver": electrumfile.StatusUnconfirmed, "zero": electrumfile.StatusUnpaid} {
		if got[id].Paid != want {
			t.Errorf("%s: %d, want %d", id, got[id].Paid, want)
		}
	}
	if r := got["sum"]; r.Sent != 100 || strings.Join(r.TxHashes, ",") != "t2,t3" {
		t.Errorf("sum: sent %d txs %v", r.Sent, r.TxHashes)
	}
	if r := got["old"]; r.Sent != 100 || len(r.TxHashes) != 1 {
		t.Errorf("old: an excluded payment still counts as sent and listed (Electrum's tx_hashes): %+v", r)
	}
}
