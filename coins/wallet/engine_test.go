package wallet_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/amount"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
	"github.com/walletd/walletd/coins/wallet/memstore"
	"github.com/walletd/walletd/internal/vectors"
)

// recorder collects published events.
type recorder struct {
	mu  sync.Mutex
	evs []wallet.Event
}

func (r *recorder) publish(ev wallet.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.evs = append(r.evs, ev)
}

// snapshot returns a copy of the events received so far.
func (r *recorder) snapshot() []wallet.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wallet.Event(nil), r.evs...)
}

// evBody is an event's record in Bitcart's terms (the event names, the
// request id as address, the sent amount in 8 decimals).
type evBody struct {
	Event    string
	Seq      uint64
	Address  string
	Status   int
	Tx       string
	Height   int32
	TxHashes []string
	Sent     string
}

// bodyOf is ev in Bitcart's terms.
func bodyOf(ev wallet.Event) evBody {
	r := ev.Record
	b := evBody{Seq: ev.Seq, Tx: r.TxID, Height: r.Height}
	switch r.Kind {
	case wallet.EventBlock:
		b.Event = "new_block"
	case wallet.EventTransaction:
		b.Event = "new_transaction"
	case wallet.EventVerified:
		b.Event = "verified_tx"
	case wallet.EventPayment:
		b.Event, b.Address, b.Status, b.TxHashes, b.Sent = "new_payment", r.RequestID, r.Status, r.TxHashes, amount.Fixed(r.Sent)
	}
	return b
}

// waitEvent waits for an event matching pred among those not yet consumed.
func (r *recorder) waitEvent(t *testing.T, from *int, pred func(evBody) bool) evBody {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for ; *from < len(r.evs); *from++ {
			b := bodyOf(r.evs[*from])
			if pred(b) {
				*from++
				r.mu.Unlock()
				return b
			}
		}
		r.mu.Unlock()
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("event not seen")
	return evBody{}
}

type env struct {
	t     *testing.T
	chain *fakeChain
	store *boltstore.Store
	eng   *wallet.Engine
	rec   *recorder
	net   *params.Network
	path  string
	nowMu sync.Mutex
	now   time.Time // the engine's clock: read with clock, set with setNow
}

// clock is the engine's current time.
func (ev *env) clock() time.Time {
	ev.nowMu.Lock()
	defer ev.nowMu.Unlock()
	return ev.now
}

// setNow moves the engine's clock.
func (ev *env) setNow(t time.Time) {
	ev.nowMu.Lock()
	defer ev.nowMu.Unlock()
	ev.now = t
}

// startEngine makes and starts an engine on cfg (with the tests' sync
// timeout and polling cap), closed with its store st when t ends.
func startEngine(t *testing.T, cfg wallet.Config, st io.Closer) *wallet.Engine {
	t.Helper()
	cfg.SyncTimeout, cfg.PollingCap = 5*time.Second, wallet.DefaultPollingCap
	eng, err := wallet.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); _ = st.Close() })
	return eng
}

