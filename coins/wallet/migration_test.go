package wallet_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// TestStoreMigrationV1 opens a store of schema 1 (JSON records keyed by
// wallet id: testdata/store-v1-cdf8c0e.db, written by storeScenario at
// cdf8c0e) with the current engine: it is migrated through schema 2 (typed
// event records) to schema 3 (binary records keyed by wallet number), its
// old buckets are emptied, and every wallet
// reads exactly as the same scenario's wallets in a store the current
// engine wrote itself: balances, coins, history, requests, addresses,
// labels, frozen addresses and coins, gap limits. The migrated engine then
// keeps working: a payment is credited and announced, a new request gets a
// fresh address, and the in-memory indexes match the store.
func TestStoreMigrationV1(t *testing.T) { testStoreMigration(t, "testdata/store-v1-cdf8c0e.db", 1) }

// TestStoreMigrationV2 is TestStoreMigrationV1 on a store of schema 2 (typed
// event records, JSON records keyed by wallet id:
// testdata/store-v2-6485000.db, written by the same scenario with main's
// engine at 6485000): migration 3 alone.
func TestStoreMigrationV2(t *testing.T) { testStoreMigration(t, "testdata/store-v2-6485000.db", 2) }

// TestStoreMigrationV3 is TestStoreMigrationV1 on a store of schema 3
// (binary records keyed by wallet number, with the bTxWallets and bSeen
// index rows: testdata/store-v3-5ca9503.db, written by the same scenario
// with main's engine at 5ca9503): migration 4 alone, which folds those
// rows into the transaction and wallet-transaction records and empties
// both buckets.
func TestStoreMigrationV3(t *testing.T) { testStoreMigration(t, "testdata/store-v3-5ca9503.db", 3) }

// TestStoreMigrationV4 is TestStoreMigrationV1 on a store of schema 4
// (transaction records holding their raw bytes:
// testdata/store-v4-db4005c.db, written by the same scenario with main's
// engine at db4005c): migration 5 alone, which moves the raw bytes into
// a bucket of their own.
func TestStoreMigrationV4(t *testing.T) { testStoreMigration(t, "testdata/store-v4-db4005c.db", 4) }

// TestStoreMigrationV5 is TestStoreMigrationV1 on a store of schema 5
// (requests and the addresses they took in two buckets:
// testdata/store-v5-3cd536b.db, written by the same scenario with main's
// engine at 3cd536b): migrations 6 (both kinds of rows into one bucket,
// side by side) and 7 (one get_updates index row per wallet and commit
// from then on; a schema-5 row names its key's event only).
func TestStoreMigrationV5(t *testing.T) { testStoreMigration(t, "testdata/store-v5-3cd536b.db", 5) }

