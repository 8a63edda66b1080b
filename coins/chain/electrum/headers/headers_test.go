package headers

import (
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/params"
)

// blockHash is sha256d proof of work without serializing (fast tests).
func blockHash(h *wire.BlockHeader) chainhash.Hash { return h.BlockHash() }

// testParams is a network with Bitcoin's retarget rules (2016 blocks, 4x
// clamp) but regtest's easy proof-of-work limit, so that tests mine
// thousands of headers in milliseconds.
func testParams() *chaincfg.Params {
	p := chaincfg.RegressionNetParams
	p.PoWNoRetargeting = false
	p.ReduceMinDifficulty = false
	p.TargetTimePerBlock = time.Minute
	p.TargetTimespan = ChunkSize * time.Minute
	p.RetargetAdjustmentFactor = 4
	p.BIP0034Height, p.BIP0065Height, p.BIP0066Height = 1<<30, 1<<30, 1<<30
	return &p
}

// miner builds a valid header chain for rules, computing the bits with
// a reference implementation written here (not btcd's).
type miner struct {
	t     *testing.T
	rules *Rules
	hdrs  []wire.BlockHeader
}

func newMiner(t *testing.T, rules *Rules, genesisTime time.Time) *miner {
	g := wire.BlockHeader{Version: 1, Timestamp: genesisTime, Bits: rules.Params.PowLimitBits}
	m := &miner{t: t, rules: rules}
	m.hdrs = append(m.hdrs, m.solve(g))
	return m
}

func (m *miner) solve(h wire.BlockHeader) wire.BlockHeader {
	target := blockchain.CompactToBig(h.Bits)
	for n := uint32(0); ; n++ {
		h.Nonce = n
		pow := m.rules.Pow(&h)
		if blockchain.HashToBig(&pow).Cmp(target) <= 0 {
			return h
		}
	}
}

// expectedBits is the reference retarget.
func (m *miner) expectedBits(height int) uint32 {
	p := m.rules.Params
	last := m.hdrs[height-1]
	if height%ChunkSize != 0 {
		return last.Bits
	}
	first := height - ChunkSize
	if m.rules.FullPeriodRetarget && height != ChunkSize {
		first--
	}
	span := last.Timestamp.Unix() - m.hdrs[first].Timestamp.Unix()
	want := int64(p.TargetTimespan / time.Second)
	span = max(want/4, min(span, want*4))
	target := blockchain.CompactToBig(last.Bits)
	target.Mul(target, big.NewInt(span))
	target.Div(target, big.NewInt(want))
	if target.Cmp(p.PowLimit) > 0 {
		target.Set(p.PowLimit)
	}
	return blockchain.BigToCompact(target)
}

// mine appends n headers spaced by gap (gapAt overrides the spacing before
// given heights).
func (m *miner) mine(n int, gap time.Duration, gapAt map[int]time.Duration) {
	for i := 0; i < n; i++ {
		height := len(m.hdrs)
		prev := m.hdrs[height-1]
		g := gap
		if d, ok := gapAt[height]; ok {
			g = d
		}
		h := wire.BlockHeader{Version: 4, PrevBlock: prev.BlockHash(), MerkleRoot: chainhash.Hash{byte(height), byte(height >> 8)},
			Timestamp: prev.Timestamp.Add(g), Bits: m.expectedBits(height)}
		m.hdrs = append(m.hdrs, m.solve(h))
	}
}

func testRules(t *testing.T, fullPeriod bool) *Rules {
	p := testParams()
	r := &Rules{Name: "test", Params: p, Pow: blockHash, FullPeriodRetarget: fullPeriod}
	return r
}

// anchoredChain builds a chain anchored at m's genesis (the rules' genesis
// is replaced by it).
func anchoredChain(t *testing.T, m *miner) *Chain {
	g := m.hdrs[0].BlockHash()
	m.rules.Params.GenesisHash = &g
	c := NewChain(m.rules, 0)
	if err := c.Init(m.hdrs[:1]); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return c
}