func newEnv(t *testing.T, path string, fc *fakeChain) *env {
	t.Helper()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ev := &env{t: t, chain: fc, store: st, rec: &recorder{}, net: net, path: path, now: time.Unix(1.7e9, 0)}
	ev.eng, err = wallet.New(context.Background(), wallet.Config{Net: net, Store: st, Backend: fc,
		Publish: ev.rec.publish, Now: ev.clock, SyncTimeout: 5 * time.Second,
		PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	if err := ev.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ev.close)
	return ev
}

func (ev *env) close() {
	if ev.eng != nil {
		ev.eng.Close()
		ev.eng = nil
		_ = ev.store.Close()
	}
}

func regtestWallet(t *testing.T, label string) vectors.Wallet {
	for _, w := range vectors.Load(t).Networks["regtest"].Wallets {
		if w.Label == label {
			return w
		}
	}
	t.Fatalf("no vector wallet %s", label)
	return vectors.Wallet{}
}

func TestInvoiceLifecycleReorgAndRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, path, fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	req, err := w.AddRequest(ctx, 50_000_000, "memo", 900, false)
	if err != nil {
		t.Fatal(err)
	}
	if req.Address != vw.Receiving[0] || req.Status != wallet.StatusUnpaid || req.Expiry != 900 || !req.At.Equal(ev.clock()) {
		t.Fatalf("request: %+v", req)
	}
	req2, _ := w.AddRequest(ctx, 1000, "", 0, false)
	if req2.Address != vw.Receiving[1] || req2.Status != wallet.StatusUnpaid || req2.Expiry != 0 {
		t.Fatalf("second request: %+v", req2)
	}
	script, _ := ev.net.PkScript(req.Address)
	seen := 0
	// Underpayment stays unpaid with sent_amount.
	fc.mempoolAdd(payTx(script, 20_000_000, 1))
	b := ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusUnpaid || b.Sent != "0.20000000" || b.Address != req.ID {
		t.Fatalf("underpaid event: %+v", b)
	}
	// The rest arrives: unconfirmed.
	fc.mempoolAdd(payTx(script, 30_000_000, 2))
	b = ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusUnconfirmed || b.Sent != "0.50000000" || len(b.TxHashes) != 2 {
		t.Fatalf("unconfirmed event: %+v", b)
	}
	// Mined: paid, verified_tx, new_block.
	ref := fc.mine()
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "verified_tx" && b.Height == ref.Height })
	b = ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusPaid {
		t.Fatalf("paid event: %+v", b)
	}
	got, _ := w.GetRequest(ctx, req.ID)
	if got.Status != wallet.StatusPaid || got.Confirmations != 1 {
		t.Fatalf("get_request: %+v", got)
	}
	fc.mine()
	waitFor(t, func() bool { g, _ := w.GetRequest(ctx, req.ID); return g.Confirmations == 2 })
	bal, _ := w.Balance(ctx)
	if bal.Confirmed != 50_000_000 {
		t.Fatalf("balance %+v", bal)
	}
	// Reorg both blocks away: back to unconfirmed, with an event.
	fc.reorg(2)
	b = ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusUnconfirmed {
		t.Fatalf("after reorg: %+v", b)
	}
	// The longer chain confirms it again.
	fc.mine()
	b = ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Status != wallet.StatusPaid {
		t.Fatalf("re-mined: %+v", b)
	}
	evs := ev.rec.snapshot()
	lastSeq := evs[len(evs)-1].Seq
	// Restart: the wallet is still tracked without any call, the cursor and
	// seq survive, and a payment while down is found.
	ev.close()
	script2, _ := ev.net.PkScript(req2.Address)
	fc.mine(payTx(script2, 5000, 3))
	ev2 := newEnv(t, path, fc)
	if ev2.eng.TotalWallets() != 1 {
		t.Fatalf("wallets after restart: %d", ev2.eng.TotalWallets())
	}
	seen = 0
	b = ev2.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	if b.Address != req2.ID || b.Status != wallet.StatusPaid || b.Seq <= lastSeq {
		t.Fatalf("payment while down: %+v (last seq before restart %d)", b, lastSeq)
	}
	if evs := ev2.rec.snapshot(); evs[0].WalletKey != vw.KeyMaterial {
		t.Errorf("event wallet key %q, want the public key string", evs[0].WalletKey)
	}
	// Replay from the log.
	all, err := ev2.eng.EventsAfter(ctx, 0, 1000)
	if err != nil || len(all) == 0 || all[len(all)-1].Seq != b.Seq {
		t.Fatalf("log: %d events, %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatal("seq not increasing")
		}
	}
	// get_updates drains once.
	w2, _ := ev2.eng.Open(ctx, vw.KeyMaterial)
	ups, _ := w2.Updates(ctx)
	if len(ups) == 0 {
		t.Fatal("no updates")
	}
	ups, _ = w2.Updates(ctx)
	if len(ups) != 0 {
		t.Fatalf("second drain returned %d", len(ups))
	}
}

func TestExpiryAndLatePayment(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "standard-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := w.AddRequest(ctx, 1000, "", 60, false)
	ev.setNow(ev.clock().Add(61 * time.Second))
	got, _ := w.GetRequest(ctx, req.ID)
	if got.Status != wallet.StatusExpired {
		t.Fatalf("expired: %+v", got)
	}
	// The expired request's address is not handed out again.
	next, _ := w.AddRequest(ctx, 1000, "", 60, false)
	if next.Address == req.Address {
		t.Fatal("address of an expired request reused")
	}
	// A late payment is recorded and reported.
	script, _ := ev.net.PkScript(req.Address)
	fc.mempoolAdd(payTx(script, 1000, 9))
	seen := 0
	b := ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Address == req.ID })
	if b.Status != wallet.StatusUnconfirmed {
		t.Fatalf("late payment: %+v", b)
	}
}

