package headers

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// ErrSnapshot is wrapped by Restore's errors: the snapshot cannot be used
// (damaged, another network's, older than the built-in checkpoints, or
// contradicting them); the caller anchors the chain as usual instead.
var ErrSnapshot = errors.New("headers: unusable snapshot")

// snapshotMagic starts a snapshot; the byte after it is the format version.
const (
	snapshotMagic   = "WDHC"
	snapshotVersion = 1
)

// Snapshot returns the verified chain in the form Restore takes: the rules'
// genesis hash (the network), the kept headers from the base to the tip,
// and the hashes ending the retarget periods below them, with a checksum.
// It is about 80 bytes per kept header (DefaultKeep: 340 kB). ok is false
// before Init.
func (c *Chain) Snapshot() (snap []byte, tip int32, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.base < 0 {
		return nil, -1, false
	}
	var buf bytes.Buffer
	buf.Grow(64 + len(c.hdrs)*wire.MaxBlockHeaderPayload + len(c.ends)*36)
	buf.WriteString(snapshotMagic)
	buf.WriteByte(snapshotVersion)
	buf.Write(c.rules.Params.GenesisHash[:])
	le := func(v uint32) { _ = binary.Write(&buf, binary.LittleEndian, v) }
	le(uint32(c.base))
	le(uint32(len(c.hdrs)))
	for i := range c.hdrs {
		_ = c.hdrs[i].hdr.Serialize(&buf)
	}
	var ends []int32
	for idx := range c.ends {
		if (idx+1)*ChunkSize-1 < c.base {
			ends = append(ends, idx)
		}
	}
	le(uint32(len(ends)))
	for _, idx := range ends {
		h := c.ends[idx]
		le(uint32(idx))
		buf.Write(h[:])
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])
	return buf.Bytes(), c.base + int32(len(c.hdrs)) - 1, true
}

// Restore anchors an empty chain with a snapshot of a chain verified
// before under the same rules (Snapshot), so that a restart resumes from
// its tip without verifying its headers again. The snapshot is trusted as
// the caller's own record (its checksum only detects damage): what is
// checked is that it is intact, of this network, links header to header,
// holds enough headers for the difficulty rules at its tip, reaches the
// anchor and agrees with every built-in checkpoint. Errors wrap
// ErrSnapshot; the chain is then unchanged. Restore on an anchored chain is
// an error.
func (c *Chain) Restore(snap []byte) error {
	if len(snap) < len(snapshotMagic)+1+32+8+4+32 {
		return fmt.Errorf("%w: %d bytes", ErrSnapshot, len(snap))
	}
	body, sum := snap[:len(snap)-32], snap[len(snap)-32:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return fmt.Errorf("%w: checksum mismatch (damaged)", ErrSnapshot)
	}
	r := bytes.NewReader(body)
	head := make([]byte, len(snapshotMagic)+1)
	_, _ = r.Read(head)
	if string(head[:len(snapshotMagic)]) != snapshotMagic || head[len(snapshotMagic)] != snapshotVersion {
		return fmt.Errorf("%w: not a version %d header snapshot", ErrSnapshot, snapshotVersion)
	}
	var genesis chainhash.Hash
	_, _ = r.Read(genesis[:])
	if genesis != *c.rules.Params.GenesisHash {
		return fmt.Errorf("%w: another network's chain (genesis %v, %s's is %v)", ErrSnapshot, genesis, c.rules.Name, c.rules.Params.GenesisHash)
	}
	var base, count uint32
	if binary.Read(r, binary.LittleEndian, &base) != nil || binary.Read(r, binary.LittleEndian, &count) != nil ||
		count == 0 || base > 1<<30 || uint64(count)*wire.MaxBlockHeaderPayload > uint64(r.Len()) {
		return fmt.Errorf("%w: bad header count", ErrSnapshot)
	}
	es := make([]entry, count)
	for i := range es {
		if err := es[i].hdr.Deserialize(r); err != nil {
			return fmt.Errorf("%w: header %d: %v", ErrSnapshot, i, err)
		}
		es[i].hash = es[i].hdr.BlockHash()
		if i > 0 && es[i].hdr.PrevBlock != es[i-1].hash {
			return fmt.Errorf("%w: headers do not link at height %d", ErrSnapshot, int64(base)+int64(i))
		}
	}
	var n uint32
	if binary.Read(r, binary.LittleEndian, &n) != nil || uint64(n)*36 != uint64(r.Len()) {
		return fmt.Errorf("%w: bad period list", ErrSnapshot)
	}
	ends := make(map[int32]chainhash.Hash, n)
	for i := uint32(0); i < n; i++ {
		var idx uint32
		var h chainhash.Hash
		_ = binary.Read(r, binary.LittleEndian, &idx)
		_, _ = r.Read(h[:])
		if int64(idx+1)*ChunkSize-1 >= int64(base) {
			return fmt.Errorf("%w: period %d ends inside the kept headers", ErrSnapshot, idx)
		}
		ends[int32(idx)] = h
	}
	b := int32(base)
	tip := b + int32(count) - 1
	if need := max(tip/ChunkSize*ChunkSize-1, 0); b > need {
		return fmt.Errorf("%w: its headers start at %d, the difficulty rules at %d need them from %d", ErrSnapshot, b, tip, need)
	}
	anchor := c.rules.Anchor()
	if tip < anchor.Height {
		return fmt.Errorf("%w: its tip %d is below %s's anchor %d", ErrSnapshot, tip, c.rules.Name, anchor.Height)
	}
	if b == 0 && es[0].hash != *c.rules.Params.GenesisHash {
		return fmt.Errorf("%w: block 0 is not the genesis block", ErrSnapshot)
	}
	for i, cp := range c.rules.Checkpoints {
		h := int32(i+1)*ChunkSize - 1
		switch {
		case h >= b && h <= tip:
			if es[h-b].hash != cp {
				return fmt.Errorf("%w: block %d contradicts the checkpoint", ErrSnapshot, h)
			}
		case h < b:
			if got, ok := ends[int32(i)]; ok && got != cp {
				return fmt.Errorf("%w: period %d contradicts the checkpoint", ErrSnapshot, i)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base >= 0 {
		return fmt.Errorf("%w: the chain is already anchored", ErrSnapshot)
	}
	for idx, h := range ends {
		if _, ok := c.ends[idx]; !ok {
			c.ends[idx] = h
		}
	}
	c.base, c.hdrs = b, es
	c.pruneLocked()
	return nil
}
