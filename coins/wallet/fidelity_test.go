package wallet_test

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
	"github.com/walletd/walletd/coins/wallet/faulttest"
	"github.com/walletd/walletd/coins/wallet/memstore"
)

// TestRequestArguments: amount 0 is an amount-less request (paid by any
// payment) and expiry 0 never expires; an expiry at the end of time does
// not wrap; out-of-range arguments are refused. (The URIs Electrum gives
// these requests: the daemon's TestElectrumURI.)
func TestRequestArguments(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.AddRequest(ctx, 150_000_000, "Salt & Pepper", 0, false)
	if err != nil || r.Amount != 150_000_000 || r.Memo != "Salt & Pepper" || r.Timestamp != ev.clock().Unix() {
		t.Fatalf("request: %+v %v", r, err)
	}
	r, _ = w.AddRequest(ctx, 0, "", 0, false)
	if r.Amount != 0 || r.Paid {
		t.Errorf("amount-less request: %+v", r)
	}
	script, _ := ev.net.PkScript(r.Address)
	fc.mempoolAdd(payTx(script, 1234, 1))
	waitFor(t, func() bool {
		g, _ := w.GetRequest(ctx, r.ID)
		return g.Status == wallet.StatusUnconfirmed && g.Paid && g.Sent == 1234
	})
	// An expiry at the end of time never expires (it must not wrap).
	r, err = w.AddRequest(ctx, 1000, "", math.MaxInt64, false)
	if err != nil || r.Status != wallet.StatusUnpaid {
		t.Fatalf("huge expiry: %+v %v", r, err)
	}
	for _, c := range []struct {
		amount, expiry int64
		want           error
	}{{-1, 0, wallet.ErrInvalidAmount}, {wallet.MaxAmount + 1, 0, wallet.ErrInvalidAmount}, {1, -1, wallet.ErrInvalidExpiry}} {
		if _, err := w.AddRequest(ctx, c.amount, "", c.expiry, false); !errors.Is(err, c.want) {
			t.Errorf("amount %d expiry %d: %v, want %v", c.amount, c.expiry, err, c.want)
		}
	}
}

// TestImportedWalletRequests: an address-list wallet gives each request
// the first address without history or request (Electrum's order), and
// when none is left fails, with force too (it cannot derive).
func TestImportedWalletRequests(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	addrs := regtestWallet(t, "p2wpkh-account-xpub").Receiving[:3]
	w, err := ev.eng.Open(ctx, strings.Join(addrs, " "))
	if err != nil {
		t.Fatal(err)
	}
	// One address already has history.
	paid, _ := ev.net.PkScript(addrs[1])
	fc.mine(payTx(paid, 1000, 1))
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Confirmed == 1000 })
	got := map[string]bool{}
	for i := 0; i < 2; i++ {
		r, err := w.AddRequest(ctx, 1000, "", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if r.Address == addrs[1] || got[r.Address] {
			t.Fatalf("request %d got %s (taken)", i, r.Address)
		}
		got[r.Address] = true
	}
	if _, err := w.AddRequest(ctx, 1000, "", 0, false); !errors.Is(err, wallet.ErrGapLimit) {
		t.Fatalf("no address left: %v", err)
	}
	if _, err := w.AddRequest(ctx, 1000, "", 0, true); !errors.Is(err, wallet.ErrCannotGenerate) {
		t.Fatalf("no address left, forced: %v", err)
	}
}

// TestGetUpdatesMergesGlobalEvents: get_updates returns new_block with
// the wallet's events (Bitcart queues global events for every wallet);
// PollingCap 0 disables it; a poll with nothing new writes nothing.
func TestGetUpdatesMergesGlobalEvents(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	for _, pollingCap := range []int{wallet.DefaultPollingCap, 0} {
		st := faulttest.NewStore(memstore.New())
		fc := newFakeChain()
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc, PollingCap: pollingCap})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := w.AddRequest(ctx, 1000, "", 0, false)
		script, _ := net.PkScript(r.Address)
		fc.mine(payTx(script, 1000, 1))
		waitFor(t, func() bool { g, _ := w.GetRequest(ctx, r.ID); return g.Status == wallet.StatusPaid })
		ups, err := w.Updates(ctx)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, u := range ups {
			kinds[bodyOf(u).Event]++
		}
		if pollingCap == 0 {
			if len(ups) != 0 {
				t.Errorf("PollingCap 0: %d updates", len(ups))
			}
		} else if kinds["new_block"] != 1 || kinds["new_payment"] != 1 || kinds["new_transaction"] != 1 {
			t.Errorf("updates %v, want the block, the transaction and the payment", kinds)
		}
		before := st.Commits()
		for i := 0; i < 3; i++ {
			if ups, err := w.Updates(ctx); err != nil || len(ups) != 0 {
				t.Fatalf("second drain: %d %v", len(ups), err)
			}
		}
		if st.Commits() != before {
			t.Errorf("empty polls wrote %d transactions", st.Commits()-before)
		}
		eng.Close()
	}
}