func TestRetargetRules(t *testing.T) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "bitcoin", true: "litecoin"}[full]
		t.Run(name, func(t *testing.T) {
			m := newMiner(t, testRules(t, full), time.Unix(1_600_000_000, 0))
			// First period fast (difficulty up), then a long gap
			// before the second period's first block: Litecoin's
			// timespan includes it, Bitcoin's does not.
			m.mine(ChunkSize-1, 30*time.Second, nil)
			m.mine(2*ChunkSize+10, time.Minute, map[int]time.Duration{ChunkSize: 48 * time.Hour})
			if m.hdrs[ChunkSize].Bits == m.hdrs[0].Bits {
				t.Fatal("the first retarget did not change the bits: the test proves nothing")
			}
			c := anchoredChain(t, m)
			if _, err := c.Extend(1, m.hdrs[1:]); err != nil {
				t.Fatalf("Extend valid chain: %v", err)
			}
			tip, _ := c.Tip()
			if tip.Height != int32(len(m.hdrs)-1) || tip.Hash != m.hdrs[len(m.hdrs)-1].BlockHash() {
				t.Fatalf("tip %+v", tip)
			}

			// The other coin's rule gives other bits at the second
			// retarget: a chain mined with them is refused.
			other := newMiner(t, testRules(t, !full), time.Unix(1_600_000_000, 0))
			other.hdrs = append([]wire.BlockHeader(nil), m.hdrs[:2*ChunkSize]...)
			if other.expectedBits(2*ChunkSize) == m.hdrs[2*ChunkSize].Bits {
				t.Fatal("both rules agree at the second retarget: the test proves nothing")
			}
			other.mine(1, time.Minute, nil)
			c2 := anchoredChain(t, m)
			if _, err := c2.Extend(1, m.hdrs[1:2*ChunkSize]); err != nil {
				t.Fatal(err)
			}
			if _, err := c2.Extend(2*ChunkSize, other.hdrs[2*ChunkSize:]); !errors.Is(err, ErrInvalid) {
				t.Fatalf("header with the other coin's retarget: %v, want ErrInvalid", err)
			}
		})
	}
}

