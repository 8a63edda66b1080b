package wallet_test

import (
	"context"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// fakeChain is an in-memory chain.Backend for engine unit tests: a list of
// blocks that tests extend, fork and reorg, and a mempool. Integration tests
// run the engine against a real btcd.
type fakeChain struct {
	mu      sync.Mutex
	blocks  []chain.Block // full blocks, index = height
	mempool []*wire.MsgTx
	scripts map[string]bool
	ops     map[wire.OutPoint]bool // outpoints the filter learned, as btcd's does
	nonce   int
	events  chan chain.Event
}

func newFakeChain() *fakeChain {
	f := &fakeChain{scripts: map[string]bool{}, ops: map[wire.OutPoint]bool{}, events: make(chan chain.Event, 1000)}
	f.blocks = append(f.blocks, chain.Block{BlockRef: chain.BlockRef{Height: 0, Hash: chainhash.Hash{0xee}, Time: time.Unix(1e9, 0)}})
	return f
}

// clone returns a fake chain with the same blocks and mempool and its own
// (quiet) event channel: a second engine resyncs from it.
func (f *fakeChain) clone() *fakeChain {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := newFakeChain()
	c.blocks = append([]chain.Block(nil), f.blocks...)
	c.mempool = append([]*wire.MsgTx(nil), f.mempool...)
	c.nonce = f.nonce
	return c
}

func (f *fakeChain) Start(context.Context) (<-chan chain.Event, error) {
	f.mu.Lock()
	tip := f.blocks[len(f.blocks)-1].BlockRef
	f.mu.Unlock()
	f.events <- chain.Event{Kind: chain.EventConnected, Tip: tip}
	return f.events, nil
}
func (f *fakeChain) Close() error    { return nil }
func (f *fakeChain) Connected() bool { return true }
func (f *fakeChain) Watch(ctx context.Context, scripts [][]byte, ops []wire.OutPoint) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range scripts {
		f.scripts[string(s)] = true
	}
	for _, op := range ops {
		f.ops[op] = true
	}
	return nil
}
func (f *fakeChain) Tip(ctx context.Context) (chain.BlockRef, error) {
	if err := ctx.Err(); err != nil {
		return chain.BlockRef{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.blocks[len(f.blocks)-1].BlockRef, nil
}
func (f *fakeChain) BlockAt(ctx context.Context, h int32) (chain.BlockRef, error) {
	if err := ctx.Err(); err != nil {
		return chain.BlockRef{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if int(h) >= len(f.blocks) || h < 0 {
		return chain.BlockRef{}, chain.ErrNotFound
	}
	return f.blocks[h].BlockRef, nil
}

// relevant reports whether the node-side filter matches tx (an output to
// a watched script, or an input spending a learned outpoint), learning the
// outpoints of its matching outputs as btcd's filter does. Caller holds mu.
func (f *fakeChain) relevant(tx *wire.MsgTx) bool {
	match := false
	for _, in := range tx.TxIn {
		match = match || f.ops[in.PreviousOutPoint]
	}
	for i, o := range tx.TxOut {
		if f.scripts[string(o.PkScript)] {
			match = true
			f.ops[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}] = true
		}
	}
	return match
}
func (f *fakeChain) FilterBlocks(ctx context.Context, hashes []chainhash.Hash) ([]chain.Block, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []chain.Block
	for _, h := range hashes {
		for _, b := range f.blocks {
			if b.Hash == h {
				fb := chain.Block{BlockRef: b.BlockRef}
				for _, tx := range b.Txs {
					if f.relevant(tx) {
						fb.Txs = append(fb.Txs, tx)
					}
				}
				out = append(out, fb)
			}
		}
	}
	return out, nil
}
func (f *fakeChain) History(ctx context.Context, scripts [][]byte) ([]chain.TxInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Like btcd's address index: transactions paying one of the scripts,
	// and those spending their outputs.
	want := map[string]bool{}
	for _, s := range scripts {
		want[string(s)] = true
	}
	paid := map[wire.OutPoint]bool{}
	touches := func(tx *wire.MsgTx) bool {
		hit := false
		for _, in := range tx.TxIn {
			hit = hit || paid[in.PreviousOutPoint]
		}
		for i, o := range tx.TxOut {
			if want[string(o.PkScript)] {
				hit = true
				paid[wire.OutPoint{Hash: tx.TxHash(), Index: uint32(i)}] = true
			}
		}
		return hit
	}
	var out []chain.TxInfo
	for _, b := range f.blocks {
		for _, tx := range b.Txs {
			if touches(tx) {
				h := b.Hash
				out = append(out, chain.TxInfo{Tx: tx, BlockHash: &h, Height: b.Height, Time: b.Time})
			}
		}
	}
	for _, tx := range f.mempool {
		if touches(tx) {
			out = append(out, chain.TxInfo{Tx: tx})
		}
	}
	return out, nil
}
func (f *fakeChain) Transaction(context.Context, chainhash.Hash) (*chain.TxInfo, error) {
	return nil, chain.ErrNotFound
}
func (f *fakeChain) Broadcast(_ context.Context, tx *wire.MsgTx) (chainhash.Hash, error) {
	f.mempoolAdd(tx)
	return tx.TxHash(), nil
}
func (f *fakeChain) EstimateFee(context.Context, int) (int64, bool, error) { return 0, false, nil }

// mempoolAdd puts tx in the mempool (evicting txs that spend the same
// coins, as a node's replacement does) and notifies it if relevant.
func (f *fakeChain) mempoolAdd(tx *wire.MsgTx) {
	f.mu.Lock()
	spends := map[wire.OutPoint]bool{}
	for _, in := range tx.TxIn {
		spends[in.PreviousOutPoint] = true
	}
	kept := f.mempool[:0]
	for _, m := range f.mempool {
		conflict := false
		for _, in := range m.TxIn {
			conflict = conflict || spends[in.PreviousOutPoint]
		}
		if !conflict {
			kept = append(kept, m)
		}
	}
	f.mempool = append(kept, tx)
	rel := f.relevant(tx)
	f.mu.Unlock()
	if rel {
		f.events <- chain.Event{Kind: chain.EventTxAccepted, Tx: tx}
	}
}

// mine appends a block with the mempool's txs plus extra, and notifies it.
func (f *fakeChain) mine(extra ...*wire.MsgTx) chain.BlockRef {
	ref, fb := f.mineQuiet(extra...)
	f.events <- chain.Event{Kind: chain.EventBlockConnected, Block: fb}
	return ref
}

// mineQuiet is mine without the notification (the engine sees the block
// only by catching up).
func (f *fakeChain) mineQuiet(extra ...*wire.MsgTx) (chain.BlockRef, *chain.Block) {
	f.mu.Lock()
	prev := f.blocks[len(f.blocks)-1]
	b := chain.Block{BlockRef: chain.BlockRef{Height: prev.Height + 1, Prev: prev.Hash,
		Time: prev.Time.Add(10 * time.Minute)}}
	b.Txs = append(append([]*wire.MsgTx{}, f.mempool...), extra...)
	f.mempool = nil
	// Deterministic (the same operations make the same chain), and never
	// the hash of a block a reorg removed.
	f.nonce++
	b.Hash = chainhash.DoubleHashH(append(prev.Hash[:], byte(f.nonce), byte(f.nonce>>8), byte(len(b.Txs))))
	f.blocks = append(f.blocks, b)
	fb := chain.Block{BlockRef: b.BlockRef}
	for _, tx := range b.Txs {
		if f.relevant(tx) {
			fb.Txs = append(fb.Txs, tx)
		}
	}
	f.mu.Unlock()
	return b.BlockRef, &fb
}

// reorg disconnects the top n blocks (their txs return to the mempool) and
// notifies the disconnections.
func (f *fakeChain) reorg(n int) {
	f.mu.Lock()
	var refs []chain.BlockRef
	for i := 0; i < n; i++ {
		top := f.blocks[len(f.blocks)-1]
		f.blocks = f.blocks[:len(f.blocks)-1]
		f.mempool = append(top.Txs, f.mempool...)
		refs = append(refs, top.BlockRef)
	}
	f.mu.Unlock()
	for _, r := range refs {
		r := r
		f.events <- chain.Event{Kind: chain.EventBlockDisconnected, Block: &chain.Block{BlockRef: r}}
	}
}

// payTx builds a tx paying value to script from a made-up outpoint.
func payTx(script []byte, value int64, salt byte) *wire.MsgTx {
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Hash: chainhash.Hash{salt, 1, 2}, Index: 0}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(value, script))
	return tx
}
