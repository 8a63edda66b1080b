package integration

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"
	bolt "go.etcd.io/bbolt"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/integration/daemon"
	"github.com/walletd/walletd/integration/harness"
)

// electrumOut is make_wallets.py's report: Electrum's view of its wallets.
type electrumOut struct {
	Electrum string `json:"electrum"`
	Wallets  []struct {
		Path     string   `json:"path"`
		MPK      string   `json:"mpk"`
		Secrets  []string `json:"secrets"`
		Requests []struct {
			ID        string   `json:"id"`
			Address   string   `json:"address"`
			AmountSat int64    `json:"amount_sat"`
			Message   string   `json:"message"`
			Time      int64    `json:"time"`
			Exp       int64    `json:"exp"`
			Status    int      `json:"status"`
			TxHashes  []string `json:"tx_hashes"`
		} `json:"requests"`
	} `json:"wallets"`
}

// electrum runs make_wallets.py with Debian's python3-electrum.
func electrum(t *testing.T, input any, args ...string) electrumOut {
	t.Helper()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", append([]string{"testdata/electrum/make_wallets.py"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("make_wallets.py %s (needs python3-electrum): %v\n%s", args[0], err, stderr.String())
	}
	var o electrumOut
	if err := json.Unmarshal(out, &o); err != nil {
		t.Fatalf("make_wallets.py output: %v\n%s", err, out)
	}
	return o
}