func TestExtendRefusals(t *testing.T) {
	m := newMiner(t, testRules(t, false), time.Unix(1_600_000_000, 0))
	m.mine(30, time.Minute, nil)
	c := anchoredChain(t, m)
	if _, err := c.Extend(1, m.hdrs[1:20]); err != nil {
		t.Fatal(err)
	}

	// Wrong bits outside a retarget.
	bad := m.hdrs[20]
	bad.Bits = 0x1f7fffff
	bad = m.solve(bad)
	if _, err := c.Extend(20, []wire.BlockHeader{bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong bits: %v", err)
	}
	// Insufficient proof of work: find a nonce that fails the target.
	weak := m.hdrs[20]
	target := blockchain.CompactToBig(weak.Bits)
	for n := uint32(0); ; n++ {
		weak.Nonce = n
		h := weak.BlockHash()
		if blockchain.HashToBig(&h).Cmp(target) > 0 {
			break
		}
	}
	if _, err := c.Extend(20, []wire.BlockHeader{weak}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("weak header: %v", err)
	}
	// A batch whose headers do not link.
	if _, err := c.Extend(20, []wire.BlockHeader{m.hdrs[20], m.hdrs[22]}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unlinked batch: %v", err)
	}
	// A header that does not attach: the caller must look for the fork.
	if _, err := c.Extend(21, m.hdrs[21:22]); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := c.Extend(20, m.hdrs[21:22]); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("wrong parent: %v", err)
	}
	// A fork at the anchor.
	if _, err := c.Extend(0, []wire.BlockHeader{bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("fork at the anchor: %v", err)
	}
	if tip, _ := c.Tip(); tip.Height != 19 {
		t.Fatalf("refused headers changed the tip: %+v", tip)
	}
	// Headers the chain has are skipped.
	if gone, err := c.Extend(5, m.hdrs[5:25]); err != nil || len(gone) != 0 {
		t.Fatalf("overlap: %v %v", gone, err)
	}
	if tip, _ := c.Tip(); tip.Height != 24 {
		t.Fatalf("tip after overlap %d", tip.Height)
	}
}

func TestReorgAndTruncate(t *testing.T) {
	m := newMiner(t, testRules(t, false), time.Unix(1_600_000_000, 0))
	m.mine(10, time.Minute, nil)
	c := anchoredChain(t, m)
	if _, err := c.Extend(1, m.hdrs[1:]); err != nil {
		t.Fatal(err)
	}
	// A branch from block 7 with three blocks (other timestamps).
	fork := &miner{t: t, rules: m.rules, hdrs: append([]wire.BlockHeader(nil), m.hdrs[:8]...)}
	fork.mine(4, 2*time.Minute, nil)
	gone, err := c.Extend(8, fork.hdrs[8:])
	if err != nil {
		t.Fatalf("reorg: %v", err)
	}
	if len(gone) != 3 || gone[0].Height != 10 || gone[0].Hash != m.hdrs[10].BlockHash() || gone[2].Height != 8 ||
		gone[2].Prev != m.hdrs[7].BlockHash() {
		t.Fatalf("disconnected %+v", gone)
	}
	ref, _, err := c.At(8)
	if err != nil || ref.Hash != fork.hdrs[8].BlockHash() {
		t.Fatalf("At(8) after reorg: %+v %v", ref, err)
	}
	gone, err = c.Truncate(9)
	if err != nil || len(gone) != 2 || gone[0].Height != 11 || gone[1].Height != 10 {
		t.Fatalf("Truncate: %+v %v", gone, err)
	}
	if _, err := c.Truncate(-1); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Truncate below anchor: %v", err)
	}
	if h, ok := c.HeightOf(fork.hdrs[9].BlockHash()); !ok || h != 9 {
		t.Fatalf("HeightOf = %d %v", h, ok)
	}
}

// TestCheckpointAnchorAndOldChunks anchors a chain at a checkpoint (the
// last block of the second chunk), prunes, and verifies old headers by
// their chunk.
func TestCheckpointAnchorAndOldChunks(t *testing.T) {
	m := newMiner(t, testRules(t, false), time.Unix(1_600_000_000, 0))
	m.mine(4*ChunkSize+300, time.Minute, nil)
	r := m.rules
	r.Checkpoints = []chainhash.Hash{m.hdrs[ChunkSize-1].BlockHash(), m.hdrs[2*ChunkSize-1].BlockHash()}
	c := NewChain(r, 2*ChunkSize+2)
	from, to := c.AnchorRange()
	if from != ChunkSize-1 || to != 2*ChunkSize-1 {
		t.Fatalf("AnchorRange = %d..%d", from, to)
	}
	// A wrong anchor (one header off) is refused.
	if err := c.Init(m.hdrs[from-1 : to]); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Init with wrong headers: %v", err)
	}
	if err := c.Init(m.hdrs[from : to+1]); err != nil {
		t.Fatalf("Init: %v", err)
	}
	if _, err := c.Extend(to, m.hdrs[to:to+1]); err != nil {
		t.Fatalf("known header at the anchor: %v", err)
	}
	if _, err := c.Extend(to+1, m.hdrs[to+1:]); err != nil {
		t.Fatalf("Extend from the anchor: %v", err)
	}
	// Old header below the window: fetch its chunk.
	if _, _, err := c.At(100); !errors.Is(err, ErrUnknownHeight) {
		t.Fatalf("At(100) without its chunk: %v", err)
	}
	start, n, ok := c.OldChunk(100)
	if !ok || start != 0 || n != ChunkSize {
		t.Fatalf("OldChunk(100) = %d %d %v", start, n, ok)
	}
	tampered := append([]wire.BlockHeader(nil), m.hdrs[:ChunkSize]...)
	tampered[100].MerkleRoot[0] ^= 1
	if err := c.VerifyOldChunk(0, tampered); !errors.Is(err, ErrInvalid) {
		t.Fatalf("tampered chunk: %v", err)
	}
	if err := c.VerifyOldChunk(0, m.hdrs[:ChunkSize]); err != nil {
		t.Fatalf("VerifyOldChunk: %v", err)
	}
	if ref, hdr, err := c.At(100); err != nil || ref.Hash != m.hdrs[100].BlockHash() || hdr.MerkleRoot != m.hdrs[100].MerkleRoot {
		t.Fatalf("At(100) = %+v %v", ref, err)
	}
	// The window was pruned, and the pruned chunk is verifiable by the
	// hash the chain kept.
	if _, _, err := c.At(from + 1); !errors.Is(err, ErrUnknownHeight) {
		t.Fatalf("At(%d) should be pruned: %v", from+1, err)
	}
	start, _, ok = c.OldChunk(3*ChunkSize + 5)
	if ok {
		t.Fatalf("height in the window reported old (start %d)", start)
	}
	start, _, ok = c.OldChunk(ChunkSize + 5)
	if !ok || start != ChunkSize {
		t.Fatalf("OldChunk(%d) = %d %v", ChunkSize+5, start, ok)
	}
	if err := c.VerifyOldChunk(ChunkSize, m.hdrs[ChunkSize:2*ChunkSize]); err != nil {
		t.Fatalf("VerifyOldChunk(pruned): %v", err)
	}
}