func testStoreMigration(t *testing.T, fixture string, version uint32) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	ref := newEnv(t, filepath.Join(t.TempDir(), "ref.db"), fc)
	want := storeScenario(t, ref)
	ref.setNow(ref.clock().Add(2 * time.Hour))

	path := filepath.Join(t.TempDir(), "old.db")
	copyFile(t, fixture, path)
	if got := storeVersion(t, path); got != version {
		t.Fatalf("%s is at schema %d, want %d", fixture, got, version)
	}
	mig := newEnv(t, path, fc.clone())
	mig.setNow(ref.clock())
	if mig.eng.TotalWallets() != 3 || mig.eng.Height() != 4 {
		t.Fatalf("migrated: %d wallets, height %d", mig.eng.TotalWallets(), mig.eng.Height())
	}
	if err := mig.store.View(ctx, func(kv wallet.KV) error {
		if v := kv.Get("meta", []byte("version")); len(v) != 4 || binary.BigEndian.Uint32(v) != wallet.SchemaVersion {
			t.Errorf("schema version %x, want %d", v, wallet.SchemaVersion)
		}
		for _, b := range []string{"wallets", "addrs", "utxos", "requests", "reqaddr", "wtx", "txw", "frozen", "labels", "gaplimit"} {
			_ = kv.Scan(b, nil, nil, func(k, _ []byte) error {
				t.Errorf("schema 1 bucket %s still has %x", b, k)
				return wallet.ErrStopScan
			})
		}
		// The scenario's wallet txs all have records: no seen row stays.
		for _, b := range []string{"tw", "seen"} {
			_ = kv.Scan(b, nil, nil, func(k, _ []byte) error {
				t.Errorf("schema 3 bucket %s still has %x", b, k)
				return wallet.ErrStopScan
			})
		}
		// Schema 5: every transaction record without its raw bytes, each
		// with its raw record.
		inline, split, raws, err := wallet.TxRawLayout(kv)
		if err != nil {
			return err
		}
		if inline != 0 || split < 3 || raws != split {
			t.Errorf("transaction records: %d with raw bytes, %d without, %d raw records", inline, split, raws)
		}
		// Schema 6: every request and address row in the merged bucket,
		// none left in the old ones.
		reqs, addrs, old, orphans, err := wallet.RequestLayout(kv)
		if err != nil {
			return err
		}
		if old != 0 || reqs < 4 || addrs < reqs || orphans != 0 {
			t.Errorf("request rows: %d requests (%d without their address row) and %d address rows merged, %d left in schema 5's buckets",
				reqs, orphans, addrs, old)
		}
		return kv.Scan("meta", []byte("seen:"), nil, func(k, _ []byte) error {
			t.Errorf("schema 1 meta key %q left", k)
			return wallet.ErrStopScan
		})
	}); err != nil {
		t.Fatal(err)
	}
	ka, kb, kc := fixtureKeys(t)
	got := fixtureWallets{}
	for _, x := range []struct {
		key string
		w   **wallet.Wallet
	}{{ka, &got.a}, {kb, &got.b}, {kc, &got.c}} {
		w, err := mig.eng.Open(ctx, x.key)
		if err != nil {
			t.Fatal(err)
		}
		*x.w = w
	}
	for _, p := range []struct {
		name      string
		want, got *wallet.Wallet
	}{{"a", want.a, got.a}, {"b", want.b, got.b}, {"c", want.c, got.c}} {
		if w, g := walletView(t, p.want), walletView(t, p.got); !reflect.DeepEqual(w, g) {
			t.Errorf("wallet %s after migration:\n got %+v\nwant %+v", p.name, g, w)
		}
	}
	if w, g := eventLog(t, ref.eng), eventLog(t, mig.eng); len(w) < 10 || !reflect.DeepEqual(w, g) {
		t.Errorf("event log after migration:\n got %v\nwant %v", g, w)
	}
	// get_updates reads the migrated index rows (one per event up to
	// schema 5) as the reference's: each wallet drains the same events.
	drained := 0
	for _, p := range []struct {
		name      string
		want, got *wallet.Wallet
	}{{"a", want.a, got.a}, {"b", want.b, got.b}, {"c", want.c, got.c}} {
		w, g := updatesLog(t, p.want), updatesLog(t, p.got)
		if !reflect.DeepEqual(w, g) {
			t.Errorf("get_updates of wallet %s after migration:\n got %v\nwant %v", p.name, g, w)
		}
		drained += len(w)
	}
	if drained < 5 {
		t.Errorf("get_updates drained %d events of the three wallets: the check compares nothing", drained)
	}
	if err := mig.eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	// What the migrated records know about wallets' transactions at work:
	// disconnecting block 4 moves wallet c's payment back to the mempool
	// (the engine finds the wallets of a transaction in its records), and
	// when the next block mines it again it is verified but not announced
	// as new (its new_transaction is logged).
	creqs, err := got.c.ListRequests(ctx, false, false, false)
	if err != nil || len(creqs) != 1 {
		t.Fatalf("wallet c's requests: %v %v", creqs, err)
	}
	ctx3 := payTx(creqs[0].PkScript, 10_000, 3).TxHash().String()
	from := len(mig.rec.snapshot())
	mig.chain.reorg(1)
	mig.rec.waitEvent(t, &from, func(b evBody) bool {
		return b.Event == "new_payment" && b.Address == creqs[0].ID && b.Status == wallet.StatusUnconfirmed
	})
	// Still alive: the expired request is paid late, a new request gets a
	// fresh address.
	reqs, err := got.a.ListRequests(ctx, false, true, false)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("expired requests: %v %v", reqs, err)
	}
	from = len(mig.rec.snapshot())
	fc2 := mig.chain
	fc2.mine(payTx(reqs[0].PkScript, 70_000, 9))
	mig.rec.waitEvent(t, &from, func(b evBody) bool {
		return b.Event == "new_payment" && b.Address == reqs[0].ID && b.Status == wallet.StatusPaid
	})
	// Schema 7: the block's three events of wallet a (new_transaction,
	// verified_tx, new_payment) have one get_updates index row.
	if err := mig.store.View(ctx, func(kv wallet.KV) error {
		rows, err := wallet.WalletEventRows(kv, got.a.ID)
		if err == nil && (len(rows) == 0 || len(rows[len(rows)-1]) != 3) {
			t.Errorf("wallet a's get_updates rows after the block: %v, want the last naming 3 events", rows)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var verified int
	for _, ev := range mig.rec.snapshot() {
		if b := bodyOf(ev); b.Tx == ctx3 && b.Event == "new_transaction" {
			t.Errorf("wallet c's returning tx announced again: %+v", b)
		} else if b.Tx == ctx3 && b.Event == "verified_tx" && b.Height == 4 {
			verified++
		}
	}
	if verified != 1 {
		t.Errorf("wallet c's tx mined again at height 4: %d verified_tx events, want 1", verified)
	}
	all, err := got.a.ListRequests(ctx, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	nr, err := got.a.AddRequest(ctx, 1_000, "after", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range all {
		if r.Address == nr.Address {
			t.Fatalf("new request reuses %s of request %s", nr.Address, r.ID)
		}
	}
	if err := mig.eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
}

// view is what a wallet shows through every read method, with times made
// comparable.
type view struct {
	Balance   wallet.Balance
	UTXOs     []wallet.UTXO
	History   []wallet.HistoryItem
	Requests  []wallet.RequestView
	Addresses []wallet.Address
	Labels    map[string]string
	Frozen    map[string]bool
	Coins     []string
	Gap       uint32
	MPK       string
}

func walletView(t *testing.T, w *wallet.Wallet) view {
	t.Helper()
	ctx := context.Background()
	var v view
	var err error
	if v.Balance, err = w.Balance(ctx); err != nil {
		t.Fatal(err)
	}
	if v.UTXOs, err = w.UTXOs(ctx); err != nil {
		t.Fatal(err)
	}
	sort.Slice(v.UTXOs, func(i, j int) bool { return v.UTXOs[i].OutPoint.String() < v.UTXOs[j].OutPoint.String() })
	if v.History, err = w.History(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range v.History {
		v.History[i].Time = v.History[i].Time.UTC().Round(0)
		v.History[i].FirstSeen = v.History[i].FirstSeen.UTC().Round(0)
	}
	rs, err := w.ListRequests(ctx, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		v.Requests = append(v.Requests, *r)
	}
	if v.Addresses, err = w.Addresses(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Labels, err = w.Labels(ctx); err != nil {
		t.Fatal(err)
	}
	if v.Frozen, err = w.FrozenAddresses(ctx); err != nil {
		t.Fatal(err)
	}
	coins, err := w.SortedFrozenCoins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range coins {
		v.Coins = append(v.Coins, c.String())
	}
	v.Gap = w.GapLimit(ctx)
	v.MPK = w.MPK()
	return v
}

// failingStore fails its nth Update (counting from 1) and every later one.
type failingStore struct {
	wallet.Store
	n, calls int
}

func (f *failingStore) Update(ctx context.Context, fn func(wallet.KV) error) error {
	f.calls++
	if f.calls >= f.n {
		return errors.New("injected: disk gone")
	}
	return f.Store.Update(ctx, fn)
}

// TestStoreMigrationV1Resumes interrupts the migration of store-v1-cdf8c0e.db
// after each of its transactions in turn (three records per transaction):
// the engine refuses to start on the half-migrated store, and the next
// start finishes the migration; the store then reads as the reference
// one.
func TestStoreMigrationV1Resumes(t *testing.T) {
	defer wallet.SetMigrateChunk(3)()
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	fc.mine()
	ref := newEnv(t, filepath.Join(t.TempDir(), "ref.db"), fc)
	want := storeScenario(t, ref)
	ka, _, _ := fixtureKeys(t)
	for n := 1; ; n++ {
		path := filepath.Join(t.TempDir(), "v1.db")
		copyFile(t, "testdata/store-v1-cdf8c0e.db", path)
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fs := &failingStore{Store: st, n: n}
		_, err = wallet.New(ctx, wallet.Config{Net: net, Store: fs, Backend: fc.clone(), NoSync: true})
		_ = st.Close()
		if err == nil {
			if n < 5 {
				t.Fatalf("migration done in %d transactions: the chunk size does not split it", n-1)
			}
			break
		}
		mig := newEnv(t, path, fc.clone())
		mig.setNow(ref.clock())
		w, err := mig.eng.Open(ctx, ka)
		if err != nil {
			t.Fatalf("after an interruption at transaction %d: %v", n, err)
		}
		if g, wv := walletView(t, w), walletView(t, want.a); !reflect.DeepEqual(g, wv) {
			t.Fatalf("interrupted at transaction %d, then resumed:\n got %+v\nwant %+v", n, g, wv)
		}
		if err := mig.eng.CheckIndexes(ctx); err != nil {
			t.Fatalf("interrupted at transaction %d: %v", n, err)
		}
		mig.close()
	}
}

// TestStoreMigrationV4Resumes interrupts migration 5 of
// store-v4-db4005c.db after each of its transactions in turn (one
// transaction record per transaction): the next start finishes it, and
// every wallet then reads as the reference store's, each transaction with
// its raw bytes in their own bucket only.
func TestStoreMigrationV4Resumes(t *testing.T) {
	defer wallet.SetMigrateChunk(1)()
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	fc.mine()
	ref := newEnv(t, filepath.Join(t.TempDir(), "ref.db"), fc)
	want := storeScenario(t, ref)
	ka, kb, kc := fixtureKeys(t)
	for n := 1; ; n++ {
		path := filepath.Join(t.TempDir(), "v4.db")
		copyFile(t, "testdata/store-v4-db4005c.db", path)
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fs := &failingStore{Store: st, n: n}
		_, err = wallet.New(ctx, wallet.Config{Net: net, Store: fs, Backend: fc.clone(), NoSync: true})
		var inline, split int
		if verr := st.View(ctx, func(kv wallet.KV) error {
			var err error
			inline, split, _, err = wallet.TxRawLayout(kv)
			return err
		}); verr != nil {
			t.Fatal(verr)
		}
		_ = st.Close()
		if err == nil {
			if n < 4 {
				t.Fatalf("migration done in %d transactions: the chunk size does not split it", n-1)
			}
			break
		}
		if n > 1 && n < 4 && (inline == 0 || split == 0) {
			t.Errorf("interrupted at transaction %d: %d records split, %d not: not a partial migration", n, split, inline)
		}
		mig := newEnv(t, path, fc.clone())
		mig.setNow(ref.clock())
		for _, x := range []struct {
			key  string
			want *wallet.Wallet
		}{{ka, want.a}, {kb, want.b}, {kc, want.c}} {
			w, err := mig.eng.Open(ctx, x.key)
			if err != nil {
				t.Fatalf("after an interruption at transaction %d: %v", n, err)
			}
			if g, wv := walletView(t, w), walletView(t, x.want); !reflect.DeepEqual(g, wv) {
				t.Fatalf("interrupted at transaction %d, then resumed:\n got %+v\nwant %+v", n, g, wv)
			}
		}
		if err := mig.store.View(ctx, func(kv wallet.KV) error {
			inline, split, raws, err := wallet.TxRawLayout(kv)
			if err == nil && (inline != 0 || raws != split) {
				t.Errorf("interrupted at transaction %d, then resumed: %d records with raw bytes, %d without, %d raw records",
					n, inline, split, raws)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := mig.eng.CheckIndexes(ctx); err != nil {
			t.Fatalf("interrupted at transaction %d: %v", n, err)
		}
		mig.close()
	}
}

// storeVersion returns the schema version of the store at path.
func storeVersion(t *testing.T, path string) uint32 {
	t.Helper()
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var v uint32
	if err := st.View(context.Background(), func(kv wallet.KV) error {
		if raw := kv.Get("meta", []byte("version")); len(raw) == 4 {
			v = binary.BigEndian.Uint32(raw)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return v
}

// updatesLog drains the wallet's get_updates queue and returns its events
// as comparable strings (the typed record, without seq and time), sorted.
func updatesLog(t *testing.T, w *wallet.Wallet) []string {
	t.Helper()
	ups, err := w.Updates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(ups))
	for _, u := range ups {
		out = append(out, fmt.Sprintf("%s %+v", u.WalletID, u.Record))
	}
	sort.Strings(out)
	return out
}

// eventLog returns the engine's logged events as comparable strings (the
// wallet id and the typed record, without seq and time), sorted: the
// scenario's background work may log two wallets' events in either order.
func eventLog(t *testing.T, e *wallet.Engine) []string {
	t.Helper()
	evs, err := e.EventsAfter(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, 0, len(evs))
	for _, ev := range evs {
		out = append(out, fmt.Sprintf("%s %+v", ev.WalletID, ev.Record))
	}
	sort.Strings(out)
	return out
}

// TestStoreMigrationV5Resumes interrupts migrations 6 and 7 of
// store-v5-3cd536b.db after each of their transactions in turn (one row
// moved per transaction of migration 6; migration 7 records its version
// only): the store is left below the current schema, the next start
// finishes it, and every wallet and its get_updates queue then read as
// the reference store's, every request row and address row in the merged
// bucket and none left behind.
func TestStoreMigrationV5Resumes(t *testing.T) {
	defer wallet.SetMigrateChunk(1)()
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	fc.mine()
	ref := newEnv(t, filepath.Join(t.TempDir(), "ref.db"), fc)
	want := storeScenario(t, ref)
	ka, kb, kc := fixtureKeys(t)
	// get_updates drains the queue: the reference's are read once.
	wantUpdates := map[string][]string{ka: updatesLog(t, want.a), kb: updatesLog(t, want.b), kc: updatesLog(t, want.c)}
	partial := 0
	for n := 1; ; n++ {
		path := filepath.Join(t.TempDir(), "v5.db")
		copyFile(t, "testdata/store-v5-3cd536b.db", path)
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fs := &failingStore{Store: st, n: n}
		_, err = wallet.New(ctx, wallet.Config{Net: net, Store: fs, Backend: fc.clone(), NoSync: true})
		var reqs, addrs, old int
		if verr := st.View(ctx, func(kv wallet.KV) error {
			var err error
			reqs, addrs, old, _, err = wallet.RequestLayout(kv)
			return err
		}); verr != nil {
			t.Fatalf("interrupted at transaction %d: %v", n, verr)
		}
		_ = st.Close()
		if v := storeVersion(t, path); err != nil && v >= wallet.SchemaVersion {
			t.Fatalf("interrupted at transaction %d: the store says schema %d", n, v)
		}
		if err == nil {
			if partial < 6 {
				t.Fatalf("migration done in %d transactions, %d of them left it partial: the chunk size does not split it", n-1, partial)
			}
			break
		}
		if old > 0 && reqs+addrs > 0 {
			partial++
		}
		mig := newEnv(t, path, fc.clone())
		mig.setNow(ref.clock())
		for _, x := range []struct {
			key  string
			want *wallet.Wallet
		}{{ka, want.a}, {kb, want.b}, {kc, want.c}} {
			w, err := mig.eng.Open(ctx, x.key)
			if err != nil {
				t.Fatalf("after an interruption at transaction %d: %v", n, err)
			}
			if g, wv := walletView(t, w), walletView(t, x.want); !reflect.DeepEqual(g, wv) {
				t.Fatalf("interrupted at transaction %d, then resumed:\n got %+v\nwant %+v", n, g, wv)
			}
			if g, wv := updatesLog(t, w), wantUpdates[x.key]; !reflect.DeepEqual(g, wv) {
				t.Errorf("interrupted at transaction %d, then resumed: get_updates\n got %v\nwant %v", n, g, wv)
			}
		}
		if err := mig.store.View(ctx, func(kv wallet.KV) error {
			reqs, addrs, old, orphans, err := wallet.RequestLayout(kv)
			if err == nil && (old != 0 || reqs < 4 || addrs < reqs || orphans != 0) {
				t.Errorf("interrupted at transaction %d, then resumed: %d requests (%d orphans), %d address rows merged, %d left",
					n, reqs, orphans, addrs, old)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if err := mig.eng.CheckIndexes(ctx); err != nil {
			t.Fatalf("interrupted at transaction %d: %v", n, err)
		}
		mig.close()
	}
}
