// Package chaintest is the conformance suite every chain.Backend passes
// against a real node. A backend's test starts a node (integration/harness),
// adapts it to NodeControl and calls Run.
package chaintest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// Timeout bounds every wait of the suite (an event, a state change). Real
// nodes on loopback answer in milliseconds; the margin is for loaded CI
// machines.
const Timeout = 30 * time.Second

// NodeControl is what the suite needs from the node behind the backend. Its
// methods fail t on error (they are called from the suite's goroutine for t).
type NodeControl interface {
	// NewScript returns the pkScript of a fresh key the node control
	// holds (so SpendTx can spend outputs paying it).
	NewScript(t testing.TB) []byte
	// Fund pays amount satoshis to pkScript (output 0) from the node's
	// own coins and returns the transaction, accepted to the mempool.
	Fund(t testing.TB, pkScript []byte, amount int64) *wire.MsgTx
	// SpendTx returns a signed, not broadcast, transaction spending prev
	// (worth prevValue, paying prevScript from NewScript) to toScript.
	SpendTx(t testing.TB, prev wire.OutPoint, prevScript []byte, prevValue int64, toScript []byte) *wire.MsgTx
	// Generate mines n blocks (including the mempool) and returns their
	// hashes.
	Generate(t testing.TB, n int) []chainhash.Hash
	// Stop stops the node process; Start starts it again on the same
	// address keeping its chain (the mempool may be lost).
	Stop(t testing.TB)
	Start(t testing.TB)
}

// Invalidator is implemented by node controls whose node can invalidate a
// block (a one-node reorg); the suite then checks EventBlockDisconnected.
type Invalidator interface {
	InvalidateBlock(t testing.TB, hash chainhash.Hash)
}

// Replacing is implemented by node controls whose backend learns that a
// block left the chain only when a longer chain replaces it: an Electrum
// server never announces a shorter chain (ElectrumX polls its node's block
// count, and notices the invalidation once the node's chain is longer than
// its own and does not extend its tip). The suite then mines the
// replacement and one more block before it waits for the disconnection,
// and checks that the disconnection comes first.
type Replacing interface {
	ReportsDisconnectOnReplacement() bool
}

// NewBackend builds an unstarted backend connected to the node under test.
type NewBackend func(t *testing.T, node NodeControl) chain.Backend