func TestGenesisProofOfWork(t *testing.T) {
	btcNet, _ := params.BTC("mainnet")
	btc := chaincfg.MainNetParams.GenesisBlock.Header
	sha := PowOf(btcNet)
	if h := sha(&btc); h != *chaincfg.MainNetParams.GenesisHash {
		t.Fatalf("BTC genesis %v", h)
	}
	r, err := ForNetwork(btcNet)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.checkPow(&btc, r.Pow(&btc)); err != nil {
		t.Fatalf("BTC genesis PoW: %v", err)
	}
	// Litecoin's genesis block (litecoin/src/chainparams.cpp).
	root, _ := chainhash.NewHashFromStr("97ddfbbae6be97fd6cdf3e7ca13232a3afff2353e29badfab7f73011edd4ced9")
	ltc := wire.BlockHeader{Version: 1, MerkleRoot: *root, Timestamp: time.Unix(1317972665, 0), Bits: 0x1e0ffff0, Nonce: 2084524493}
	want, _ := chainhash.NewHashFromStr("12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2")
	if ltc.BlockHash() != *want {
		t.Fatalf("LTC genesis hash %v", ltc.BlockHash())
	}
	ltcNet, _ := params.LTC("mainnet")
	lr, err := ForNetwork(ltcNet)
	if err != nil {
		t.Fatal(err)
	}
	if err := lr.checkPow(&ltc, lr.Pow(&ltc)); err != nil {
		t.Fatalf("LTC genesis scrypt PoW: %v", err)
	}
	if err := lr.checkPow(&ltc, sha(&ltc)); !errors.Is(err, ErrInvalid) {
		t.Fatalf("LTC genesis checked with sha256d: %v, want ErrInvalid", err)
	}
}