func TestGapLimitAndForce(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "electrum-segwit-seed")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < wallet.GapReceiving; i++ {
		r, err := w.AddRequest(ctx, 1, "", 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if i < len(vw.Receiving) && r.Address != vw.Receiving[i] {
			t.Fatalf("request %d address %s, Electrum %s", i, r.Address, vw.Receiving[i])
		}
	}
	if _, err := w.AddRequest(ctx, 1, "", 0, false); err != wallet.ErrGapLimit {
		t.Fatalf("21st request without force: %v", err)
	}
	r, err := w.AddRequest(ctx, 1, "", 0, true)
	if err != nil || r.Address == "" {
		t.Fatalf("force: %+v %v", r, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestIdleEvictionAndRetention: an idle seed wallet's key material leaves
// memory (it stays tracked and its events then carry its mpk); the event
// log keeps only the newest EventRetention events.
func TestIdleEvictionAndRetention(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fc := newFakeChain()
	rec := &recorder{}
	now := time.Unix(1.7e9, 0)
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc, Publish: rec.publish,
		Now: func() time.Time { return now }, IdleEvict: time.Minute, EventRetention: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	vw := regtestWallet(t, "electrum-segwit-seed")
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := w.AddRequest(ctx, 1000, "", 0, false)
	script, _ := net.PkScript(req.Address)
	for i := 0; i < 3; i++ {
		fc.mine()
	}
	waitFor(t, func() bool { return eng.Height() == 3 })
	if eng.LoadedWallets() != 1 {
		t.Fatal("wallet not loaded")
	}
	now = now.Add(2 * time.Minute)
	if err := eng.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if eng.LoadedWallets() != 0 || eng.TotalWallets() != 1 {
		t.Fatalf("after idle: loaded %d, tracked %d", eng.LoadedWallets(), eng.TotalWallets())
	}
	fc.mempoolAdd(payTx(script, 1000, 7))
	seen := 0
	rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" })
	rec.mu.Lock()
	last := rec.evs[len(rec.evs)-1]
	rec.mu.Unlock()
	if last.WalletKey != vw.MPK {
		t.Errorf("evicted wallet's event key %q, want its mpk", last.WalletKey)
	}
	if err := eng.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	evs, _ := eng.EventsAfter(ctx, 0, 100)
	if len(evs) != 3 || evs[2].Seq != last.Seq {
		t.Fatalf("retention: %d events kept, last %d (want 3 ending at %d)", len(evs), evs[len(evs)-1].Seq, last.Seq)
	}
}

// TestDisklessWalletNeverReachesDisk runs a diskless wallet through a
// request, a mempool payment, a block and a reorg next to a normal wallet,
// then reads the bolt file: none of the diskless wallet's addresses,
// scripts, request id or txids is in it, while the normal wallet's are. The
// diskless wallet's events share the seq sequence and replay from memory.
func TestDisklessWalletNeverReachesDisk(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	path := filepath.Join(t.TempDir(), "w.db")
	st, err := boltstore.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fc := newFakeChain()
	rec := &recorder{}
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Volatile: memstore.New(), Backend: fc, Publish: rec.publish})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	secret := regtestWallet(t, "electrum-segwit-seed")
	normal := regtestWallet(t, "standard-account-xpub")
	dw, err := eng.OpenWith(ctx, secret.KeyMaterial, wallet.OpenOptions{Diskless: true})
	if err != nil {
		t.Fatal(err)
	}
	nw, err := eng.Open(ctx, normal.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	dreq, _ := dw.AddRequest(ctx, 5000, "diskless memo", 0, false)
	nreq, _ := nw.AddRequest(ctx, 5000, "normal memo", 0, false)
	dscript, _ := net.PkScript(dreq.Address)
	nscript, _ := net.PkScript(nreq.Address)
	dtx, ntx := payTx(dscript, 5000, 31), payTx(nscript, 5000, 32)
	fc.mempoolAdd(dtx)
	fc.mempoolAdd(ntx)
	seen := 0
	b := rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Address == dreq.ID })
	fc.mine()
	rec.waitEvent(t, &seen, func(b evBody) bool {
		return b.Event == "new_payment" && b.Address == dreq.ID && b.Status == wallet.StatusPaid
	})
	fc.reorg(1)
	rec.waitEvent(t, &seen, func(b evBody) bool {
		return b.Event == "new_payment" && b.Address == dreq.ID && b.Status == wallet.StatusUnconfirmed
	})
	got, err := dw.GetRequest(ctx, dreq.ID)
	if err != nil || got.Status != wallet.StatusUnconfirmed || got.Sent != 5000 {
		t.Fatalf("diskless request: %+v %v", got, err)
	}
	evs, _ := eng.EventsAfter(ctx, 0, 1000)
	var found bool
	for i, ev := range evs {
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Fatal("merged replay not in seq order")
		}
		found = found || ev.Seq == b.Seq
	}
	if !found {
		t.Fatal("the diskless wallet's event is not replayable")
	}
	eng.Close()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dtxid, ntxid := dtx.TxHash(), ntx.TxHash()
	for _, a := range append(append([]string{}, secret.Receiving...), secret.Change...) {
		if bytes.Contains(raw, []byte(a)) {
			t.Errorf("the store holds diskless address %s", a)
		}
	}
	for what, needle := range map[string][]byte{"script": dscript, "request id": []byte(dreq.ID),
		"memo": []byte("diskless memo"), "txid": dtxid[:], "txid hex": []byte(dtxid.String()), "mpk": []byte(secret.MPK)} {
		if bytes.Contains(raw, needle) {
			t.Errorf("the store holds the diskless wallet's %s", what)
		}
	}
	for what, needle := range map[string][]byte{"address": []byte(nreq.Address), "request id": []byte(nreq.ID), "txid": ntxid[:]} {
		if !bytes.Contains(raw, needle) {
			t.Errorf("the normal wallet's %s is missing from the store: the scan is broken", what)
		}
	}
}

