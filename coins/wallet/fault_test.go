package wallet_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/faulttest"
	"github.com/walletd/walletd/coins/wallet/memstore"
)

// faultEnv is an engine whose store and backend inject faults, over a fake
// chain; a scenario runs client calls against it the way a client does
// (retrying a call that failed), and the ledger is then compared with a
// fresh resync from the same chain.
type faultEnv struct {
	t       *testing.T
	fc      *fakeChain
	store   *faulttest.Store
	backend *faulttest.Backend
	eng     *wallet.Engine
	net     *params.Network
	rec     *recorder
	keys    []string            // wallets the scenario opened
	reqs    map[string][]string // key → request ids
}

func newFaultEnv(t *testing.T, fc *fakeChain) *faultEnv {
	t.Helper()
	net, _ := params.BTC("regtest")
	env := &faultEnv{t: t, fc: fc, net: net, rec: &recorder{}, reqs: map[string][]string{},
		store: faulttest.NewStore(memstore.New()), backend: faulttest.NewBackend(fc)}
	var err error
	env.eng, err = wallet.New(context.Background(), wallet.Config{Net: net, Store: env.store, Volatile: memstore.New(),
		Backend: env.backend, Publish: env.rec.publish, Now: fixedNow, SyncTimeout: 5 * time.Second,
		PollingCap: wallet.DefaultPollingCap, RetryBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.eng.Close)
	waitFor(t, env.eng.Synced)
	return env
}

func fixedNow() time.Time { return time.Unix(1.7e9, 0) }

// retry runs a client call until it succeeds (a client retries a failed
// call); a call that keeps failing fails the test.
func (env *faultEnv) retry(what string, f func() error) {
	env.t.Helper()
	var err error
	for i := 0; i < 50; i++ {
		if err = f(); err == nil {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	env.t.Fatalf("%s keeps failing: %v", what, err)
}

func (env *faultEnv) open(key string) *wallet.Wallet {
	env.t.Helper()
	var w *wallet.Wallet
	env.retry("open", func() error {
		var err error
		w, err = env.eng.Open(context.Background(), key)
		return err
	})
	if !slices.Contains(env.keys, key) {
		env.keys = append(env.keys, key)
	}
	return w
}

func (env *faultEnv) request(key string, w *wallet.Wallet, amount int64, force bool) *wallet.RequestView {
	env.t.Helper()
	var r *wallet.RequestView
	env.retry("add_request", func() error {
		var err error
		r, err = w.AddRequest(context.Background(), amount, "", 0, force)
		return err
	})
	env.reqs[key] = append(env.reqs[key], r.ID)
	return r
}

// ledger renders what a wallet's ledger says: balance, coins, history,
// and each request next to its evaluation from scratch in ref (the same
// wallet in another engine, or in this one).
func ledger(ctx context.Context, w *wallet.Wallet, reqs []*wallet.RequestView, ref *wallet.Wallet) (string, error) {
	var b strings.Builder
	bal, err := w.Balance(ctx)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "balance %+v\n", bal)
	utxos, err := w.UTXOs(ctx)
	if err != nil {
		return "", err
	}
	var us []string
	for _, u := range utxos {
		us = append(us, fmt.Sprintf("utxo %v %d h%d spent-by %q", u.OutPoint, u.Value, u.Height, u.SpentBy))
	}
	sort.Strings(us)
	b.WriteString(strings.Join(us, "\n") + "\n")
	hist, err := w.History(ctx)
	if err != nil {
		return "", err
	}
	for _, h := range hist {
		fmt.Fprintf(&b, "tx %s h%d +%d -%d\n", h.TxID, h.Height, h.Received, h.Sent)
	}
	for _, r := range reqs {
		v, err := ref.ExpectedRequest(ctx, r)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "request %s %s status %d paid %v sent %d conf %d txs %v\n", r.ID, r.Address, v.Status, v.Paid,
			v.Sent, v.Confirmations, v.TxHashes)
	}
	return b.String(), nil
}

// requestViews reads the scenario's requests as the engine tracked them.
func (env *faultEnv) requestViews(ctx context.Context, w *wallet.Wallet, key string) ([]*wallet.RequestView, string, error) {
	var views []*wallet.RequestView
	var b strings.Builder
	for _, id := range env.reqs[key] {
		v, err := w.GetRequest(ctx, id)
		if err != nil {
			return nil, "", err
		}
		views = append(views, v)
		fmt.Fprintf(&b, "request %s %s status %d paid %v sent %d conf %d txs %v\n", v.ID, v.Address, v.Status, v.Paid,
			v.Sent, v.Confirmations, v.TxHashes)
	}
	return views, b.String(), nil
}

// resync is a fresh engine resynced from a chain: the reference a faulted
// engine's ledger must converge to.
type resync struct {
	eng  *wallet.Engine
	refs map[string]*wallet.Wallet
}

// newResync starts a fresh engine on a new store over a copy of fc.
func newResync(t *testing.T, fc *fakeChain) *resync {
	t.Helper()
	net, _ := params.BTC("regtest")
	eng, err := wallet.New(context.Background(), wallet.Config{Net: net, Store: memstore.New(), Volatile: memstore.New(),
		Backend: fc.clone(), Now: fixedNow, SyncTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(eng.Close)
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return &resync{eng: eng, refs: map[string]*wallet.Wallet{}}
}

// wallet opens key in the resync, revealing at least n receiving
// addresses (those revealed past the gap by forced requests, as one
// restoring such a wallet must).
func (r *resync) wallet(t *testing.T, key string, n int) *wallet.Wallet {
	t.Helper()
	ctx := context.Background()
	w := r.refs[key]
	if w == nil {
		var err error
		if w, err = r.eng.Open(ctx, key); err != nil {
			t.Fatal(err)
		}
		r.refs[key] = w
	}
	for {
		m, err := countReceiving(ctx, w)
		if err != nil {
			t.Fatal(err)
		}
		if m >= n {
			return w
		}
		if _, err := w.CreateNewAddress(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// checkConverges waits until the engine's ledger equals that of a fresh
// engine resynced from the same chain (ref, or a new one when nil), its
// requests as tracked equal their evaluation from scratch, and its memory
// indexes equal the store's; the event log's seqs increase.
func (env *faultEnv) checkConverges(ref ...*resync) {
	env.t.Helper()
	ctx := context.Background()
	r := newResyncOr(env.t, env.fc, ref)
	refs := map[string]*wallet.Wallet{}
	for _, k := range env.keys {
		var n int
		env.retry("listaddresses", func() error {
			w, err := env.eng.Open(ctx, k)
			if err != nil {
				return err
			}
			n, err = countReceiving(ctx, w)
			return err
		})
		refs[k] = r.wallet(env.t, k, n)
	}
	var last string
	deadline := time.Now().Add(10 * time.Second)
	for {
		diff, err := func() (string, error) {
			if err := env.eng.CheckIndexes(ctx); err != nil {
				return "", err
			}
			for _, k := range env.keys {
				w, err := env.eng.Open(ctx, k)
				if err != nil {
					return "", err
				}
				views, tracked, err := env.requestViews(ctx, w, k)
				if err != nil {
					return "", err
				}
				got, err := ledger(ctx, w, views, w)
				if err != nil {
					return "", err
				}
				want, err := ledger(ctx, refs[k], views, refs[k])
				if err != nil {
					return "", err
				}
				if got != want {
					return fmt.Sprintf("engine:\n%s\nfresh resync:\n%s", got, want), nil
				}
				// What the engine tracked incrementally equals the
				// evaluation from scratch.
				var scratch strings.Builder
				for _, v := range views {
					e, err := w.ExpectedRequest(ctx, v)
					if err != nil {
						return "", err
					}
					fmt.Fprintf(&scratch, "request %s %s status %d paid %v sent %d conf %d txs %v\n", v.ID, v.Address,
						e.Status, e.Paid, e.Sent, e.Confirmations, e.TxHashes)
				}
				if scratch.String() != tracked {
					return fmt.Sprintf("tracked requests:\n%s\nfrom scratch:\n%s", tracked, scratch.String()), nil
				}
			}
			return "", nil
		}()
		if err == nil && diff == "" {
			break
		}
		if err != nil {
			diff = err.Error()
		}
		last = diff
		if time.Now().After(deadline) {
			env.t.Fatalf("the ledger does not converge to a fresh resync:\n%s", last)
		}
		time.Sleep(5 * time.Millisecond)
	}
	evs, err := env.eng.EventsAfter(ctx, 0, 1_000_000)
	if err != nil {
		env.t.Fatal(err)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq {
			env.t.Fatalf("event seq %d after %d", evs[i].Seq, evs[i-1].Seq)
		}
	}
}

func newResyncOr(t *testing.T, fc *fakeChain, ref []*resync) *resync {
	if len(ref) > 0 && ref[0] != nil {
		return ref[0]
	}
	return newResync(t, fc)
}

func countReceiving(ctx context.Context, w *wallet.Wallet) (int, error) {
	as, err := w.Addresses(ctx)
	n := 0
	for _, a := range as {
		if !a.Change {
			n++
		}
	}
	return n, err
}

// deriveScript returns the script of a wallet's address (any index).
func deriveScript(t *testing.T, key string, change bool, i uint32) []byte {
	t.Helper()
	net, _ := params.BTC("regtest")
	m, err := keys.Parse(key, net)
	if err != nil {
		t.Fatal(err)
	}
	k, err := m.Derive(change, i)
	if err != nil {
		t.Fatal(err)
	}
	return k.PkScript
}

// spendTx spends outpoint op (value in) paying out to script and the rest
// minus fee to change.
func spendTx(op wire.OutPoint, in int64, to []byte, out int64, change []byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&op, nil, nil))
	tx.AddTxOut(wire.NewTxOut(out, to))
	if change != nil {
		tx.AddTxOut(wire.NewTxOut(in-out-1000, change))
	}
	return tx
}

// A scenario prepares the chain (before the engine starts) and then runs
// client calls and chain events.
type scenario struct {
	name    string
	prepare func(t *testing.T, fc *fakeChain)
	run     func(env *faultEnv)
}

var external = append([]byte{0x00, 0x14}, make([]byte, 20)...)

func scenarios(t *testing.T) []scenario {
	xpub := regtestWallet(t, "p2wpkh-account-xpub").KeyMaterial
	seed := regtestWallet(t, "electrum-segwit-seed").KeyMaterial
	fundSeed := func(t *testing.T, fc *fakeChain) {
		fc.mine(payTx(deriveScript(t, seed, false, 0), 1_000_000, 90))
	}
	return []scenario{{
		name: "first load",
		prepare: func(t *testing.T, fc *fakeChain) {
			r0 := payTx(deriveScript(t, xpub, false, 0), 100_000, 1)
			fc.mine(r0, payTx(deriveScript(t, xpub, false, 3), 50_000, 2))
			// Spent to an outsider with change: only history shows the spend.
			fc.mine(spendTx(wire.OutPoint{Hash: r0.TxHash()}, 100_000, external, 40_000, deriveScript(t, xpub, true, 0)))
			// Beyond the first gap: found once address 3's use extends it.
			fc.mine(payTx(deriveScript(t, xpub, false, 22), 7_000, 3))
			fc.mempoolAdd(payTx(deriveScript(t, xpub, false, 5), 9_000, 4))
		},
		run: func(env *faultEnv) {
			env.open(xpub)
		},
	}, {
		name: "block",
		run: func(env *faultEnv) {
			w := env.open(xpub)
			r := env.request(xpub, w, 60_000, false)
			script, _ := env.net.PkScript(r.Address)
			env.fc.mempoolAdd(payTx(script, 20_000, 11))
			env.fc.mine()
			env.fc.mine(payTx(script, 40_000, 12))
			r2 := env.request(xpub, w, 0, false)
			script2, _ := env.net.PkScript(r2.Address)
			env.fc.mine(payTx(script2, 5_000, 13))
		},
	}, {
		name: "catch-up",
		run: func(env *faultEnv) {
			w := env.open(xpub)
			r := env.request(xpub, w, 30_000, false)
			script, _ := env.net.PkScript(r.Address)
			// Blocks the engine is not told about: it catches up when a
			// later one does not extend its cursor.
			env.fc.mineQuiet(payTx(script, 30_000, 41))
			env.fc.mineQuiet(payTx(deriveScript(env.t, xpub, true, 4), 1_000, 42))
			env.fc.mine()
		},
	}, {
		name: "reorg",
		run: func(env *faultEnv) {
			w := env.open(xpub)
			r := env.request(xpub, w, 30_000, false)
			script, _ := env.net.PkScript(r.Address)
			env.fc.mempoolAdd(payTx(script, 30_000, 21))
			env.fc.mine()
			env.fc.mine()
			env.fc.reorg(2)
			env.fc.mine()
		},
	}, {
		name: "request",
		run: func(env *faultEnv) {
			w := env.open(xpub)
			var last *wallet.RequestView
			// The 21st reveals an address derived ahead for it.
			for i := 0; i < 21; i++ {
				last = env.request(xpub, w, 1000, true)
			}
			script, _ := env.net.PkScript(last.Address)
			env.fc.mempoolAdd(payTx(script, 1000, 31))
			env.fc.mine()
		},
	}, {
		name:    "payout",
		prepare: fundSeed,
		run: func(env *faultEnv) {
			w := env.open(seed)
			rate := int64(2000)
			var built *wallet.BuiltTx
			to, _ := env.net.AddressFromScript(external)
			env.retry("payto", func() error {
				var err error
				built, err = w.CreateTransaction(context.Background(), wallet.SpendRequest{
					Outputs: []wallet.Payment{{Address: to, Amount: wallet.Amount{Sats: 250_000, Set: true}}},
					FeeRate: &rate, RBF: true})
				return err
			})
			if !built.Complete {
				env.t.Fatal("the seed wallet did not sign")
			}
			env.fc.mempoolAdd(built.Tx)
			env.retry("addtransaction", func() error { return env.eng.AddTransaction(context.Background(), built.Tx) })
			env.fc.mine()
		},
	}}
}

// TestFaultInjectionConverges runs every scenario once clean (counting
// store commits and backend calls), then once per possible single fault:
// each commit failing in turn, and each backend call failing, running with
// a cancelled context, or (for history) being slow. Every run must end with
// the ledger equal to a fresh resync from the chain.
func TestFaultInjectionConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	for _, sc := range scenarios(t) {
		t.Run(sc.name, func(t *testing.T) {
			setup := func(t *testing.T) *faultEnv {
				fc := newFakeChain()
				fc.mine()
				if sc.prepare != nil {
					sc.prepare(t, fc)
				}
				return newFaultEnv(t, fc)
			}
			env := setup(t)
			commits0 := env.store.Commits()
			calls0 := map[string]int{}
			methods := []string{faulttest.Watch, faulttest.History, faulttest.Tip, faulttest.BlockAt, faulttest.FilterBlocks}
			for _, m := range methods {
				calls0[m] = env.backend.Calls(m)
			}
			sc.run(env)
			// Every run makes the same chain: one resync serves them all.
			ref := newResync(t, env.fc)
			env.checkConverges(ref)
			commits := env.store.Commits() - commits0
			calls := map[string]int{}
			for _, m := range methods {
				calls[m] = env.backend.Calls(m) - calls0[m]
			}
			t.Logf("clean run: %d commits, backend calls %v", commits, calls)
			for n := 1; n <= commits; n++ {
				t.Run(fmt.Sprintf("commit%d", n), func(t *testing.T) {
					env := setup(t)
					env.store.FailCommit(n)
					sc.run(env)
					env.checkConverges(ref)
				})
			}
			for _, m := range methods {
				for n := 1; n <= calls[m]; n++ {
					kinds := []faulttest.Fault{{Method: m, Nth: n}}
					if m == faulttest.History || m == faulttest.Watch {
						kinds = append(kinds, faulttest.Fault{Method: m, Nth: n, Cancel: true})
					}
					if m == faulttest.History {
						kinds = append(kinds, faulttest.Fault{Method: m, Nth: n, Delay: 20 * time.Millisecond})
					}
					for i, f := range kinds {
						t.Run(fmt.Sprintf("%s%d.%d", m, n, i), func(t *testing.T) {
							env := setup(t)
							env.backend.Inject(f)
							sc.run(env)
							env.checkConverges(ref)
						})
					}
				}
			}
		})
	}
}

// TestFirstLoadWhoseClientGoesAway: the client of a wallet's first load
// disconnects just as its history arrives; the load still ends with the
// wallet fully backfilled (never tracked without its history).
func TestFirstLoadWhoseClientGoesAway(t *testing.T) {
	fc := newFakeChain()
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	fc.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 0), 100_000, 1), payTx(deriveScript(t, vw.KeyMaterial, true, 1), 5_000, 2))
	env := newFaultEnv(t, fc)
	ctx, cancel := context.WithCancel(context.Background())
	// The store write of the first load is done by the time the lookup
	// answers (it overlapped with it before the fix).
	env.backend.Inject(faulttest.Fault{Method: faulttest.History, Nth: 1, Delay: 20 * time.Millisecond, After: cancel})
	_, _ = env.eng.Open(ctx, vw.KeyMaterial) // whatever the abandoned call returns
	w, err := env.eng.Open(context.Background(), vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	bal, err := w.Balance(context.Background())
	if err != nil || bal.Confirmed != 105_000 {
		t.Fatalf("balance after an abandoned first load: %+v %v (want the 105000 its history pays)", bal, err)
	}
	env.keys = []string{vw.KeyMaterial}
	env.checkConverges()
}

// TestFailedFirstLoadLeavesNothing: a first load whose history lookup
// fails returns the error and leaves the wallet untracked; the next open
// loads it fully.
func TestFailedFirstLoadLeavesNothing(t *testing.T) {
	fc := newFakeChain()
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	fc.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 0), 100_000, 1))
	env := newFaultEnv(t, fc)
	env.backend.Inject(faulttest.Fault{Method: faulttest.History, Nth: 1})
	if _, err := env.eng.Open(context.Background(), vw.KeyMaterial); !errors.Is(err, faulttest.ErrInjected) {
		t.Fatalf("open with a failing history lookup: %v", err)
	}
	if n := env.eng.TotalWallets(); n != 0 {
		t.Fatalf("%d wallets tracked after a failed first load", n)
	}
	if err := env.eng.CheckIndexes(context.Background()); err != nil {
		t.Fatal(err)
	}
	env.keys = []string{vw.KeyMaterial}
	env.checkConverges()
}