func TestMerkle(t *testing.T) {
	// A block of 5 txs: build the tree, prove each leaf.
	leaves := make([]chainhash.Hash, 5)
	for i := range leaves {
		leaves[i] = chainhash.DoubleHashH([]byte{byte(i), 'x'})
	}
	level := leaves
	var levels [][]chainhash.Hash
	for len(level) > 1 {
		if len(level)%2 == 1 {
			level = append(level, level[len(level)-1])
		}
		levels = append(levels, level)
		next := make([]chainhash.Hash, len(level)/2)
		for i := range next {
			var b [64]byte
			copy(b[:32], level[2*i][:])
			copy(b[32:], level[2*i+1][:])
			next[i] = chainhash.DoubleHashH(b[:])
		}
		level = next
	}
	root := level[0]
	hdr := &wire.BlockHeader{MerkleRoot: root}
	for pos := range leaves {
		var branch []chainhash.Hash
		idx := pos
		for _, l := range levels {
			branch = append(branch, l[idx^1])
			idx >>= 1
		}
		if err := VerifyMerkle(leaves[pos], branch, pos, hdr); err != nil {
			t.Fatalf("leaf %d: %v", pos, err)
		}
		if pos^1 >= len(leaves) {
			continue // the last leaf is its own duplicate sibling
		}
		if err := VerifyMerkle(leaves[pos], branch, pos^1, hdr); !errors.Is(err, ErrInvalid) {
			t.Fatalf("leaf %d at the wrong position: %v", pos, err)
		}
		if err := VerifyMerkle(leaves[(pos+1)%5], branch, pos, hdr); !errors.Is(err, ErrInvalid) {
			t.Fatalf("another tx with leaf %d's branch: %v", pos, err)
		}
	}
	if _, err := MerkleRoot(leaves[0], levels[0][:1], 2); !errors.Is(err, ErrInvalid) {
		t.Fatalf("position beyond the branch: %v", err)
	}
	// An inner node that parses as a 64-byte transaction is refused.
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 7}, SignatureScript: []byte{1, 2, 3}})
	tx.AddTxOut(&wire.TxOut{Value: 1, PkScript: []byte{0x51}})
	if tx.SerializeSizeStripped() != 64 {
		t.Fatalf("crafted tx is %d bytes", tx.SerializeSizeStripped())
	}
	raw := make([]byte, 0, 64)
	w := &sliceWriter{b: raw}
	_ = tx.SerializeNoWitness(w)
	var left, right chainhash.Hash
	copy(left[:], w.b[:32])
	copy(right[:], w.b[32:])
	if _, err := MerkleRoot(left, []chainhash.Hash{right}, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("64-byte tx as inner node: %v", err)
	}
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }

func TestForNetwork(t *testing.T) {
	net := func(f func(string) (*params.Network, error), name string) *params.Network {
		n, err := f(name)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	r, err := ForNetwork(net(params.BTC, "mainnet"))
	if err != nil {
		t.Fatal(err)
	}
	a := r.Anchor()
	if len(r.Checkpoints) < 400 || a.Height != int32(len(r.Checkpoints)*ChunkSize-1) || r.Name != "BTC mainnet" {
		t.Fatalf("mainnet anchor %+v with %d checkpoints", a, len(r.Checkpoints))
	}
	// Electrum's first checkpoint is block 2015.
	if r.Checkpoints[0].String() != "00000000693067b0e6b440bc51450b9f3850561b07f6d3c021c54fbd6abb9763" {
		t.Fatalf("first checkpoint %v", r.Checkpoints[0])
	}
	r, err = ForNetwork(net(params.BTC, "regtest"))
	if err != nil || len(r.Checkpoints) != 0 || r.Anchor().Hash != *chaincfg.RegressionNetParams.GenesisHash {
		t.Fatalf("regtest: %+v %v", r, err)
	}
	// Litecoin: its own chain parameters, the full-period retarget,
	// Electrum-LTC's checkpoints on mainnet (the newest is block 1,959,551,
	// from 2021).
	r, err = ForNetwork(net(params.LTC, "mainnet"))
	if err != nil || !r.FullPeriodRetarget || r.interval() != ChunkSize || r.Params.PowLimitBits != 0x1e0fffff ||
		r.Anchor().Height != 1_959_551 || r.Name != "LTC mainnet" {
		t.Fatalf("LTC mainnet: %+v %v", r, err)
	}
	bch := *net(params.BTC, "regtest")
	bch.Coin = "BCH"
	if _, err := ForNetwork(&bch); err == nil {
		t.Fatal("a coin without header rules accepted")
	}
}