// TestReorgOfStartingBlock: a new store starts at the node's tip; a reorg
// that replaces exactly that block must not wedge the engine.
func TestReorgOfStartingBlock(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial) // waits for the initial sync
	if err != nil {
		t.Fatal(err)
	}
	fc.reorg(1)
	fc.mine()
	fc.mine()
	waitFor(t, func() bool { return ev.eng.Height() == 2 })
	req, _ := w.AddRequest(ctx, 1000, "", 0, false)
	script, _ := ev.net.PkScript(req.Address)
	fc.mine(payTx(script, 1000, 41))
	waitFor(t, func() bool { g, _ := w.GetRequest(ctx, req.ID); return g.Status == wallet.StatusPaid })
}

// TestReplacementDropsTheLoser: a transaction that spends a wallet coin
// already spent by another unconfirmed one (an RBF bump, a double spend)
// replaces it: the loser and its change leave the history and the balance.
func TestReplacementDropsTheLoser(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	recv, _ := ev.net.PkScript(vw.Receiving[0])
	change, _ := ev.net.PkScript(vw.Change[0])
	other, _ := ev.net.PkScript(vw.Receiving[0])
	other = append([]byte{}, other...)
	other[len(other)-1] ^= 0xff // someone else's script
	fund := payTx(recv, 100_000, 51)
	fc.mine(fund)
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Confirmed == 100_000 })
	spend := func(changeValue int64) *wire.MsgTx {
		tx := wire.NewMsgTx(2)
		tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: fund.TxHash(), Index: 0}, nil, nil))
		tx.AddTxOut(wire.NewTxOut(5_000, other))
		tx.AddTxOut(wire.NewTxOut(changeValue, change))
		return tx
	}
	a, b := spend(90_000), spend(80_000)
	fc.mempoolAdd(a)
	waitFor(t, func() bool { bal, _ := w.Balance(ctx); return bal.Unconfirmed == -10_000 })
	fc.mempoolAdd(b)
	waitFor(t, func() bool { bal, _ := w.Balance(ctx); return bal.Unconfirmed == -20_000 })
	hist, _ := w.History(ctx)
	for _, h := range hist {
		if h.TxID == a.TxHash() {
			t.Fatal("the replaced transaction is still in the history")
		}
	}
	if len(hist) != 2 {
		t.Fatalf("history has %d txs, want the funding tx and the replacement", len(hist))
	}
	fc.mine()
	waitFor(t, func() bool { bal, _ := w.Balance(ctx); return bal.Confirmed == 80_000 && bal.Unconfirmed == 0 })
}

// TestConcurrentRequestsGetDistinctAddresses: requests created at the same
// time on one wallet (and on others) never share an address.
func TestConcurrentRequestsGetDistinctAddresses(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	a, err := ev.eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ev.eng.Open(ctx, regtestWallet(t, "standard-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for i := 0; i < 2*wallet.GapReceiving; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := a
			if i%2 == 1 {
				w = b
			}
			r, err := w.AddRequest(ctx, 1000, "", 0, false)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if seen[r.Address] {
				t.Errorf("address %s handed out twice", r.Address)
			}
			seen[r.Address] = true
		}()
	}
	wg.Wait()
	if len(seen) != 2*wallet.GapReceiving {
		t.Fatalf("%d distinct addresses", len(seen))
	}
}

