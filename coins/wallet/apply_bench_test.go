package wallet_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/params"
	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

// benchChain is the fake chain for BenchmarkApplyBlock. Its tip is set by
// the benchmark (blocks are handed to the engine as events, not kept), it
// answers history lookups with nothing at once (so gap-limit extensions do
// not measure the fake's history scan), and it signals every Tip call: the
// engine calls Tip when it handles an EventConnected, which the benchmark
// sends after each block, so the signal means the block was fully handled.
type benchChain struct {
	*fakeChain
	mu        sync.Mutex
	tip       chain.BlockRef
	tipCalled chan struct{}
}

func (c *benchChain) Tip(context.Context) (chain.BlockRef, error) {
	c.mu.Lock()
	t := c.tip
	c.mu.Unlock()
	select {
	case c.tipCalled <- struct{}{}:
	default:
	}
	return t, nil
}

func (c *benchChain) BlockAt(ctx context.Context, h int32) (chain.BlockRef, error) {
	c.mu.Lock()
	t := c.tip
	c.mu.Unlock()
	if h == t.Height {
		return t, nil
	}
	return c.fakeChain.BlockAt(ctx, h)
}

func (c *benchChain) History(context.Context, [][]byte) ([]chain.TxInfo, error) { return nil, nil }

// benchXpub is the i-th wallet of the benchmark: a regtest vpub (p2wpkh
// account key) from hdkeychain.
func benchXpub(b testing.TB, i int) string {
	seed := sha256.Sum256(fmt.Appendf(nil, "walletd-apply-bench/%d", i))
	m, err := hdkeychain.NewMaster(seed[:], &chaincfg.RegressionNetParams)
	if err != nil {
		b.Fatal(err)
	}
	pub, err := m.Neuter()
	if err != nil {
		b.Fatal(err)
	}
	v, err := pub.CloneWithVersion([]byte{0x04, 0x5f, 0x1c, 0xf6})
	if err != nil {
		b.Fatal(err)
	}
	return v.String()
}

// applyEnv is an engine on a bbolt store tracking many wallets.
type applyEnv struct {
	chain   *benchChain
	eng     *wallet.Engine
	wallets []*wallet.Wallet
	paid    []uint32 // receiving addresses of each wallet paid so far
	height  int32
	prev    chainhash.Hash

	mu        sync.Mutex
	committed map[int32]time.Time // new_block event published (store committed)
}

func newApplyEnv(b *testing.B, scripts int) *applyEnv {
	b.Helper()
	ctx := context.Background()
	net, err := params.BTC("regtest")
	if err != nil {
		b.Fatal(err)
	}
	st, err := boltstore.Open(filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	fc := newFakeChain()
	env := &applyEnv{chain: &benchChain{fakeChain: fc, tip: fc.blocks[0].BlockRef, tipCalled: make(chan struct{}, 1)},
		committed: map[int32]time.Time{}, prev: fc.blocks[0].Hash}
	env.eng, err = wallet.New(ctx, wallet.Config{Net: net, Store: st, Backend: env.chain, SyncTimeout: time.Minute,
		Publish: env.publish})
	if err != nil {
		b.Fatal(err)
	}
	if err := env.eng.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { env.eng.Close(); _ = st.Close() })
	<-env.chain.tipCalled // the initial catch-up
	n := (scripts + wallet.GapReceiving + wallet.GapChange - 1) / (wallet.GapReceiving + wallet.GapChange)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		w, err := env.eng.Open(ctx, benchXpub(b, i))
		if err != nil {
			b.Fatal(err)
		}
		env.wallets = append(env.wallets, w)
	}
	env.paid = make([]uint32, n)
	b.Logf("tracking %d wallets (%d scripts) took %v", n, n*(wallet.GapReceiving+wallet.GapChange), time.Since(t0))
	return env
}

func (env *applyEnv) publish(ev wallet.Event) {
	if ev.WalletKey != "" {
		return
	}
	if ev.Record.Kind == wallet.EventBlock {
		env.mu.Lock()
		env.committed[ev.Record.Height] = time.Now()
		env.mu.Unlock()
	}
}

// block makes the next block: n transactions of 2 inputs and 2 outputs,
// the first `ours` of which pay (output 0) the next unpaid receiving
// address of a distinct tracked wallet (each such payment makes the engine
// derive one more address to keep the gap limit).
func (env *applyEnv) block(b *testing.B, n, ours int) *chain.Block {
	env.height++
	ref := chain.BlockRef{Height: env.height, Prev: env.prev, Time: time.Unix(1.7e9, 0).Add(time.Duration(env.height) * time.Minute)}
	binary.BigEndian.PutUint32(ref.Hash[:], uint32(env.height))
	ref.Hash[31] = 0xcc
	blk := &chain.Block{BlockRef: ref}
	for i := 0; i < n; i++ {
		tx := wire.NewMsgTx(2)
		for j := 0; j < 2; j++ {
			var h chainhash.Hash
			binary.BigEndian.PutUint32(h[:], uint32(env.height))
			binary.BigEndian.PutUint32(h[4:], uint32(i*2+j))
			tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: h, Index: uint32(j)}, nil, [][]byte{make([]byte, 72), make([]byte, 33)}))
			s := sha256.Sum256(h[:])
			tx.AddTxOut(wire.NewTxOut(int64(10_000+i), append([]byte{0x00, 0x14}, s[:20]...)))
		}
		if i < ours {
			w := i % len(env.wallets)
			k, err := env.wallets[w].Material().Derive(false, env.paid[w])
			if err != nil {
				b.Fatal(err)
			}
			env.paid[w]++
			tx.TxOut[0].PkScript = k.PkScript
		}
		blk.Txs = append(blk.Txs, tx)
	}
	env.prev = ref.Hash
	return blk
}