// TestEventWalletKeyIsNeverASecret: events of a wallet loaded with its seed
// name it by its master public key, while the seed is loaded too.
func TestEventWalletKeyIsNeverASecret(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "electrum-segwit-seed")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := w.AddRequest(ctx, 1000, "", 0, false)
	script, _ := ev.net.PkScript(r.Address)
	fc.mempoolAdd(payTx(script, 1000, 1))
	waitFor(t, func() bool { ev.rec.mu.Lock(); defer ev.rec.mu.Unlock(); return len(ev.rec.evs) >= 2 })
	for _, e := range ev.rec.snapshot() {
		if e.WalletKey != vw.MPK || e.WalletID != w.ID {
			t.Fatalf("event named %q (id %s), want the mpk", e.WalletKey, e.WalletID)
		}
	}
}

// TestMaxWallets: past MaxWallets a new wallet is refused with a typed
// error; tracked ones still open.
func TestMaxWallets(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: memstore.New(), Backend: fc, MaxWallets: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a := regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial
	if _, err := eng.Open(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Open(ctx, regtestWallet(t, "standard-account-xpub").KeyMaterial); !errors.Is(err, wallet.ErrTooManyWallets) {
		t.Fatalf("second wallet past MaxWallets 1: %v", err)
	}
	if _, err := eng.Open(ctx, a); err != nil {
		t.Fatalf("the tracked wallet: %v", err)
	}
	if _, err := wallet.New(ctx, wallet.Config{Net: net, Store: memstore.New(), MaxWallets: -1}); err == nil {
		t.Fatal("negative MaxWallets accepted")
	}
}

// TestExpiredRequestsLeaveTheRescan: the rescan made on (re)connection
// looks up open requests and those expired recently, not those expired
// longer ago than ExpiredRescanWindow.
func TestExpiredRequestsLeaveTheRescan(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	path := filepath.Join(t.TempDir(), "w.db")
	now := time.Unix(1.7e9, 0)
	clock := func() time.Time { return now }
	open := func(fc *faultBackend) (*wallet.Engine, *boltstore.Store) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc, Now: clock,
			ExpiredRescanWindow: 7 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return eng, st
	}
	fc := newFakeChain()
	eng, st := open(faulttest.NewBackend(fc))
	w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := w.AddRequest(ctx, 1000, "", 3600, false)
	now = now.Add(6 * 24 * time.Hour)
	recent, _ := w.AddRequest(ctx, 1000, "", 3600, false)
	open2, _ := w.AddRequest(ctx, 1000, "", 0, false)
	now = now.Add(2 * 24 * time.Hour) // old expired 8 days ago, recent 2 days ago
	eng.Close()
	_ = st.Close()
	var looked [][]byte
	b := faulttest.NewBackend(fc.clone())
	b.Inject(faulttest.Fault{Method: faulttest.History, Scripts: func(ss [][]byte) bool {
		looked = append(looked, ss...)
		return false
	}})
	eng, st = open(b)
	defer func() { eng.Close(); _ = st.Close() }()
	waitFor(t, func() bool { return b.Calls(faulttest.History) > 0 })
	has := func(addr string) bool {
		s, _ := net.PkScript(addr)
		for _, l := range looked {
			if string(l) == string(s) {
				return true
			}
		}
		return false
	}
	if has(old.Address) || !has(recent.Address) || !has(open2.Address) {
		t.Fatalf("rescanned old %v recent %v open %v; want only recent and open", has(old.Address), has(recent.Address), has(open2.Address))
	}
}

type faultBackend = faulttest.Backend