// Run runs the conformance checks, in order, as subtests of t against one
// backend (and a second one for the start-while-down check). The node must
// be fresh or at least have no transactions paying the suite's new scripts;
// its Stop/Start must keep the chain (btcd: simnet).
func Run(t *testing.T, newBackend NewBackend, node NodeControl) {
	s := &suite{node: node, newBackend: newBackend}
	s.b = newBackend(t, node)
	t.Cleanup(func() { _ = s.b.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	ch, err := s.b.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	s.rec = record(ch)

	steps := []struct {
		name string
		fn   func(t *testing.T)
	}{
		{"ConnectedWithTip", s.connected},
		{"WatchUnsupported", s.watchUnsupported},
		{"MempoolAndBlock", s.mempoolAndBlock},
		{"SpendOfWatchedOutpoint", s.spendNotified},
		{"FilterBlocks", s.filterBlocks},
		{"History", s.history},
		{"Transaction", s.transaction},
		{"Broadcast", s.broadcast},
		{"EstimateFee", s.estimateFee},
		{"BlockDisconnected", s.blockDisconnected},
		{"RestartRestoresFilter", s.restart},
		{"StartWhileNodeDown", s.startWhileDown},
		{"Close", s.close},
	}
	for _, st := range steps {
		if !t.Run(st.name, st.fn) {
			// Later steps build on earlier ones.
			t.FailNow()
		}
	}
}

type suite struct {
	node       NodeControl
	newBackend NewBackend
	b          chain.Backend
	rec        *recorder

	tip chain.BlockRef // from the first EventConnected

	script    []byte      // watched; paid by fund1 (confirmed) and fund2
	fund1     *wire.MsgTx // confirmed in block1
	block1    chainhash.Hash
	spend     *wire.MsgTx // spends fund1:0, confirmed
	opScript  []byte      // NOT watched; its outpoint is watched explicitly
	opFund    *wire.MsgTx
	opSpend   *wire.MsgTx
	mempoolTx *wire.MsgTx // pays script, left in the mempool
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

func (s *suite) connected(t *testing.T) {
	ev := s.rec.waitFor(t, 0, "EventConnected", func(e chain.Event) bool { return e.Kind == chain.EventConnected })
	if ev.Tip.Hash == (chainhash.Hash{}) {
		t.Fatalf("EventConnected without a tip: %+v", ev.Tip)
	}
	if !s.b.Connected() {
		t.Fatal("Connected() false after EventConnected")
	}
	tip, err := s.b.Tip(ctxT(t))
	if err != nil {
		t.Fatalf("Tip: %v", err)
	}
	if tip.Height < ev.Tip.Height {
		t.Fatalf("Tip height %d below the connect tip %d", tip.Height, ev.Tip.Height)
	}
	at, err := s.b.BlockAt(ctxT(t), tip.Height)
	if err != nil || at.Hash != tip.Hash || at.Prev != tip.Prev || !at.Time.Equal(tip.Time) {
		t.Fatalf("BlockAt(%d) = %+v, %v; want %+v", tip.Height, at, err, tip)
	}
	if _, err := s.b.BlockAt(ctxT(t), tip.Height+1000); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("BlockAt above the tip: %v, want ErrNotFound", err)
	}
	s.tip = ev.Tip
}

func (s *suite) watchUnsupported(t *testing.T) {
	opReturn := []byte{0x6a, 0x04, 't', 'e', 's', 't'}
	if err := s.b.Watch(ctxT(t), [][]byte{opReturn}, nil); !errors.Is(err, chain.ErrUnsupported) {
		t.Fatalf("Watch(OP_RETURN) = %v, want ErrUnsupported", err)
	}
	if _, err := s.b.History(ctxT(t), [][]byte{opReturn}); !errors.Is(err, chain.ErrUnsupported) {
		t.Fatalf("History(OP_RETURN) = %v, want ErrUnsupported", err)
	}
}

// mempoolAndBlock: Watch then Fund → EventTxAccepted; Generate →
// EventBlockConnected containing the tx.
func (s *suite) mempoolAndBlock(t *testing.T) {
	s.script = s.node.NewScript(t)
	if err := s.b.Watch(ctxT(t), [][]byte{s.script}, nil); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	mark := s.rec.len()
	s.fund1 = s.node.Fund(t, s.script, 100_000)
	id := s.fund1.TxHash()
	s.rec.waitFor(t, mark, "EventTxAccepted for the funding tx", isTxAccepted(id))

	mark = s.rec.len()
	hashes := s.node.Generate(t, 1)
	ev := s.rec.waitFor(t, mark, "EventBlockConnected with the funding tx", isBlockWith(hashes[0]))
	if !containsTx(ev.Block.Txs, id) {
		t.Fatalf("block %v event has %d txs, none the funding tx", hashes[0], len(ev.Block.Txs))
	}
	if ev.Block.Height != s.tip.Height+1 && ev.Block.Height <= s.tip.Height {
		t.Fatalf("block height %d not above the connect tip %d", ev.Block.Height, s.tip.Height)
	}
	tip, err := s.b.Tip(ctxT(t))
	if err != nil || tip.Hash != hashes[0] || tip.Height != ev.Block.Height || tip.Prev != ev.Block.Prev {
		t.Fatalf("Tip = %+v, %v; want the new block %+v", tip, err, ev.Block.BlockRef)
	}
	s.block1 = hashes[0]
}

// spendNotified: the output paying a watched script is watched by itself
// (its spend is notified); an outpoint watched explicitly is too.
func (s *suite) spendNotified(t *testing.T) {
	dest := s.node.NewScript(t)
	s.spend = s.node.SpendTx(t, wire.OutPoint{Hash: s.fund1.TxHash(), Index: 0}, s.script, 100_000, dest)
	mark := s.rec.len()
	if _, err := s.b.Broadcast(ctxT(t), s.spend); err != nil {
		t.Fatalf("Broadcast spend: %v", err)
	}
	s.rec.waitFor(t, mark, "EventTxAccepted for the spend of a received output", isTxAccepted(s.spend.TxHash()))

	// An outpoint of an unwatched script, watched explicitly.
	s.opScript = s.node.NewScript(t)
	s.opFund = s.node.Fund(t, s.opScript, 60_000)
	op := wire.OutPoint{Hash: s.opFund.TxHash(), Index: 0}
	if err := s.b.Watch(ctxT(t), nil, []wire.OutPoint{op}); err != nil {
		t.Fatalf("Watch(outpoint): %v", err)
	}
	s.opSpend = s.node.SpendTx(t, op, s.opScript, 60_000, dest)
	mark = s.rec.len()
	if _, err := s.b.Broadcast(ctxT(t), s.opSpend); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	s.rec.waitFor(t, mark, "EventTxAccepted for the spend of a watched outpoint", isTxAccepted(s.opSpend.TxHash()))
	if s.rec.any(mark, isTxAccepted(s.opFund.TxHash())) {
		t.Fatal("the funding of an unwatched script was notified")
	}
	mark = s.rec.len()
	h := s.node.Generate(t, 1)[0]
	ev := s.rec.waitFor(t, mark, "EventBlockConnected with both spends", isBlockWith(h))
	if !containsTx(ev.Block.Txs, s.spend.TxHash()) || !containsTx(ev.Block.Txs, s.opSpend.TxHash()) {
		t.Fatalf("block event lacks a spend: %v", txids(ev.Block.Txs))
	}
	if containsTx(ev.Block.Txs, s.opFund.TxHash()) {
		t.Fatal("block event includes the funding of an unwatched script")
	}
}

// filterBlocks: the tx in its block, empty blocks elsewhere, BlockRefs right,
// non-consecutive hashes, unknown hash.
func (s *suite) filterBlocks(t *testing.T) {
	s.node.Generate(t, 1) // flush the mempool
	empty := s.node.Generate(t, 1)[0]
	sc := s.node.NewScript(t)
	if err := s.b.Watch(ctxT(t), [][]byte{sc}, nil); err != nil {
		t.Fatalf("Watch: %v", err)
	}
	tx := s.node.Fund(t, sc, 40_000)
	with := s.node.Generate(t, 1)[0]
	after := s.node.Generate(t, 2)
	hashes := []chainhash.Hash{empty, with, after[0], after[1]}

	blocks, err := s.b.FilterBlocks(ctxT(t), hashes)
	if err != nil {
		t.Fatalf("FilterBlocks: %v", err)
	}
	if len(blocks) != len(hashes) {
		t.Fatalf("FilterBlocks returned %d blocks for %d hashes", len(blocks), len(hashes))
	}
	for i, b := range blocks {
		if b.Hash != hashes[i] {
			t.Fatalf("block %d is %v, want %v", i, b.Hash, hashes[i])
		}
		if i > 0 && (b.Prev != hashes[i-1] || b.Height != blocks[i-1].Height+1) {
			t.Fatalf("block %d: prev %v height %d; want prev %v height %d", i, b.Prev, b.Height, hashes[i-1], blocks[i-1].Height+1)
		}
		if b.Time.IsZero() {
			t.Fatalf("block %d has no time", i)
		}
		ref, err := s.b.BlockAt(ctxT(t), b.Height)
		if err != nil || ref != b.BlockRef {
			t.Fatalf("BlockAt(%d) = %+v, %v; FilterBlocks said %+v", b.Height, ref, err, b.BlockRef)
		}
	}
	if len(blocks[1].Txs) != 1 || blocks[1].Txs[0].TxHash() != tx.TxHash() {
		t.Fatalf("block with the payment has txs %v, want [%v]", txids(blocks[1].Txs), tx.TxHash())
	}
	for _, i := range []int{0, 2, 3} {
		if len(blocks[i].Txs) != 0 {
			t.Fatalf("block %d should have no match, has %v", i, txids(blocks[i].Txs))
		}
	}

	// Earlier blocks: the first funding and its spend.
	blocks, err = s.b.FilterBlocks(ctxT(t), []chainhash.Hash{s.block1})
	if err != nil || len(blocks) != 1 || !containsTx(blocks[0].Txs, s.fund1.TxHash()) {
		t.Fatalf("FilterBlocks(block1) = %v, %v", blocks, err)
	}

	// Non-consecutive and repeated hashes are served in request order.
	blocks, err = s.b.FilterBlocks(ctxT(t), []chainhash.Hash{after[1], with, empty, with})
	if err != nil {
		t.Fatalf("FilterBlocks(unordered): %v", err)
	}
	if len(blocks) != 4 || blocks[0].Hash != after[1] || blocks[1].Hash != with || blocks[3].Hash != with ||
		len(blocks[1].Txs) != 1 || len(blocks[3].Txs) != 1 || len(blocks[0].Txs) != 0 || len(blocks[2].Txs) != 0 {
		t.Fatalf("FilterBlocks(unordered) = %+v", blocks)
	}

	if _, err := s.b.FilterBlocks(ctxT(t), []chainhash.Hash{{1, 2, 3}}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("FilterBlocks(unknown) = %v, want ErrNotFound", err)
	}
	if blocks, err := s.b.FilterBlocks(ctxT(t), nil); err != nil || len(blocks) != 0 {
		t.Fatalf("FilterBlocks(nil) = %v, %v", blocks, err)
	}
}

// history: confirmed (with height and confirmations) and mempool txs, both
// directions (the spend of the received output is in the history too).
func (s *suite) history(t *testing.T) {
	s.mempoolTx = s.node.Fund(t, s.script, 30_000)
	tip, err := s.b.Tip(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	hist, err := s.b.History(ctxT(t), [][]byte{s.script})
	if err != nil {
		t.Fatalf("History: %v", err)
	}
	byID := map[chainhash.Hash]chain.TxInfo{}
	for _, h := range hist {
		byID[h.Tx.TxHash()] = h
	}
	if len(byID) != len(hist) {
		t.Fatalf("History has duplicates: %d entries, %d distinct", len(hist), len(byID))
	}
	f, ok := byID[s.fund1.TxHash()]
	if !ok {
		t.Fatalf("History lacks the confirmed funding tx; has %d entries", len(hist))
	}
	ref, err := s.b.BlockAt(ctxT(t), f.Height)
	if err != nil || f.BlockHash == nil || *f.BlockHash != s.block1 || ref.Hash != s.block1 {
		t.Fatalf("confirmed entry: block %v height %d (block1 %v at %v)", f.BlockHash, f.Height, s.block1, ref.Hash)
	}
	if want := int64(tip.Height-f.Height) + 1; f.Confirmations != want {
		t.Fatalf("confirmations %d, want %d", f.Confirmations, want)
	}
	if f.Time.IsZero() {
		t.Fatal("confirmed entry has no time")
	}
	sp, ok := byID[s.spend.TxHash()]
	if !ok || sp.BlockHash == nil {
		t.Fatalf("History lacks the confirmed spend (%v)", ok)
	}
	m, ok := byID[s.mempoolTx.TxHash()]
	if !ok {
		t.Fatal("History lacks the mempool tx")
	}
	if m.BlockHash != nil || m.Height != 0 || m.Confirmations != 0 {
		t.Fatalf("mempool entry: %+v", m)
	}
	if len(hist) != 3 {
		t.Fatalf("History has %d entries, want 3: %v", len(hist), keys(byID))
	}
	other := s.node.NewScript(t)
	if h, err := s.b.History(ctxT(t), [][]byte{other}); err != nil || len(h) != 0 {
		t.Fatalf("History(unused script) = %v, %v; want empty", h, err)
	}
	// A batch: the same script twice beside an unused one gives each
	// transaction once.
	batch, err := s.b.History(ctxT(t), [][]byte{s.script, other, s.script})
	if err != nil {
		t.Fatalf("History(batch): %v", err)
	}
	got := map[chainhash.Hash]bool{}
	for _, h := range batch {
		got[h.Tx.TxHash()] = true
	}
	if len(batch) != 3 || len(got) != 3 || !got[s.fund1.TxHash()] || !got[s.spend.TxHash()] || !got[s.mempoolTx.TxHash()] {
		t.Fatalf("History(batch) has %d entries (%d distinct), want the same 3", len(batch), len(got))
	}
	// Bounded lookups (chain.HistoryAtMost; a BoundedHistorian stops
	// early): the watched script's 3 transactions, counted once each in a
	// batch naming it twice, and the unwatched opScript's 2 (its funding
	// and its spend).
	for _, c := range []struct {
		name    string
		scripts [][]byte
		max     int
		want    int // entries; 0: ErrTooMuchHistory
	}{
		{"watched over", [][]byte{s.script}, 2, 0},
		{"watched at", [][]byte{s.script, other, s.script}, 3, 3},
		{"unwatched over", [][]byte{s.opScript}, 1, 0},
		{"unwatched at", [][]byte{s.opScript}, 2, 2},
		{"both over", [][]byte{s.script, s.opScript}, 4, 0},
	} {
		h, err := chain.HistoryAtMost(ctxT(t), s.b, c.scripts, c.max)
		switch {
		case c.want == 0 && !errors.Is(err, chain.ErrTooMuchHistory):
			t.Fatalf("HistoryAtMost %s (bound %d): %d entries, %v; want ErrTooMuchHistory", c.name, c.max, len(h), err)
		case c.want > 0 && (err != nil || len(h) != c.want):
			t.Fatalf("HistoryAtMost %s (bound %d): %d entries, %v; want %d", c.name, c.max, len(h), err, c.want)
		}
	}
}

func (s *suite) transaction(t *testing.T) {
	info, err := s.b.Transaction(ctxT(t), s.fund1.TxHash())
	if err != nil {
		t.Fatalf("Transaction(confirmed): %v", err)
	}
	if info.Tx.TxHash() != s.fund1.TxHash() || info.BlockHash == nil || *info.BlockHash != s.block1 ||
		info.Confirmations < 1 || info.Height <= 0 {
		t.Fatalf("Transaction(confirmed) = %+v", info)
	}
	info, err = s.b.Transaction(ctxT(t), s.mempoolTx.TxHash())
	if err != nil {
		t.Fatalf("Transaction(mempool): %v", err)
	}
	if info.BlockHash != nil || info.Height != 0 || info.Confirmations != 0 {
		t.Fatalf("Transaction(mempool) = %+v", info)
	}
	var buf1, buf2 bytes.Buffer
	_ = info.Tx.Serialize(&buf1)
	_ = s.mempoolTx.Serialize(&buf2)
	if !bytes.Equal(buf1.Bytes(), buf2.Bytes()) {
		t.Fatal("Transaction returned different bytes")
	}
	if _, err := s.b.Transaction(ctxT(t), chainhash.Hash{0xde, 0xad}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("Transaction(unknown) = %v, want ErrNotFound", err)
	}
}

// broadcast: ok, then a double spend is ErrRejected.
func (s *suite) broadcast(t *testing.T) {
	sc := s.node.NewScript(t)
	fund := s.node.Fund(t, sc, 50_000)
	op := wire.OutPoint{Hash: fund.TxHash(), Index: 0}
	a := s.node.SpendTx(t, op, sc, 50_000, s.node.NewScript(t))
	id, err := s.b.Broadcast(ctxT(t), a)
	if err != nil || id != a.TxHash() {
		t.Fatalf("Broadcast = %v, %v; want %v", id, err, a.TxHash())
	}
	dbl := s.node.SpendTx(t, op, sc, 50_000, s.node.NewScript(t))
	_, err = s.b.Broadcast(ctxT(t), dbl)
	if !errors.Is(err, chain.ErrRejected) {
		t.Fatalf("Broadcast(double spend) = %v, want ErrRejected", err)
	}
	t.Logf("double spend refused: %v", err)
	if errors.Is(err, chain.ErrNotConnected) {
		t.Fatal("a rejection must not look like a connection failure")
	}
}

func (s *suite) estimateFee(t *testing.T) {
	for _, target := range []int{1, 6, 25} {
		rate, ok, err := s.b.EstimateFee(ctxT(t), target)
		if err != nil {
			t.Fatalf("EstimateFee(%d): %v", target, err)
		}
		// A regtest node has no estimate; the unit conversion has its own
		// test in each backend. Here: an answer is a sane rate, and no
		// answer is no rate.
		if ok && (rate <= 0 || rate > 100_000_000_000) {
			t.Fatalf("EstimateFee(%d) = %d sat/kvB with ok", target, rate)
		}
		if !ok && rate != 0 {
			t.Fatalf("EstimateFee(%d) = %d without ok", target, rate)
		}
		t.Logf("EstimateFee(%d) = %d sat/kvB ok=%v", target, rate, ok)
	}
}

// blockDisconnected: invalidating the tip yields EventBlockDisconnected, and
// the tx of the dropped block comes back in the next block.
func (s *suite) blockDisconnected(t *testing.T) {
	inv, ok := s.node.(Invalidator)
	if !ok {
		// The only backend-level reorg check: every node control must
		// be able to run it.
		t.Fatal("the node control does not implement chaintest.Invalidator")
	}
	sc := s.node.NewScript(t)
	if err := s.b.Watch(ctxT(t), [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	s.node.Generate(t, 1) // flush
	tx := s.node.Fund(t, sc, 45_000)
	mark := s.rec.len()
	h := s.node.Generate(t, 1)[0]
	// A polling backend reports only blocks it saw: wait until it has.
	s.rec.waitFor(t, mark, "EventBlockConnected of the block to invalidate", isBlockWith(h))
	mark = s.rec.len()
	inv.InvalidateBlock(t, h)
	var h2 chainhash.Hash
	if r, ok := s.node.(Replacing); ok && r.ReportsDisconnectOnReplacement() {
		h2 = s.node.Generate(t, 2)[0]
	}
	ev := s.rec.waitFor(t, mark, "EventBlockDisconnected", func(e chain.Event) bool {
		return e.Kind == chain.EventBlockDisconnected && e.Block != nil && e.Block.Hash == h
	})
	if ev.Block.Height <= 0 || ev.Block.Prev == (chainhash.Hash{}) {
		t.Fatalf("disconnected block ref incomplete: %+v", ev.Block.BlockRef)
	}
	gone := ev.Block.BlockRef
	if h2 == (chainhash.Hash{}) {
		mark = s.rec.len()
		h2 = s.node.Generate(t, 1)[0]
	}
	ev = s.rec.waitFor(t, mark, "EventBlockConnected of the replacement block", isBlockWith(h2))
	if s.rec.index(mark, isBlockWith(h2)) < s.rec.index(mark, func(e chain.Event) bool {
		return e.Kind == chain.EventBlockDisconnected && e.Block != nil && e.Block.Hash == h
	}) {
		t.Fatal("the replacement block was reported before the disconnection of the block it replaces")
	}
	if ev.Block.Height != gone.Height || ev.Block.Prev != gone.Prev {
		t.Fatalf("replacement block %+v does not replace %+v", ev.Block.BlockRef, gone)
	}
	if !containsTx(ev.Block.Txs, tx.TxHash()) {
		t.Logf("note: the node did not re-mine the tx of the invalidated block (txs %v)", txids(ev.Block.Txs))
	}
}

// restart: stop the node → EventDisconnected, calls fail with
// ErrNotConnected; start → EventConnected; the filter (scripts and learned
// outpoints) is restored.
func (s *suite) restart(t *testing.T) {
	// A confirmed output to the watched script, spent after the restart.
	recv := s.node.Fund(t, s.script, 70_000)
	s.node.Generate(t, 1)

	mark := s.rec.len()
	s.node.Stop(t)
	s.rec.waitFor(t, mark, "EventDisconnected", func(e chain.Event) bool { return e.Kind == chain.EventDisconnected })
	waitUntil(t, "Connected() false", func() bool { return !s.b.Connected() })
	if _, err := s.b.Tip(ctxT(t)); !errors.Is(err, chain.ErrNotConnected) {
		t.Fatalf("Tip while disconnected = %v, want ErrNotConnected", err)
	}
	// Watch while disconnected is kept for the reload.
	late := s.node.NewScript(t)
	if err := s.b.Watch(ctxT(t), [][]byte{late}, nil); err != nil {
		t.Fatalf("Watch while disconnected: %v", err)
	}

	mark = s.rec.len()
	s.node.Start(t)
	ev := s.rec.waitFor(t, mark, "EventConnected after restart", func(e chain.Event) bool { return e.Kind == chain.EventConnected })
	if ev.Tip.Hash == (chainhash.Hash{}) {
		t.Fatal("EventConnected without tip")
	}
	if !s.b.Connected() {
		t.Fatal("Connected() false after EventConnected")
	}

	mark = s.rec.len()
	pay := s.node.Fund(t, s.script, 20_000)
	s.rec.waitFor(t, mark, "payment to a script watched before the restart", isTxAccepted(pay.TxHash()))
	payLate := s.node.Fund(t, late, 20_000)
	s.rec.waitFor(t, mark, "payment to a script watched while disconnected", isTxAccepted(payLate.TxHash()))
	// The spend of an output the node learned before the restart: the
	// spend pays an unwatched script, so only the outpoint matches.
	sp := s.node.SpendTx(t, wire.OutPoint{Hash: recv.TxHash(), Index: 0}, s.script, 70_000, s.node.NewScript(t))
	if _, err := s.b.Broadcast(ctxT(t), sp); err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	s.rec.waitFor(t, mark, "spend of a learned outpoint after the restart", isTxAccepted(sp.TxHash()))
	h := s.node.Generate(t, 1)[0]
	ev = s.rec.waitFor(t, mark, "EventBlockConnected after restart", isBlockWith(h))
	for _, id := range []chainhash.Hash{pay.TxHash(), payLate.TxHash(), sp.TxHash()} {
		if !containsTx(ev.Block.Txs, id) {
			t.Fatalf("block after restart lacks %v: %v", id, txids(ev.Block.Txs))
		}
	}
}

// startWhileDown: a backend started while the node is down returns from
// Start at once, answers ErrNotConnected, and connects when the node comes.
func (s *suite) startWhileDown(t *testing.T) {
	s.node.Stop(t)
	restarted := false
	defer func() {
		if !restarted {
			s.node.Start(t)
		}
	}()
	b := s.newBackend(t, s.node)
	t0 := time.Now()
	ch, err := b.Start(ctxT(t))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("Start blocked for %v while the node is down", d)
	}
	rec := record(ch)
	if b.Connected() {
		t.Fatal("Connected() with the node down")
	}
	if _, err := b.Tip(ctxT(t)); !errors.Is(err, chain.ErrNotConnected) {
		t.Fatalf("Tip = %v, want ErrNotConnected", err)
	}
	if _, err := b.Broadcast(ctxT(t), s.spend); !errors.Is(err, chain.ErrNotConnected) || errors.Is(err, chain.ErrRejected) {
		t.Fatalf("Broadcast = %v, want ErrNotConnected", err)
	}
	if err := b.Watch(ctxT(t), [][]byte{s.script}, nil); err != nil {
		t.Fatalf("Watch before connecting: %v", err)
	}
	s.node.Start(t)
	restarted = true
	rec.waitFor(t, 0, "EventConnected once the node is up", func(e chain.Event) bool { return e.Kind == chain.EventConnected })
	mark := rec.len()
	pay := s.node.Fund(t, s.script, 25_000)
	rec.waitFor(t, mark, "payment notified on the second backend", isTxAccepted(pay.TxHash()))
	closeAndDrain(t, b, rec)
	// The main backend reconnected too.
	s.rec.waitFor(t, s.rec.lastIndex(func(e chain.Event) bool { return e.Kind == chain.EventDisconnected }),
		"main backend reconnected", func(e chain.Event) bool { return e.Kind == chain.EventConnected })
}

func (s *suite) close(t *testing.T) {
	closeAndDrain(t, s.b, s.rec)
	if s.b.Connected() {
		t.Fatal("Connected() after Close")
	}
	if _, err := s.b.Tip(ctxT(t)); err == nil {
		t.Fatal("Tip after Close succeeded")
	}
	if err := s.b.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// closeAndDrain closes b and waits for its channel to be closed.
func closeAndDrain(t *testing.T, b chain.Backend, rec *recorder) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- b.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(Timeout):
		t.Fatal("Close did not return")
	}
	select {
	case <-rec.closed:
	case <-time.After(Timeout):
		t.Fatal("event channel not closed by Close")
	}
}

func isTxAccepted(id chainhash.Hash) func(chain.Event) bool {
	return func(e chain.Event) bool {
		return e.Kind == chain.EventTxAccepted && e.Tx != nil && e.Tx.TxHash() == id
	}
}

func isBlockWith(hash chainhash.Hash) func(chain.Event) bool {
	return func(e chain.Event) bool {
		return e.Kind == chain.EventBlockConnected && e.Block != nil && e.Block.Hash == hash
	}
}

func containsTx(txs []*wire.MsgTx, id chainhash.Hash) bool {
	for _, tx := range txs {
		if tx.TxHash() == id {
			return true
		}
	}
	return false
}

func txids(txs []*wire.MsgTx) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		out[i] = tx.TxHash().String()
	}
	return out
}

func keys(m map[chainhash.Hash]chain.TxInfo) []string {
	var out []string
	for k := range m {
		out = append(out, k.String())
	}
	return out
}

// waitUntil polls cond until true or Timeout.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	for delay := time.Millisecond; !cond(); delay = min(delay*2, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(delay)
	}
}

