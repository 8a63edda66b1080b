package wallet_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
)

// dumpStore returns every key and value of a closed bbolt store file.
func dumpStore(t *testing.T, path string) map[string]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]string{}
	err = db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out[string(name)+"|"+string(k)] = string(v)
				return nil
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffDumps(a, b map[string]string) []string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			d = append(d, fmt.Sprintf("%q changed", k))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%q added", k))
		}
	}
	sort.Strings(d)
	return d
}

// TestImportRequests: requests carried over from Electrum keep their ids
// and show the chain's truth at once (a payment past the gap limit, one in
// the mempool), only a difference with Electrum's view is announced, their
// addresses are never handed out again, a reused address answers for its
// latest request, importing twice changes nothing in the store, and a
// payment after the import completes the original id.
func TestImportRequests(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	fc := newFakeChain()
	fc.mine()
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	mat, err := keys.Parse(vw.KeyMaterial, ev0Net(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := func(i uint32) keys.Key {
		k, err := mat.Derive(false, i)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// Paid before the switch: index 25 (past walletd's first 20) in a
	// block, index 3 in the mempool (after Electrum last looked).
	paid := payTx(addr(25).PkScript, 70_000, 1)
	fc.mine(paid)
	mempool := payTx(addr(3).PkScript, 30_000, 2)
	fc.mempoolAdd(mempool)

	ev := newEnv(t, path, fc)
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	now := ev.clock().Unix()
	reqs := []wallet.ImportedRequest{
		{ID: "aaaaaaaaaa", Address: addr(1).Address, Amount: 10_000, Memo: "unpaid", Timestamp: now - 60, Expiry: 3600},
		{ID: "bbbbbbbbbb", Address: addr(25).Address, Amount: 70_000, Memo: "paid", Timestamp: now - 600,
			Status: wallet.StatusPaid, Sent: 70_000, TxHashes: []string{paid.TxHash().String()}},
		{ID: "cccccccccc", Address: addr(3).Address, Amount: 30_000, Memo: "paid while switching", Timestamp: now - 60},
		{ID: "eeeeeeeeee", Address: addr(5).Address, Amount: 2, Memo: "reuses the expired one's address", Timestamp: now - 30},
		{ID: "dddddddddd", Address: addr(5).Address, Amount: 1, Memo: "expired", Timestamp: now - 7200, Expiry: 60,
			Status: wallet.StatusExpired},
		{ID: "ffffffffff", Address: "bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", Amount: 1, Timestamp: now},
		{ID: "gggggggggg", Address: addr(7).Address, Amount: -1, Timestamp: now},
		{ID: "", Address: addr(8).Address, Amount: 1, Timestamp: now},
	}
	seen := len(ev.rec.evs)
	res, err := w.ImportRequests(ctx, reqs, wallet.ImportOptions{Receiving: 30, Change: 12})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.Added) != "[aaaaaaaaaa bbbbbbbbbb cccccccccc eeeeeeeeee dddddddddd]" || len(res.Existing) != 0 || len(res.Skipped) != 3 ||
		!errors.Is(res.Skipped[0].Err, wallet.ErrImportAddress) || !errors.Is(res.Skipped[1].Err, wallet.ErrImportRequest) ||
		!errors.Is(res.Skipped[2].Err, wallet.ErrImportRequest) {
		t.Fatalf("result: %+v", res)
	}
	for id, want := range map[string]int{"aaaaaaaaaa": wallet.StatusUnpaid, "bbbbbbbbbb": wallet.StatusPaid,
		"cccccccccc": wallet.StatusUnconfirmed, "dddddddddd": wallet.StatusExpired, "eeeeeeeeee": wallet.StatusUnpaid} {
		got, err := w.GetRequest(ctx, id)
		if err != nil || got.Status != want || got.ID != id {
			t.Errorf("get_request(%s): %+v %v, want status %d", id, got, err, want)
		}
	}
	if got, _ := w.GetRequest(ctx, "bbbbbbbbbb"); got.Confirmations != 1 || got.Sent != 70_000 || got.Memo != "paid" || got.Timestamp != now-600 {
		t.Errorf("paid request: %+v", got)
	}
	if got, _ := w.GetRequest(ctx, addr(5).Address); got.ID != "eeeeeeeeee" {
		t.Errorf("the reused address answers for %s, want the latest request", got.ID)
	}
	// Only the difference with Electrum's view was announced.
	var announced []wallet.EventRecord
	for _, e := range ev.rec.evs[seen:] {
		if e.Record.Kind == wallet.EventPayment {
			announced = append(announced, e.Record)
		}
	}
	if len(announced) != 1 || announced[0].RequestID != "cccccccccc" || announced[0].Status != 7 {
		t.Fatalf("announced: %+v", announced)
	}
	// The balance counts the payment past walletd's own gap.
	if bal, _ := w.Balance(ctx); bal.Confirmed != 70_000 || bal.Unconfirmed != 30_000 {
		t.Errorf("balance after import: %+v", bal)
	}
	// add_request never hands out an imported request's address (1, 5) nor
	// a used one (3, 25).
	taken := map[string]bool{addr(1).Address: true, addr(3).Address: true, addr(5).Address: true, addr(25).Address: true}
	for i := 0; i < 4; i++ {
		r, err := w.AddRequest(ctx, 1000, "new", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if taken[r.Address] {
			t.Fatalf("add_request reused %s", r.Address)
		}
		taken[r.Address] = true
	}

	// Importing again changes nothing, even after a restart.
	ev.close()
	before := dumpStore(t, path)
	ev = newEnv(t, path, fc)
	w, err = ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	seen = len(ev.rec.evs)
	res, err = w.ImportRequests(ctx, reqs, wallet.ImportOptions{Receiving: 30, Change: 12})
	if err != nil || len(res.Added) != 0 || len(res.Existing) != 5 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	if len(ev.rec.evs) != seen {
		t.Fatalf("second import logged %d events", len(ev.rec.evs)-seen)
	}
	ev.close()
	if d := diffDumps(before, dumpStore(t, path)); len(d) != 0 {
		t.Fatalf("second import changed the store: %v", d)
	}

	// Paid after the switch: the original id completes.
	ev = newEnv(t, path, fc)
	if _, err = ev.eng.Open(ctx, vw.KeyMaterial); err != nil {
		t.Fatal(err)
	}
	seen = len(ev.rec.evs)
	fc.mempoolAdd(payTx(addr(1).PkScript, 10_000, 3))
	b := ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Address != "aaaaaaaaaa" || b.Status != wallet.StatusUnconfirmed {
		t.Fatalf("mempool payment: %+v", b)
	}
	fc.mine()
	b = ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Address == "aaaaaaaaaa" })
	if b.Status != wallet.StatusPaid {
		t.Fatalf("mined payment: %+v", b)
	}
}

// TestImportRequestsImportedWallet: an address-list wallet (Electrum's
// imported wallet) takes requests on its own addresses only.
func TestImportRequestsImportedWallet(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.Receiving[0]+" "+vw.Receiving[1])
	if err != nil {
		t.Fatal(err)
	}
	res, err := w.ImportRequests(ctx, []wallet.ImportedRequest{
		{ID: "one", Address: vw.Receiving[1], Amount: 5, Timestamp: ev.clock().Unix()},
		{ID: "two", Address: vw.Receiving[2], Amount: 5, Timestamp: ev.clock().Unix()},
	}, wallet.ImportOptions{Receiving: 40})
	if err != nil || fmt.Sprint(res.Added) != "[one]" || len(res.Skipped) != 1 || !errors.Is(res.Skipped[0].Err, wallet.ErrImportAddress) {
		t.Fatalf("%+v %v", res, err)
	}
	if got, err := w.GetRequest(ctx, "one"); err != nil || got.Address != vw.Receiving[1] {
		t.Fatalf("get_request: %+v %v", got, err)
	}
}

func ev0Net(t *testing.T) *params.Network {
	t.Helper()
	n, err := params.BTC("regtest")
	if err != nil {
		t.Fatal(err)
	}
	return n
}