// TestCommitFailureLeavesMemoryAsStored: a block whose commit fails leaves
// no trace in memory (owned outpoints, counters, script index), and the
// block is applied again by the retried catch-up without waiting for the
// next block.
func TestCommitFailureLeavesMemoryAsStored(t *testing.T) {
	fc := newFakeChain()
	env := newFaultEnv(t, fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w := env.open(vw.KeyMaterial)
	// Address 15 is used: the block extends the gap (new addresses, new
	// counters) and credits a coin, all in the commit that fails.
	env.store.FailCommit(1)
	fc.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 15), 10_000, 1))
	waitFor(t, func() bool { return !env.store.Pending() })
	if err := env.eng.CheckIndexes(context.Background()); err != nil {
		t.Fatalf("after the failed commit: %v", err)
	}
	waitFor(t, func() bool { b, _ := w.Balance(context.Background()); return b.Confirmed == 10_000 })
	env.checkConverges()
}

// TestDebitHandlesEveryInput: a transaction whose first input is an
// outpoint the owned index lists for the wallet but the store has no
// record of (a divergence the engine must survive) still debits its other
// inputs, instead of returning at the first.
func TestDebitHandlesEveryInput(t *testing.T) {
	fc := newFakeChain()
	env := newFaultEnv(t, fc)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	w := env.open(vw.KeyMaterial)
	b := payTx(deriveScript(t, vw.KeyMaterial, false, 1), 20_000, 2)
	fc.mine(b)
	waitFor(t, func() bool { bal, _ := w.Balance(context.Background()); return bal.Confirmed == 20_000 })
	phantom := wire.OutPoint{Hash: chainhash.Hash{0x77}}
	env.eng.InjectOwner(phantom, w.ID)
	spend := wire.NewMsgTx(2)
	spend.AddTxIn(wire.NewTxIn(&phantom, nil, nil))
	spend.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: b.TxHash()}, nil, nil))
	spend.AddTxOut(wire.NewTxOut(15_000, external))
	spend.AddTxOut(wire.NewTxOut(4_000, deriveScript(t, vw.KeyMaterial, true, 0)))
	fc.mine(spend)
	waitFor(t, func() bool { bal, _ := w.Balance(context.Background()); return bal.Confirmed == 4_000 })
}