// apply hands the block to the engine and returns when it is committed
// (new_block published) and when it is fully handled (gap-limit extensions
// of the paid wallets included).
func (env *applyEnv) apply(blk *chain.Block) (committed, done time.Duration) {
	env.chain.mu.Lock()
	env.chain.tip = blk.BlockRef
	env.chain.mu.Unlock()
	start := time.Now()
	env.chain.events <- chain.Event{Kind: chain.EventBlockConnected, Block: blk}
	env.chain.events <- chain.Event{Kind: chain.EventConnected, Tip: blk.BlockRef}
	<-env.chain.tipCalled
	done = time.Since(start)
	env.mu.Lock()
	at, ok := env.committed[blk.Height]
	env.mu.Unlock()
	if ok {
		committed = at.Sub(start)
	}
	return committed, done
}

// BenchmarkApplyBlock is the time to apply a 2,000-transaction block while
// 100,000 scripts (3,334 wallets × 30 addresses) are tracked, on a bbolt
// store (fsync on commit): from the block event to the engine being done
// with it (ns/op), and to its store commit (committed-ms: the block, its
// payments and events durable and published). Variants: no transaction is
// the wallets' (a full block as a Core-RPC backend hands it: matching only,
// plus the cursor commit), 100 of them are, and all 2,000 are (each pays
// the next fresh receiving address of a distinct wallet, as a btcd backend
// would deliver a filtered block of 2,000 invoice payments). After the
// commit the engine extends the gap limit of each paid wallet; it derives
// receiving addresses ahead in chunks, so the first block of a sub-benchmark
// (the only one with -benchtime=1x) pays for the chunk derivations of every
// wallet it touches, and later ones mostly do not. -short tracks 10,000
// scripts.
func BenchmarkApplyBlock(b *testing.B) {
	scripts := 100_000
	if testing.Short() {
		scripts = 10_000
	}
	env := newApplyEnv(b, scripts)
	for _, v := range []struct {
		name string
		ours int
	}{{"2000tx-0-ours", 0}, {"2000tx-100-ours", 100}, {"2000tx-2000-ours", 2000}} {
		b.Run(v.name, func(b *testing.B) {
			var committed time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				blk := env.block(b, 2000, v.ours)
				b.StartTimer()
				c, _ := env.apply(blk)
				committed += c
			}
			b.ReportMetric(float64(committed)/1e6/float64(b.N), "committed-ms")
		})
	}
}

// BenchmarkApplyBlockOfPaidRequests is the daemon's full block of our
// payments (integration/bench scale): 2,000 transactions, each paying a
// fresh request of a distinct tracked wallet, all first seen in the
// mempool (AddTransaction, not timed), then mined in one block (timed:
// ns/op is the block fully handled, committed-ms its commit with events
// published). The block's transaction updates records rather than creating
// them, and the gap-limit extensions happened at the mempool stage.
// BLOCK_PROF=<prefix> writes a CPU profile of each timed block to
// <prefix>.<b.N>.<i>, and the allocation profile before and after it to
// <prefix>.<b.N>.<i>.allocs-before and .allocs-after (what the block
// allocated: go tool pprof -base <before> <after>).
func BenchmarkApplyBlockOfPaidRequests(b *testing.B) {
	scripts := 100_000
	if testing.Short() {
		scripts = 10_000
	}
	env := newApplyEnv(b, scripts)
	ctx := context.Background()
	const n = 2000
	var committed time.Duration
	prof := os.Getenv("BLOCK_PROF")
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		blk := env.block(b, n, 0)
		for j, tx := range blk.Txs {
			w := env.wallets[j%len(env.wallets)]
			req, err := w.AddRequest(ctx, 10_000, "bench", 3600, true)
			if err != nil {
				b.Fatal(err)
			}
			tx.TxOut[0].PkScript = req.PkScript
			tx.TxOut[0].Value = 10_000
			if err := env.eng.AddTransaction(ctx, tx); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if prof != "" {
			writeAllocs(fmt.Sprintf("%s.%d.%d.allocs-before", prof, b.N, i))
			pf, _ := os.Create(fmt.Sprintf("%s.%d.%d", prof, b.N, i))
			_ = pprof.StartCPUProfile(pf)
			defer pf.Close()
		}
		c, _ := env.apply(blk)
		if prof != "" {
			pprof.StopCPUProfile()
			writeAllocs(fmt.Sprintf("%s.%d.%d.allocs-after", prof, b.N, i))
		}
		committed += c
	}
	b.ReportMetric(float64(committed)/1e6/float64(b.N), "committed-ms")
}

// writeAllocs writes the allocation profile (cumulative) to path.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup("allocs").WriteTo(f, 0)
}