// importElectrum runs `walletd btc import-electrum` on the daemon's data
// path and returns its exit code and output.
func importElectrum(t *testing.T, d *daemon.Proc, node *harness.Node, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(daemon.Binary(t), append([]string{"btc", "import-electrum"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + d.DataDir, "BTC_NETWORK=regtest",
		"BTC_DATA_PATH=" + d.DataDir, "BTC_SERVER=" + node.WSURL()}
	out, err := cmd.CombinedOutput()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

// storeDump reads every key and value of the daemon's (closed) store.
func storeDump(t *testing.T, dir string) map[string]string {
	t.Helper()
	db, err := bolt.Open(filepath.Join(dir, "btc-regtest.db"), 0o600, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out[string(name)+"|"+hex.EncodeToString(k)] = string(v)
				return nil
			})
		})
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportElectrum is issue 8's migration acceptance, with real parts:
// Electrum itself (python3-electrum) makes the wallet files as Bitcart's
// daemon did (a hot wallet whose file is named by its seed, a watch-only
// one), with requests that are unpaid, expired, paid and unconfirmed on a
// real btcd, recorded in the files by Electrum's own code. They are
// imported into the real daemon's store (refused while the daemon runs),
// twice without change, with no secret written; then the daemon answers
// get_request(original id) with Electrum's status for each, under the key
// the merchant uses, and an unpaid one paid on the node ends with
// new_payment status 3 for its original id.
func TestImportElectrum(t *testing.T) {
	node := harness.StartBtcd(t)
	node.Generate(101)
	net, _ := params.BTC("regtest")
	hot := vectorWallet(t, "electrum-segwit-seed")
	watch := vectorWallet(t, "p2wpkh-account-xpub")
	walletsDir := filepath.Join(t.TempDir(), "regtest", "wallets")
	day := int64(24 * 3600)
	made := electrum(t, map[string]any{"wallets": []map[string]any{
		{"key": watch.KeyMaterial, "requests": []map[string]any{
			{"amount_sat": 150_000, "memo": "Salt & Pepper", "expiry": day},
			{"amount_sat": 200_000, "memo": "paid before the switch", "expiry": day},
			{"amount_sat": 300_000, "memo": "in the mempool at the switch", "expiry": day},
			{"amount_sat": 0, "memo": "any amount", "expiry": 0},
			// Made last, so that Electrum hands its address to no other.
			{"amount_sat": 400_000, "memo": "expired", "expiry": 3600, "age": 7200},
		}},
		{"key": hot.KeyMaterial, "requests": []map[string]any{
			{"amount_sat": 50_000, "memo": "hot unpaid", "expiry": day},
			{"amount_sat": 60_000, "memo": "hot paid", "expiry": day},
		}},
	}}, "create", walletsDir)
	if len(made.Wallets) != 2 || len(made.Wallets[0].Requests) != 5 || len(made.Wallets[1].Requests) != 2 {
		t.Fatalf("Electrum made %+v", made)
	}
	if _, err := os.Stat(filepath.Join(walletsDir, hot.KeyMaterial)); err != nil {
		t.Fatalf("the hot wallet's file is not named by its seed, as Bitcart names it: %v", err)
	}
	byMemo := map[string]string{} // memo → Electrum's request id
	addrOf := map[string]string{}
	for _, w := range made.Wallets {
		for _, r := range w.Requests {
			byMemo[r.Message], addrOf[r.Message] = r.ID, r.Address
		}
	}
	if id := byMemo["hot unpaid"]; len(id) != 64 {
		t.Errorf("Electrum 4.3 gives a hot wallet's requests their lightning payment hash as id; got %q", id)
	}

	// Paid before the switch, as Electrum's synchronizer recorded it: two
	// payments mined, one in the mempool.
	type txRec struct {
		Raw       string `json:"raw"`
		Height    int32  `json:"height"`
		BlockHash string `json:"block_hash"`
		Timestamp int64  `json:"timestamp"`
		TxPos     int    `json:"txpos"`
	}
	pay := func(memo string, sats int64) *wire.MsgTx {
		script, err := net.PkScript(addrOf[memo])
		if err != nil {
			t.Fatal(err)
		}
		return node.FundTx(script, sats)
	}
	raw := func(tx *wire.MsgTx) string {
		var b bytes.Buffer
		_ = tx.Serialize(&b)
		return hex.EncodeToString(b.Bytes())
	}
	mined := []*wire.MsgTx{pay("paid before the switch", 200_000), pay("hot paid", 60_000), pay("any amount", 1_000)}
	hash := node.Generate(1)[0]
	block := node.Block(hash)
	var txs []txRec
	for _, tx := range mined {
		pos := -1
		for i, btx := range block.Transactions {
			if btx.TxHash() == tx.TxHash() {
				pos = i
			}
		}
		txs = append(txs, txRec{Raw: raw(tx), Height: node.Height(), BlockHash: hash.String(), Timestamp: block.Header.Timestamp.Unix(), TxPos: pos})
	}
	inMempool := pay("in the mempool at the switch", 300_000)
	txs = append(txs, txRec{Raw: raw(inMempool)})
	var files []string
	for _, w := range made.Wallets {
		files = append(files, w.Path)
	}
	seen := electrum(t, map[string]any{"tip": node.Height(), "txs": txs}, append([]string{"record"}, files...)...)
	electrumStatus := map[string]int{}
	for _, w := range seen.Wallets {
		for _, r := range w.Requests {
			electrumStatus[r.ID] = r.Status
		}
	}
	want := map[string]int{"Salt & Pepper": 0, "paid before the switch": 3, "in the mempool at the switch": 7,
		"any amount": 3, "expired": 1, "hot unpaid": 0, "hot paid": 3}
	for memo, st := range want {
		if electrumStatus[byMemo[memo]] != st {
			t.Fatalf("Electrum says %q is %d, the test wants %d", memo, electrumStatus[byMemo[memo]], st)
		}
	}
	var secrets []string
	for _, w := range seen.Wallets {
		secrets = append(secrets, w.Secrets...)
	}
	if len(secrets) < 2 {
		t.Fatalf("the hot wallet's file holds %d secrets", len(secrets))
	}

	// The merchant switches: Bitcart's daemon stops, walletd's is stopped
	// too while the files are imported.
	d := daemon.Start(t, "btc", "BTC_NETWORK=regtest", "BTC_SERVER="+node.WSURL())
	code, out := importElectrum(t, d, node, walletsDir)
	if code != 1 || !strings.Contains(out, "in use: stop the running daemon first") {
		t.Fatalf("import while the daemon runs: exit %d\n%s", code, out)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
	code, out = importElectrum(t, d, node, walletsDir)
	t.Logf("import-electrum:\n%s", out)
	if code != 0 || !strings.Contains(out, "5 requests imported, 0 already there") || !strings.Contains(out, "2 requests imported, 0 already there") {
		t.Fatalf("import: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "warning: wallet "+made.Wallets[1].MPK+": its seed") {
		t.Errorf("no warning naming the hot wallet by its master public key:\n%s", out)
	}
	for _, s := range append(secrets, strings.Fields(hot.KeyMaterial)[:3]...) {
		if strings.Contains(out, s) {
			t.Errorf("the import's output shows a secret (or a seed word)")
		}
	}
	first := storeDump(t, d.DataDir)
	code, out = importElectrum(t, d, node, walletsDir)
	if code != 0 || !strings.Contains(out, "0 requests imported, 5 already there") {
		t.Fatalf("second import: exit %d\n%s", code, out)
	}
	second := storeDump(t, d.DataDir)
	var changed []string
	for k, v := range first {
		if second[k] != v {
			changed = append(changed, k)
		}
	}
	for k := range second {
		if _, ok := first[k]; !ok {
			changed = append(changed, k)
		}
	}
	sort.Strings(changed)
	if len(changed) > 0 {
		t.Fatalf("the second import changed the store: %v", changed)
	}
	// No secret reached the disk.
	entries, _ := os.ReadDir(d.DataDir)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(d.DataDir, e.Name()))
		if err != nil {
			continue
		}
		for _, s := range append(secrets, hot.KeyMaterial) {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds a secret of the hot wallet", e.Name())
			}
		}
	}

	// walletd serves the merchant: get_request(original id) answers with
	// Electrum's status, under the key string the merchant sends (the seed
	// for the hot wallet).
	d.Restart()
	waitSynced(t, d, node.Height())
	keyOf := map[string]string{}
	for memo := range want {
		keyOf[memo] = watch.KeyMaterial
	}
	keyOf["hot unpaid"], keyOf["hot paid"] = hot.KeyMaterial, hot.KeyMaterial
	for _, w := range made.Wallets {
		for _, er := range w.Requests {
			got := getRequest(t, d, keyOf[er.Message], er.ID)
			if got.RequestID != er.ID || got.Status != electrumStatus[er.ID] || got.Address != er.Address ||
				got.AmountSat != er.AmountSat || got.Message != er.Message || got.Timestamp != er.Time || got.Expiry != er.Exp {
				t.Errorf("get_request(%s) %q: %+v, Electrum: status %d %+v", er.ID, er.Message, got, electrumStatus[er.ID], er)
			}
		}
	}
	if got := getRequest(t, d, watch.KeyMaterial, byMemo["in the mempool at the switch"]); len(got.TxHashes) != 1 || got.TxHashes[0] != inMempool.TxHash().String() {
		t.Errorf("unconfirmed request: %+v", got)
	}
	// A new request never takes an imported request's address.
	var fresh request
	d.Must(&fresh, watch.KeyMaterial, "add_request", "0.001", "after the switch", 600)
	for memo, a := range addrOf {
		if fresh.Address == a {
			t.Errorf("add_request after the import reuses the address of %q", memo)
		}
	}

	// The acceptance: an imported unpaid request paid on the node ends with
	// new_payment status 3 for its original id.
	ws := d.Dial("")
	id := byMemo["Salt & Pepper"]
	sent := time.Now()
	pay("Salt & Pepper", 150_000)
	f := ws.Next(15*time.Second, "new_payment 7", daemon.IsEvent("new_payment", map[string]any{"address": id, "status": 7}))
	t.Logf("payment of an imported request → new_payment 7: %v", f.At.Sub(sent))
	node.Generate(1)
	ws.Next(15*time.Second, "new_payment 3", daemon.IsEvent("new_payment", map[string]any{"address": id, "status": 3}))
	hotID := byMemo["hot unpaid"]
	pay("hot unpaid", 50_000)
	node.Generate(1)
	ws.Next(15*time.Second, "new_payment 3 (hot)", daemon.IsEvent("new_payment", map[string]any{"address": hotID, "status": 3}))
	if got := getRequest(t, d, hot.KeyMaterial, hotID); got.Status != 3 || got.Confirmations != 1 {
		t.Fatalf("hot request after payment: %+v", got)
	}
	_ = fmt.Sprint
}
