package wallet_test

import (
	"context"
	"path/filepath"
	"sync/atomic"
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
	unsupported                      bool
	watches, histories, watchHistory atomic.Int32
}

func (w *watchHistorian) Watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	if len(scripts) > 0 {
		w.watches.Add(1)
	}
	return w.fakeChain.Watch(ctx, scripts, ops)
}

func (w *watchHistorian) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	w.histories.Add(1)
	return w.fakeChain.History(ctx, scripts)
}

func (w *watchHistorian) WatchHistory(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	w.watchHistory.Add(1)
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
// history in one exchange, a new wallet's first load uses it once (no
// separate Watch or History round trip), gets the history it returns, and
// its addresses are watched: a later payment is seen.
func TestFirstLoadInOneExchange(t *testing.T) {
	ctx := context.Background()
	wh := &watchHistorian{fakeChain: newFakeChain()}
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	wh.mine(payTx(deriveScript(t, vw.KeyMaterial, false, 0), 100_000, 1))
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, true, 1), 5_000, 2))
	eng := newWatchHistorianEngine(t, wh)
	w0, h0 := wh.watches.Load(), wh.histories.Load()
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if n, ws, hs := wh.watchHistory.Load(), wh.watches.Load()-w0, wh.histories.Load()-h0; n != 1 || ws != 0 || hs != 0 {
		t.Fatalf("first load: %d WatchHistory, %d Watch, %d History calls; want 1, 0, 0", n, ws, hs)
	}
	bal, err := w.Balance(ctx)
	if err != nil || bal.Confirmed != 100_000 || bal.Unconfirmed != 5_000 {
		t.Fatalf("balance after the first load: %+v %v", bal, err)
	}
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, false, 3), 7_000, 3))
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Unconfirmed == 12_000 })
}

// TestFirstLoadWatchesWhenHistoryUnsupported: a backend whose
// WatchHistory cannot look history up (chain.ErrUnsupported: no address
// index) still gets the new wallet's scripts watched, with Watch.
func TestFirstLoadWatchesWhenHistoryUnsupported(t *testing.T) {
	ctx := context.Background()
	wh := &watchHistorian{fakeChain: newFakeChain(), unsupported: true}
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	eng := newWatchHistorianEngine(t, wh)
	w0 := wh.watches.Load()
	w, err := eng.Open(ctx, vw.KeyMaterial)
	if err != nil {
		t.Fatal(err)
	}
	if n, ws := wh.watchHistory.Load(), wh.watches.Load()-w0; n != 1 || ws != 1 {
		t.Fatalf("first load: %d WatchHistory, %d Watch calls; want 1, 1", n, ws)
	}
	wh.mempoolAdd(payTx(deriveScript(t, vw.KeyMaterial, false, 0), 7_000, 3))
	waitFor(t, func() bool { b, _ := w.Balance(ctx); return b.Unconfirmed == 7_000 })
}
