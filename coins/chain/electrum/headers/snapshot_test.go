package headers

import (
	"errors"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// TestSnapshotRestore: a chain verified from a checkpoint, pruned, is
// snapshotted; a new chain restored from the snapshot resumes at its tip
// without verifying a header again, still verifies what comes next
// (across a Litecoin retarget, which needs the restored headers), still
// refuses a bad header, and still verifies old headers by their chunk.
func TestSnapshotRestore(t *testing.T) {
	m := newMiner(t, testRules(t, true), time.Unix(1_600_000_000, 0))
	m.mine(4*ChunkSize-1, 30*time.Second, nil) // every retarget raises the difficulty
	m.mine(51, time.Minute, nil)
	r := m.rules
	r.Checkpoints = []chainhash.Hash{m.hdrs[ChunkSize-1].BlockHash()}
	keep := 2*ChunkSize + 2
	c := NewChain(r, keep)
	from, to := c.AnchorRange()
	if err := c.Init(m.hdrs[from : to+1]); err != nil {
		t.Fatal(err)
	}
	top := int32(4*ChunkSize - 10)
	if _, err := c.Extend(to+1, m.hdrs[to+1:top+1]); err != nil {
		t.Fatal(err)
	}
	if c.Verified() != int64(top-to) {
		t.Fatalf("Verified = %d, want %d", c.Verified(), top-to)
	}
	snap, tip, ok := c.Snapshot()
	if !ok || tip != top {
		t.Fatalf("Snapshot tip %d %v", tip, ok)
	}
	if _, _, ok := NewChain(r, keep).Snapshot(); ok {
		t.Fatal("snapshot of an empty chain")
	}
	if len(snap) > (keep+2*ChunkSize)*80+1000 {
		t.Fatalf("snapshot of %d bytes", len(snap))
	}

	c2 := NewChain(r, keep)
	if err := c2.Restore(snap); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got, _ := c2.Tip(); got.Height != top || got.Hash != m.hdrs[top].BlockHash() || c2.Verified() != 0 {
		t.Fatalf("restored tip %+v, %d verified", got, c2.Verified())
	}
	if err := c2.Restore(snap); !errors.Is(err, ErrSnapshot) {
		t.Fatalf("Restore on an anchored chain: %v", err)
	}
	// The next retarget (at 4*ChunkSize, measured from 3*ChunkSize-1 by
	// Litecoin's rule) verifies from the restored headers; wrong bits there
	// are refused.
	bad := m.hdrs[4*ChunkSize]
	bad.Bits = m.hdrs[4*ChunkSize-1].Bits
	if bad.Bits == m.hdrs[4*ChunkSize].Bits {
		t.Fatal("the retarget does not change the bits: the test proves nothing")
	}
	bad = m.solve(bad)
	if _, err := c2.Extend(top+1, m.hdrs[top+1:4*ChunkSize]); err != nil {
		t.Fatalf("Extend after Restore: %v", err)
	}
	if _, err := c2.Extend(4*ChunkSize, []wire.BlockHeader{bad}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong bits at the retarget after Restore: %v", err)
	}
	if _, err := c2.Extend(4*ChunkSize, m.hdrs[4*ChunkSize:]); err != nil {
		t.Fatalf("the retarget after Restore: %v", err)
	}
	if want := int64(len(m.hdrs)) - int64(top) - 1; c2.Verified() != want {
		t.Fatalf("Verified after Restore = %d, want %d (only the new headers)", c2.Verified(), want)
	}
	// Old headers, below the restored window: chunk 0 by its checkpoint,
	// chunk 1 by the hash the first chain kept when it pruned it.
	for _, idx := range []int32{0, 1} {
		h := idx*ChunkSize + 7
		start, n, ok := c2.OldChunk(h)
		if !ok || start != idx*ChunkSize || n != ChunkSize {
			t.Fatalf("OldChunk(%d) = %d %d %v", h, start, n, ok)
		}
		if err := c2.VerifyOldChunk(start, m.hdrs[start:start+ChunkSize]); err != nil {
			t.Fatalf("VerifyOldChunk(%d): %v", start, err)
		}
		tampered := append([]wire.BlockHeader(nil), m.hdrs[start:start+ChunkSize]...)
		tampered[7].Nonce++
		if err := c2.VerifyOldChunk(start, tampered); !errors.Is(err, ErrInvalid) {
			t.Fatalf("tampered chunk %d: %v", idx, err)
		}
	}
}

// TestRestoreRefusals: a snapshot that is damaged, cut short, of another
// network, contradicting a checkpoint or older than the anchor is refused
// with ErrSnapshot and leaves the chain unanchored.
func TestRestoreRefusals(t *testing.T) {
	m := newMiner(t, testRules(t, false), time.Unix(1_600_000_000, 0))
	m.mine(2*ChunkSize+20, time.Minute, nil)
	c := anchoredChain(t, m)
	if _, err := c.Extend(1, m.hdrs[1:ChunkSize+10]); err != nil {
		t.Fatal(err)
	}
	snap, _, _ := c.Snapshot()
	r := m.rules
	refuse := func(what string, rules *Rules, b []byte) {
		t.Helper()
		c := NewChain(rules, 0)
		if err := c.Restore(b); !errors.Is(err, ErrSnapshot) {
			t.Fatalf("%s: %v, want ErrSnapshot", what, err)
		}
		if c.Anchored() {
			t.Fatalf("%s: anchored", what)
		}
	}
	for _, i := range []int{0, 5, 40, len(snap) / 2, len(snap) - 1} {
		d := append([]byte(nil), snap...)
		d[i] ^= 0x20
		refuse("a damaged byte", r, d)
	}
	refuse("cut short", r, snap[:len(snap)-100])
	refuse("empty", r, nil)
	other := *r
	op := *r.Params
	g := chainhash.Hash{1}
	op.GenesisHash = &g
	other.Params = &op
	refuse("another network", &other, snap)
	wrongCP := *r
	wrongCP.Checkpoints = []chainhash.Hash{{2}}
	refuse("a checkpoint contradicted", &wrongCP, snap)
	newer := *r
	newer.Checkpoints = []chainhash.Hash{m.hdrs[ChunkSize-1].BlockHash(), m.hdrs[2*ChunkSize-1].BlockHash()}
	refuse("older than the anchor", &newer, snap)
	agree := *r
	agree.Checkpoints = newer.Checkpoints[:1]
	if err := NewChain(&agree, 0).Restore(snap); err != nil {
		t.Fatalf("a snapshot agreeing with the checkpoint: %v", err)
	}
}
