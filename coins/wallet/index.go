package wallet

import (
	"hash/maphash"
	"slices"
)

// scriptIndex maps the tracked scripts to the wallet addresses they belong
// to, in about 20 bytes per script and without a pointer: the garbage
// collector never scans it, however many wallets are tracked.
//
// It keeps no script. A script is found by a 64-bit hash of it, keyed
// with a seed drawn at start-up (so nobody can aim collisions at it), and
// what the index answers is a candidate: the owner's address record holds
// the script, and callers compare it (Engine.confirmRef) before relying on
// it. Two scripts with one hash, or one script of two wallets (an imported
// address that is also an xpub wallet's), share an entry of multi.
type scriptIndex struct {
	seed maphash.Seed
	one  map[uint64]packedRef   // hash → its owner, or multiRef: see multi
	many map[uint64][]packedRef // hash → its owners, when more than one
	n    int                    // entries (owner, address) in the index
}

// packedRef is a scriptRef in 64 bits: the wallet number (31 bits), the
// chain and the index.
type packedRef uint64

// multiRef marks a hash whose owners are in scriptIndex.many.
const multiRef packedRef = 1 << 63

func packRef(num uint32, change bool, index uint32) packedRef {
	r := packedRef(num)<<32 | packedRef(index&(1<<31-1))
	if change {
		r |= 1 << 31
	}
	return r
}

func (r packedRef) num() uint32   { return uint32(r>>32) & (1<<31 - 1) }
func (r packedRef) change() bool  { return r&(1<<31) != 0 }
func (r packedRef) index() uint32 { return uint32(r) & (1<<31 - 1) }

func newScriptIndex() *scriptIndex {
	return &scriptIndex{seed: maphash.MakeSeed(), one: map[uint64]packedRef{}, many: map[uint64][]packedRef{}}
}

func (x *scriptIndex) hash(script []byte) uint64 { return maphash.Bytes(x.seed, script) }

// add records that script is address (change, index) of wallet num; a
// second add of the same entry changes nothing.
func (x *scriptIndex) add(script []byte, num uint32, change bool, index uint32) {
	h := x.hash(script)
	r := packRef(num, change, index)
	cur, ok := x.one[h]
	switch {
	case !ok:
		x.one[h] = r
	case cur == r:
		return
	case cur == multiRef:
		if slices.Contains(x.many[h], r) {
			return
		}
		x.many[h] = append(x.many[h], r)
	default:
		x.one[h] = multiRef
		x.many[h] = []packedRef{cur, r}
	}
	x.n++
}

// remove drops wallet num's entry for script, if any.
func (x *scriptIndex) remove(script []byte, num uint32) {
	h := x.hash(script)
	cur, ok := x.one[h]
	switch {
	case !ok:
	case cur != multiRef:
		if cur.num() == num {
			delete(x.one, h)
			x.n--
		}
	default:
		list := x.many[h]
		kept := slices.DeleteFunc(slices.Clone(list), func(r packedRef) bool { return r.num() == num })
		x.n -= len(list) - len(kept)
		switch len(kept) {
		case 0:
			delete(x.one, h)
			delete(x.many, h)
		case 1:
			x.one[h] = kept[0]
			delete(x.many, h)
		default:
			x.many[h] = kept
		}
	}
}

// candidates appends to buf the entries whose script may be script (each
// to be confirmed against its address record) and returns it.
func (x *scriptIndex) candidates(script []byte, buf []packedRef) []packedRef {
	h := x.hash(script)
	cur, ok := x.one[h]
	switch {
	case !ok:
		return buf
	case cur != multiRef:
		return append(buf, cur)
	default:
		return append(buf, x.many[h]...)
	}
}

// len returns the number of entries.
func (x *scriptIndex) len() int { return x.n }