// TestDisklessThenDurable is the merchant's wallet creation and the payout
// flow (Bitcart's diskless keys), then a restart: make_seed → getmpk with
// {"xpub": seed, "diskless": true} → close_wallet → add_request with the
// mpk → restart → get_request keeps the request. And a wallet first opened
// diskless and then durably without a close moves to the durable store
// with its requests.
func TestDisklessThenDurable(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	path := filepath.Join(t.TempDir(), "w.db")
	fc := newFakeChain()
	start := func() (*wallet.Engine, *boltstore.Store) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Volatile: memstore.New(), Backend: fc})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return eng, st
	}
	eng, st := start()
	seed := regtestWallet(t, "electrum-segwit-seed")
	dw, err := eng.OpenWith(ctx, seed.KeyMaterial, wallet.OpenOptions{Diskless: true})
	if err != nil {
		t.Fatal(err)
	}
	mpk := dw.MPK()
	if !eng.CloseWallet(seed.KeyMaterial) {
		t.Fatal("close_wallet of the diskless wallet")
	}
	if eng.TotalWallets() != 0 {
		t.Fatalf("a closed diskless wallet is still tracked (%d)", eng.TotalWallets())
	}
	w, err := eng.Open(ctx, mpk)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := w.AddRequest(ctx, 1000, "merchant", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	// Payout flow: a private key opened diskless first, then its xpub
	// durably (no close): the diskless request moves to disk.
	other := regtestWallet(t, "standard-account-xpub")
	pw, err := eng.OpenWith(ctx, other.KeyMaterial, wallet.OpenOptions{Diskless: true})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := pw.AddRequest(ctx, 2000, "made while diskless", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	script, _ := net.PkScript(r2.Address)
	fc.mine(payTx(script, 2000, 1))
	waitFor(t, func() bool { g, _ := pw.GetRequest(ctx, r2.ID); return g.Status == wallet.StatusPaid })
	pw2, err := eng.Open(ctx, other.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	// A diskless use after the durable one keeps it durable.
	if _, err := eng.OpenWith(ctx, other.KeyMaterial, wallet.OpenOptions{Diskless: true}); err != nil {
		t.Fatal(err)
	}
	_ = pw2
	eng.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	eng, st = start()
	defer func() { eng.Close(); _ = st.Close() }()
	w, err = eng.Open(ctx, mpk)
	if err != nil {
		t.Fatal(err)
	}
	if g, err := w.GetRequest(ctx, r1.ID); err != nil || g.Memo != "merchant" {
		t.Fatalf("the merchant's request after a restart: %+v %v", g, err)
	}
	pw, err = eng.Open(ctx, other.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	g, err := pw.GetRequest(ctx, r2.ID)
	if err != nil || g.Status != wallet.StatusPaid || g.Sent != 2000 {
		t.Fatalf("the request made while diskless, after a restart: %+v %v", g, err)
	}
	if b, _ := pw.Balance(ctx); b.Confirmed != 2000 {
		t.Fatalf("balance after a restart: %+v", b)
	}
}

// TestStoreMigration opens a store written before schema versions (by the
// engine at 6a7b748, testdata/store-v0.db): it is migrated, its wallets,
// requests and balances read as before, and get_updates sees its logged
// blocks. A store of a newer schema is refused, untouched.
func TestStoreMigration(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	path := filepath.Join(t.TempDir(), "v0.db")
	copyFile(t, "testdata/store-v0.db", path)
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeChain()
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc, NoSync: true, PollingCap: 100})
	if err != nil {
		t.Fatal(err)
	}
	if eng.TotalWallets() != 2 || eng.Height() != 2 {
		t.Fatalf("migrated store: %d wallets, height %d", eng.TotalWallets(), eng.Height())
	}
	w, err := eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	r1, err := w.GetRequest(ctx, "08da9c2e53")
	if err != nil || r1.Status != wallet.StatusPaid || r1.Memo != "fixture & co" || r1.Sent != 50_000 || r1.Confirmations != 1 {
		t.Fatalf("request 1: %+v %v", r1, err)
	}
	r2, err := w.GetRequest(ctx, "302fba0ac4")
	if err != nil || r2.Status != wallet.StatusExpired || r2.Amount != 70_000 {
		t.Fatalf("request 2: %+v %v", r2, err)
	}
	if b, _ := w.Balance(ctx); b.Confirmed != 50_000 {
		t.Fatalf("balance %+v", b)
	}
	ups, err := w.Updates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	blocks := 0
	for _, u := range ups {
		if u.Record.Kind == wallet.EventBlock {
			blocks++
		}
	}
	if blocks == 0 {
		t.Fatal("get_updates of a migrated store has no new_block")
	}
	eng.Close()
	// A store from a newer walletd.
	if err := st.Update(ctx, func(kv wallet.KV) error {
		return kv.Put("meta", []byte("version"), []byte{0, 0, 0, wallet.SchemaVersion + 1})
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc}); !errors.Is(err, wallet.ErrStoreVersion) {
		t.Fatalf("newer store: %v", err)
	}
	_ = st.Close()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