// TestGapExtensionRepairedAtStart: a block's payments commit first and its
// gap-limit extension in a second transaction; when that one fails and the
// process stops before retrying, the next start extends the gap, and a
// payment to an address it reveals is found.
func TestGapExtensionRepairedAtStart(t *testing.T) {
	ctx := context.Background()
	net, _ := params.BTC("regtest")
	fc := newFakeChain()
	st := faulttest.NewStore(memstore.New())
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	start := func(backoff time.Duration) *wallet.Engine {
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: fc, Now: fixedNow, RetryBackoff: backoff})
		if err != nil {
			t.Fatal(err)
		}
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return eng
	}
	eng := start(time.Hour) // no retry before the "crash"
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	// The block commits; its extension fails, and so does the immediate
	// retry (the next one would wait an hour).
	st.FailCommit(2)
	st.FailCommit(3)
	fc.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 15), 10_000, 1))
	waitFor(t, func() bool { return !st.Pending() })
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Confirmed == 10_000 })
	if n, _ := countReceiving(ctx, w); n != wallet.GapReceiving {
		t.Fatalf("%d receiving addresses before the restart, want the extension lost", n)
	}
	eng.Close()
	eng = start(time.Millisecond)
	defer eng.Close()
	w, err = eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { n, _ := countReceiving(ctx, w); return n == 16+wallet.GapReceiving })
	fc.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 33), 3_000, 2))
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := w.Balance(ctx)
		if b.Confirmed == 13_000 {
			break
		}
		if time.Now().After(deadline) {
			h, _ := w.History(ctx)
			t.Fatalf("a payment to an address the repair revealed: balance %+v, %d txs, height %d", b, len(h), eng.Height())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := eng.CheckIndexes(ctx); err != nil {
		t.Fatal(err)
	}
}
