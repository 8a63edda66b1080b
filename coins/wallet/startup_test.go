package wallet_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// loadGatedStore holds the first scan of the address records (what reading
// the tracked wallets does) until the gate opens, so a test sees an engine
// whose wallets are still being read.
type loadGatedStore struct {
	wallet.Store
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
}

func (g *loadGatedStore) View(ctx context.Context, fn func(wallet.KV) error) error {
	return g.Store.View(ctx, func(kv wallet.KV) error { return fn(loadGatedKV{kv, g}) })
}

type loadGatedKV struct {
	wallet.KV
	g *loadGatedStore
}

func (k loadGatedKV) Scan(bucket string, prefix, start []byte, fn func(k, v []byte) error) error {
	if bucket == "a" { // the address records
		k.g.once.Do(func() {
			close(k.g.entered)
			<-k.g.gate
		})
	}
	return k.KV.Scan(bucket, prefix, start, fn)
}

// TestBackgroundLoad: with BackgroundLoad, New returns while the tracked
// wallets are still being read (the daemon then serves its wallet-less
// methods); a wallet call waits for them within SyncTimeout and fails
// with ErrNotSynced past it, and once they are read it finds the wallet
// it had (not a new one) with its request.
func TestBackgroundLoad(t *testing.T) {
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
	req, err := w.AddRequest(ctx, 50_000_000, "kept", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	height := ev.eng.Height()
	ev.close()

	net, _ := params.BTC("regtest")
	open := func(t *testing.T, timeout time.Duration) (*wallet.Engine, *loadGatedStore) {
		st, err := boltstore.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		g := &loadGatedStore{Store: st, gate: make(chan struct{}), entered: make(chan struct{})}
		eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: g, Backend: fc, SyncTimeout: timeout,
			PollingCap: wallet.DefaultPollingCap, BackgroundLoad: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			select {
			case <-g.gate:
			default:
				close(g.gate)
			}
			eng.Close()
			_ = st.Close()
		})
		if err := eng.Start(ctx); err != nil {
			t.Fatal(err)
		}
		<-g.entered // New returned while the wallets are being read
		if eng.TotalWallets() != 0 || eng.Synced() || eng.Height() != height {
			t.Fatalf("while reading: %d wallets, synced %v, height %d (want 0, false, %d)", eng.TotalWallets(), eng.Synced(),
				eng.Height(), height)
		}
		return eng, g
	}

	t.Run("FailsPastItsBound", func(t *testing.T) {
		eng, _ := open(t, 200*time.Millisecond)
		t0 := time.Now()
		_, err := eng.Open(ctx, vw.KeyMaterial)
		if !errors.Is(err, wallet.ErrNotSynced) || !strings.Contains(err.Error(), "reading the tracked wallets") {
			t.Fatalf("Open while reading = %v, want ErrNotSynced (reading the tracked wallets)", err)
		}
		if d := time.Since(t0); d < 200*time.Millisecond {
			t.Fatalf("Open failed after %v, before its bound", d)
		}
	})

	t.Run("WaitsThenWorks", func(t *testing.T) {
		eng, g := open(t, 20*time.Second)
		type result struct {
			w   *wallet.Wallet
			err error
		}
		done := make(chan result, 1)
		go func() {
			w, err := eng.Open(ctx, vw.KeyMaterial)
			done <- result{w, err}
		}()
		select {
		case r := <-done:
			t.Fatalf("Open returned while the wallets were being read: %v", r.err)
		case <-time.After(100 * time.Millisecond):
		}
		close(g.gate)
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		if eng.TotalWallets() != 1 {
			t.Fatalf("%d wallets tracked, want the 1 of the store", eng.TotalWallets())
		}
		got, err := r.w.GetRequest(ctx, req.ID)
		if err != nil || got.Memo != "kept" {
			t.Fatalf("request after the load: %+v, %v", got, err)
		}
		waitFor(t, eng.Synced)
	})
}

// localFake is the fake chain as a backend that matches locally: it keeps
// the engine's Matcher (its own filter stays what Watch was given).
type localFake struct {
	*fakeChain
	m chain.Matcher
}

func (l *localFake) MatchLocally(m chain.Matcher) bool { l.m = m; return true }
func (l *localFake) MempoolSize(context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.mempool), nil
}
func (l *localFake) MempoolMatches(context.Context) ([]*wire.MsgTx, error) { return nil, nil }

// TestLocalMatcher: with a backend that matches locally, the engine hands
// it no script (Watch is not given the tracked ones) and its Matcher
// answers for the scripts of its wallets (a new wallet's as soon as it is
// loaded) and for their unspent outpoints, and not for others.
func TestLocalMatcher(t *testing.T) {
	ctx := context.Background()
	fc := newFakeChain()
	fc.mine()
	lf := &localFake{fakeChain: fc}
	net, _ := params.BTC("regtest")
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "w.db"))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: lf, SyncTimeout: 5 * time.Second,
		PollingCap: wallet.DefaultPollingCap})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(); _ = st.Close() })
	if err := eng.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if lf.m == nil {
		t.Fatal("the engine did not give the backend its matcher")
	}
	vw := regtestWallet(t, "p2wpkh-account-xpub")
	if _, err := eng.Open(ctx, vw.KeyMaterial); err != nil {
		t.Fatal(err)
	}
	recv, _ := net.PkScript(vw.Receiving[0])
	change, _ := net.PkScript(vw.Change[0])
	other, _ := net.PkScript(regtestWallet(t, "standard-account-xpub").Receiving[0])
	if !lf.m.WatchesScript(recv) || !lf.m.WatchesScript(change) {
		t.Fatal("the matcher does not answer for the wallet's scripts")
	}
	if lf.m.WatchesScript(other) {
		t.Fatal("the matcher answers for another wallet's script")
	}
	lf.mu.Lock()
	handed := len(lf.scripts)
	lf.mu.Unlock()
	if handed != 0 {
		t.Fatalf("the engine handed a locally matching backend %d scripts", handed)
	}
	pay := payTx(recv, 70_000, 9)
	op := wire.OutPoint{Hash: pay.TxHash(), Index: 0}
	if lf.m.WatchesOutpoint(op) {
		t.Fatal("the matcher answers for an outpoint before it is the wallet's")
	}
	if err := eng.AddTransaction(ctx, pay); err != nil {
		t.Fatal(err)
	}
	if !lf.m.WatchesOutpoint(op) {
		t.Fatal("the matcher does not answer for the wallet's unspent outpoint")
	}
}
