package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// GenStore writes a BTC regtest store with wallets [from, to) of salt
// through the engine's own code (wallet.New over boltstore, Engine.Open and
// Wallet.AddRequest, as the daemon does for a first call), without the
// daemon and without HTTP: the load tool uses it to reach 100,000 tracked
// wallets in minutes instead of 100,000 cold loads over HTTP.
//
// The engine talks to tipNode, a chain.Backend whose chain ends at tip and
// whose node has no history for any address: true for the tool's wallets,
// whose keys are new, on a fresh regtest chain whose tip is tip. The store
// is then what the daemon would have written for the same first calls,
// with the cursor at tip; a daemon started on it against that node only
// has to load it and watch its scripts.
//
// Commits skip fsync (the file is synced once at the end), which is
// the only departure from the daemon's writes.
func GenStore(ctx context.Context, path, salt string, from, to, reqsPerWallet int, tip chain.BlockRef, log io.Writer) error {
	net, err := params.BTC("regtest")
	if err != nil {
		return err
	}
	st, err := boltstore.OpenWith(path, boltstore.Options{NoSync: true})
	if err != nil {
		return err
	}
	defer st.Close()
	node := &tipNode{tip: tip, events: make(chan chain.Event, 1)}
	eng, err := wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: node, PollingCap: wallet.DefaultPollingCap,
		Log: slog.New(slog.DiscardHandler), MaxWallets: wallet.DefaultMaxWallets})
	if err != nil {
		return err
	}
	defer eng.Close()
	if err := eng.Start(ctx); err != nil {
		return err
	}
	workers := 2 * runtime.GOMAXPROCS(0)
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	t0 := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + w; i < to; i += workers {
				k, err := benchKey(salt, i)
				if err != nil {
					errs[w] = err
					return
				}
				wal, err := eng.Open(ctx, k)
				if err != nil {
					errs[w] = fmt.Errorf("wallet %d: %w", i, err)
					return
				}
				for j := 0; j < reqsPerWallet; j++ {
					if _, err := wal.AddRequest(ctx, 50_000, "bench", 3600, false); err != nil {
						errs[w] = fmt.Errorf("wallet %d: add_request: %w", i, err)
						return
					}
				}
				if n := done.Add(1); log != nil && n%10_000 == 0 {
					fmt.Fprintf(log, "genstore: %d/%d wallets (%.0f/s)\n", n, to-from, float64(n)/time.Since(t0).Seconds())
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	eng.Close()
	return st.Sync()
}

// tipNode is the chain.Backend of GenStore: a node at tip that knows no
// transaction of the wallets being written.
type tipNode struct {
	tip    chain.BlockRef
	events chan chain.Event
}

func (n *tipNode) Start(context.Context) (<-chan chain.Event, error) {
	n.events <- chain.Event{Kind: chain.EventConnected, Tip: n.tip}
	return n.events, nil
}
func (n *tipNode) Close() error                                              { return nil }
func (n *tipNode) Connected() bool                                           { return true }
func (n *tipNode) Watch(context.Context, [][]byte, []wire.OutPoint) error    { return nil }
func (n *tipNode) Tip(context.Context) (chain.BlockRef, error)               { return n.tip, nil }
func (n *tipNode) History(context.Context, [][]byte) ([]chain.TxInfo, error) { return nil, nil }
func (n *tipNode) BlockAt(_ context.Context, h int32) (chain.BlockRef, error) {
	if h == n.tip.Height {
		return n.tip, nil
	}
	return chain.BlockRef{}, chain.ErrNotFound
}
func (n *tipNode) FilterBlocks(_ context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	if len(hashes) == 0 {
		return nil, nil
	}
	return nil, chain.ErrNotFound
}
func (n *tipNode) Transaction(context.Context, chainhash.Hash) (*chain.TxInfo, error) {
	return nil, chain.ErrNotFound
}
func (n *tipNode) Broadcast(context.Context, *wire.MsgTx) (chainhash.Hash, error) {
	return chainhash.Hash{}, chain.ErrUnsupported
}
func (n *tipNode) EstimateFee(context.Context, int) (int64, bool, error) { return 0, false, nil }