// TestForcedRequestsPastTheGap: forced requests reveal receiving addresses
// in order past the gap limit (derived ahead in chunks), payments to them
// are seen, hidden ones are not listed, and all of it survives a restart.
func TestForcedRequestsPastTheGap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "w.db")
	fc := newFakeChain()
	ev := newEnv(t, path, fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	var last *wallet.RequestView
	addrs := map[string]bool{}
	for i := 0; i < 65; i++ {
		r, err := w.AddRequest(ctx, 1000, "", 0, true)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if addrs[r.Address] {
			t.Fatalf("request %d reuses %s", i, r.Address)
		}
		addrs[r.Address] = true
		if r.Index != uint32(i) {
			t.Fatalf("request %d got index %d", i, r.Index)
		}
		last = r
	}
	listed, _ := w.Addresses(ctx)
	recv := 0
	for _, a := range listed {
		if !a.Change {
			recv++
		}
	}
	if recv != 65 {
		t.Fatalf("listaddresses shows %d receiving addresses, want the 65 revealed", recv)
	}
	if _, err := w.AddRequest(ctx, 1000, "", 0, false); err != wallet.ErrGapLimit {
		t.Fatalf("unforced request with every address taken: %v", err)
	}
	script, _ := ev.net.PkScript(last.Address)
	fc.mempoolAdd(payTx(script, 1000, 61))
	seen := 0
	ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Address == last.ID })
	ev.close()
	ev2 := newEnv(t, path, fc)
	w2, err := ev2.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w2.AddRequest(ctx, 1000, "", 0, true)
	if err != nil || r.Index != 65 || addrs[r.Address] {
		t.Fatalf("after restart: %+v %v", r, err)
	}
}

// TestIndexCandidatesAreConfirmed: the script index answers candidates (a
// hash of the script), and a payment counts only for an owner whose address
// record holds the script: a script the index maps to a wallet's address
// by mistake (as a hash collision would) credits nothing.
func TestIndexCandidatesAreConfirmed(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	w, err := ev.eng.Open(ctx, regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := ev.net.PkScript(regtestWallet(t, "standard-account-xpub").Receiving[0])
	ev.eng.InjectScript(foreign, w.ID, false, 0)
	if err := fc.Watch(ctx, [][]byte{foreign}, nil); err != nil {
		t.Fatal(err)
	}
	own, _ := ev.net.PkScript(regtestWallet(t, "p2wpkh-account-xpub").Receiving[1])
	fc.mine(payTx(foreign, 5_000, 1), payTx(own, 7_000, 2))
	waitFor(t, func() bool { return ev.eng.Height() == 2 })
	b, err := w.Balance(ctx)
	if err != nil || b.Confirmed != 7_000 {
		t.Fatalf("balance %+v %v: only the wallet's own script counts", b, err)
	}
	h, err := w.History(ctx)
	if err != nil || len(h) != 1 || h[0].Received != 7_000 {
		t.Fatalf("history %+v %v", h, err)
	}
}

// TestForcedRequestsDeriveAheadInBackground: once forced requests have
// used half of the addresses derived ahead, the next chunk is derived,
// stored, watched and backfilled in the background, so the requests that
// follow find it ready.
func TestForcedRequestsDeriveAheadInBackground(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	ev := newEnv(t, filepath.Join(t.TempDir(), "w.db"), fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w, err := ev.eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < wallet.GapReceiving+1; i++ {
		if _, err := w.AddRequest(ctx, 1000, "", 0, true); err != nil {
			t.Fatal(err)
		}
	}
	// The first forced request derived 20..39 itself; 21 revealed.
	if next, derived := w.Counters(); next != 21 || derived != 40 {
		t.Fatalf("counters %d/%d, want 21/40", next, derived)
	}
	for i := 0; i < 10; i++ {
		if _, err := w.AddRequest(ctx, 1000, "", 0, true); err != nil {
			t.Fatal(err)
		}
	}
	// 31 revealed, 9 left: the next chunk comes in the background.
	waitFor(t, func() bool { _, derived := w.Counters(); return derived == 60 && !w.Pending(ctx) })
	if next, _ := w.Counters(); next != 31 {
		t.Fatalf("the background derivation revealed addresses: next %d", next)
	}
	if err := ev.eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	// The chunk is watched: a payment to its last address is seen once
	// revealed.
	for i := 31; i < 60; i++ {
		r, err := w.AddRequest(ctx, 1000, "", 0, true)
		if err != nil || r.Index != uint32(i) {
			t.Fatalf("request %d: %+v %v", i, r, err)
		}
		if i == 59 {
			script, _ := ev.net.PkScript(r.Address)
			fc.mempoolAdd(payTx(script, 1000, 7))
			seen := 0
			ev.rec.waitEvent(t, &seen, func(b evBody) bool { return b.Event == "new_payment" && b.Address == r.ID })
		}
	}
}
