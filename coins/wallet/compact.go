package wallet

import (
	"strings"

	"github.com/walletd/walletd/coins/keys"
	"github.com/walletd/walletd/coins/params"
)

// The tracked wallets read at start-up are most of the engine's live heap
// at 100,000 wallets, and every garbage collection marks all of it: its
// cost grows with the number of objects and of pointers to follow, not
// with their bytes. trackLoader lays them out in few objects: the tracked
// structs in slabs, their strings (id, master public key, key string,
// imported addresses) copied into shared text chunks, the few distinct
// kinds and script types interned (to the constants), and no channel
// (readiness is a flag; no backfill slot is made until one is used:
// tracked.slot). The stored wallets are found by number in a slice
// (numTable), not a map.

const (
	// trackSlab is how many tracked structs one allocation holds.
	trackSlab = 256
	// textChunk is the size of one chunk of the wallets' strings.
	textChunk = 64 << 10
)

// trackLoader builds the tracked wallets read from the store. It is used by
// one goroutine (loadTracked) and dropped afterwards; the wallets it made
// keep their slabs and chunks alive.
type trackLoader struct {
	slab  []tracked
	text  strings.Builder
	names map[string]string // interned kinds and script types
}

func newTrackLoader() *trackLoader {
	l := &trackLoader{names: map[string]string{}}
	// The names the engine writes are string constants (not on the heap).
	for k := keys.Kind(0); k <= keys.KindWIFList; k++ {
		l.names[k.String()] = k.String()
	}
	for st := params.ScriptUnknown; st <= params.P2WSH; st++ {
		l.names[st.String()] = st.String()
	}
	return l
}

// track returns the tracked wallet of a stored record.
func (l *trackLoader) track(rec walletRecord) *tracked {
	same := rec.PublicKey == rec.MPK
	rec.ID = l.str(rec.ID)
	rec.MPK = l.str(rec.MPK)
	if same {
		rec.PublicKey = rec.MPK
	} else {
		rec.PublicKey = l.str(rec.PublicKey)
	}
	rec.Kind = l.intern(rec.Kind)
	rec.ScriptType = l.intern(rec.ScriptType)
	for i, a := range rec.Imported {
		rec.Imported[i] = l.str(a)
	}
	if len(l.slab) == cap(l.slab) {
		l.slab = make([]tracked, 0, trackSlab)
	}
	l.slab = l.slab[:len(l.slab)+1]
	t := &l.slab[len(l.slab)-1]
	t.rec = rec
	t.ready.Store(!rec.Pending)
	return t
}

// str returns s copied into the current text chunk. The chunk's bytes
// never change once written: a strings.Builder grown once only appends
// (without reallocating while it has room), so the strings it returned
// stay valid.
func (l *trackLoader) str(s string) string {
	if s == "" {
		return ""
	}
	if l.text.Cap()-l.text.Len() < len(s) {
		l.text = strings.Builder{}
		l.text.Grow(max(textChunk, len(s)))
	}
	start := l.text.Len()
	l.text.WriteString(s)
	return l.text.String()[start:]
}

// intern returns the loader's copy of s, a value most wallets share.
func (l *trackLoader) intern(s string) string {
	if v, ok := l.names[s]; ok {
		return v
	}
	l.names[s] = s
	return s
}

// numTable maps wallet numbers to the stored wallets. Numbers are given in
// sequence and never reused, so they come in runs: the table is a map of
// chunks of numChunk consecutive numbers, about one object per numChunk
// wallets for the collector (a map[uint32]*tracked is a pointer and a
// group slot per wallet), and a chunk is dropped when its last wallet is,
// so sparse numbers (wallets removed over time) cost at most a chunk each.
type numTable struct {
	chunks map[uint32]*numRun
	n      int
}

const numChunk = 64

type numRun struct {
	t [numChunk]*tracked
	n int
}

func (x *numTable) get(num uint32) *tracked {
	if c := x.chunks[num/numChunk]; c != nil {
		return c.t[num%numChunk]
	}
	return nil
}

func (x *numTable) set(num uint32, t *tracked) {
	if x.chunks == nil {
		x.chunks = map[uint32]*numRun{}
	}
	c := x.chunks[num/numChunk]
	if c == nil {
		c = &numRun{}
		x.chunks[num/numChunk] = c
	}
	if c.t[num%numChunk] == nil {
		c.n++
		x.n++
	}
	c.t[num%numChunk] = t
}

func (x *numTable) del(num uint32) {
	c := x.chunks[num/numChunk]
	if c == nil || c.t[num%numChunk] == nil {
		return
	}
	c.t[num%numChunk] = nil
	c.n--
	x.n--
	if c.n == 0 {
		delete(x.chunks, num/numChunk)
	}
}

func (x *numTable) len() int { return x.n }

// walletTable maps wallet ids to the tracked wallets. The ids are 64
// lower-case hex digits (a fingerprint is a SHA-256), kept as 32 bytes in a
// map without pointers, which the collector does not scan; the map points
// into one slice of the wallets (a map[string]*tracked is two pointers a
// wallet to mark). Any other id goes to a plain map.
type walletTable struct {
	hexIDs map[[32]byte]int32
	other  map[string]int32
	slots  []*tracked
	free   []int32
}

// hexID returns the 32 bytes that id, 64 lower-case hex digits, spells.
func hexID(id string) (k [32]byte, ok bool) {
	if len(id) != 64 {
		return k, false
	}
	for i := range 64 {
		c := id[i]
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		default:
			return k, false
		}
		k[i/2] |= v << (4 * (1 - i%2))
	}
	return k, true
}

func (x *walletTable) slot(id string) (int32, bool) {
	if k, ok := hexID(id); ok {
		s, ok := x.hexIDs[k]
		return s, ok
	}
	s, ok := x.other[id]
	return s, ok
}

func (x *walletTable) get(id string) *tracked {
	if s, ok := x.slot(id); ok {
		return x.slots[s]
	}
	return nil
}

func (x *walletTable) set(id string, t *tracked) {
	if s, ok := x.slot(id); ok {
		x.slots[s] = t
		return
	}
	var s int32
	if n := len(x.free); n > 0 {
		s, x.free = x.free[n-1], x.free[:n-1]
		x.slots[s] = t
	} else {
		s = int32(len(x.slots))
		x.slots = append(x.slots, t)
	}
	if k, ok := hexID(id); ok {
		if x.hexIDs == nil {
			x.hexIDs = map[[32]byte]int32{}
		}
		x.hexIDs[k] = s
		return
	}
	if x.other == nil {
		x.other = map[string]int32{}
	}
	x.other[id] = s
}

func (x *walletTable) del(id string) {
	s, ok := x.slot(id)
	if !ok {
		return
	}
	if k, ok := hexID(id); ok {
		delete(x.hexIDs, k)
	} else {
		delete(x.other, id)
	}
	x.slots[s] = nil
	x.free = append(x.free, s)
}

func (x *walletTable) len() int { return len(x.hexIDs) + len(x.other) }

// all calls f with every wallet (in no particular order) until it returns
// false.
func (x *walletTable) all(f func(*tracked) bool) {
	for _, t := range x.slots {
		if t != nil && !f(t) {
			return
		}
	}
}
