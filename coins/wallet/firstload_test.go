package wallet_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// watchHistorian is a fakeChain that also serves chain.WatchHistorian (as
// btcdws does) and counts the calls of each kind. With unsupported set,
// WatchHistory answers chain.ErrUnsupported without watching anything.
type watchHistorian struct {
	*fakeChain
	unsupported bool
	mu          sync.Mutex
	histories   map[string]int // script → History calls naming it
	watched     map[string]int // script → Watch calls naming it
	looked      map[string]int // script → WatchHistory calls naming it
}

func newWatchHistorian(unsupported bool) *watchHistorian {
	return &watchHistorian{fakeChain: newFakeChain(), unsupported: unsupported,
		watched: map[string]int{}, looked: map[string]int{}, histories: map[string]int{}}
}

func (w *watchHistorian) count(m map[string]int, scripts [][]byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range scripts {
		m[string(s)]++
	}
}

// counts returns how many scripts Watch and WatchHistory were given, how
// many times at most one script was given to WatchHistory, and how many of
// those were also given to History.
func (w *watchHistorian) counts() (watched, looked, maxLooks, alsoHistory int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for s, n := range w.looked {
		maxLooks = max(maxLooks, n)
		if w.histories[s] > 0 {
			alsoHistory++
		}
	}
	return len(w.watched), len(w.looked), maxLooks, alsoHistory
}

func (w *watchHistorian) Watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	w.count(w.watched, scripts)
	return w.fakeChain.Watch(ctx, scripts, ops)
}

func (w *watchHistorian) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	w.count(w.histories, scripts)
	return w.fakeChain.History(ctx, scripts)
}

func (w *watchHistorian) WatchHistory(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	w.count(w.looked, scripts)
	if w.unsupported {
		return nil, chain.ErrUnsupported
	}
	if err := w.fakeChain.Watch(ctx, scripts, nil); err != nil {
		return nil, err
	}
	return w.fakeChain.History(ctx, scripts)
}

func newWatchHistorianEngine(t *testing.T, wh *watchHistorian) *wallet.Engine {
	t.Helper()
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := wallet.New(context.Background(), wallet.Config{Net: net, Store: st, Backend: wh,
		Publish: func(wallet.Event) {}, SyncTimeout: 5 * time.Second, PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); _ = st.Close() })
	return eng
}

// TestFirstLoadInOneExchange: with a backend that can watch and look up
// history in one exchange, a new wallet's first load asks it about each of
// its 30 scripts once (in chunks, as they are derived) and never asks
// History about them, gets the history it returns (a confirmed payment to a receiving
// address, a mempool one to a change address: different chunks), and its
// addresses are watched: a later payment is seen.
func TestFirstLoadInOneExchange(t *testing.T) {
	ctx := context.Background()
	wh := newWatchHistorian(false)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	// One transaction pays receiving address 12 and change address 0
	// (two chunks): it is one payment of both outputs, found twice.
	both := payTx(deriveScript(t, vw.KeyMaterial, false, 12), 60_000, 1)
	both.AddTxOut(wire.NewTxOut(40_000, deriveScript(t, vw.KeyMaterial, true, 0)))
	wh.mine(both)
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, true, 1), 5_000, 2))
	eng := newWatchHistorianEngine(t, wh)
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	// (The payments extend the gap: the new addresses' history is
	// History's, after the first load.)
	if _, looked, maxLooks, also := wh.counts(); looked != 30 || maxLooks != 1 || also != 0 {
		t.Fatalf("first load: WatchHistory of %d scripts (one at most %d times), %d of them also to History; want 30, once, 0",
			looked, maxLooks, also)
	}
	bal, err := w.Balance(ctx)
	if err != nil || bal.Confirmed != 100_000 || bal.Unconfirmed != 5_000 {
		t.Fatalf("balance after the first load: %+v %v", bal, err)
	}
	hist, err := w.History(ctx)
	if err != nil || len(hist) != 2 {
		t.Fatalf("history after the first load: %d items %v, want 2", len(hist), err)
	}
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, false, 3), 7_000, 3))
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Unconfirmed == 12_000 })
}

// TestFirstLoadWatchesWhenHistoryUnsupported: a backend whose
// WatchHistory cannot look history up (chain.ErrUnsupported: no address
// index) still gets the new wallet's scripts watched, with Watch.
func TestFirstLoadWatchesWhenHistoryUnsupported(t *testing.T) {
	ctx := context.Background()
	wh := newWatchHistorian(true)
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	eng := newWatchHistorianEngine(t, wh)
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if watched, looked, _, _ := wh.counts(); watched != 30 || looked != 30 {
		t.Fatalf("first load: Watch of %d scripts, WatchHistory of %d; want 30, 30", watched, looked)
	}
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, false, 0), 7_000, 3))
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Unconfirmed == 7_000 })
}