// recorder reads a backend's event channel into a list that waits can
// search, so no event is missed between a trigger and its wait.
type recorder struct {
	mu      sync.Mutex
	events  []chain.Event
	changed chan struct{} // closed and replaced at each event
	closed  chan struct{} // closed when the channel is
}

func record(ch <-chan chain.Event) *recorder {
	r := &recorder{changed: make(chan struct{}), closed: make(chan struct{})}
	go func() {
		for ev := range ch {
			r.mu.Lock()
			r.events = append(r.events, ev)
			close(r.changed)
			r.changed = make(chan struct{})
			r.mu.Unlock()
		}
		close(r.closed)
	}()
	return r
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

func (r *recorder) any(from int, match func(chain.Event) bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events[from:] {
		if match(e) {
			return true
		}
	}
	return false
}

// index returns the index of the first event at or after from matching
// match, or -1.
func (r *recorder) index(from int, match func(chain.Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := from; i < len(r.events); i++ {
		if match(r.events[i]) {
			return i
		}
	}
	return -1
}

func (r *recorder) lastIndex(match func(chain.Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.events) - 1; i >= 0; i-- {
		if match(r.events[i]) {
			return i
		}
	}
	return 0
}

// waitFor returns the first event at index >= from matching match, waiting
// up to Timeout.
func (r *recorder) waitFor(t *testing.T, from int, what string, match func(chain.Event) bool) chain.Event {
	t.Helper()
	timeout := time.After(Timeout)
	for i := from; ; {
		r.mu.Lock()
		for ; i < len(r.events); i++ {
			if match(r.events[i]) {
				ev := r.events[i]
				r.mu.Unlock()
				return ev
			}
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-r.closed:
			r.mu.Lock()
			n := len(r.events)
			r.mu.Unlock()
			if i >= n {
				t.Fatalf("event channel closed while waiting for %s (%s)", what, r.summary(from))
			}
		case <-timeout:
			t.Fatalf("timed out after %v waiting for %s (%s)", Timeout, what, r.summary(from))
		}
	}
}

func (r *recorder) summary(from int) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	kinds := map[chain.EventKind]int{}
	for _, e := range r.events[from:] {
		kinds[e.Kind]++
	}
	return fmt.Sprintf("events since mark by kind: %v", kinds)
}
