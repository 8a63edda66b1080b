package wallet

import (
	"strings"
	"testing"
	"time"
)

func TestNumTable(t *testing.T) {
	var x numTable
	a, b, c := &tracked{}, &tracked{}, &tracked{}
	if x.get(0) != nil || x.get(1<<31) != nil || x.len() != 0 {
		t.Fatal("an empty table finds a wallet")
	}
	x.set(1, a)
	x.set(numChunk, b) // the next chunk
	x.set(1<<31-1, c)  // a sparse number: one chunk, not 2^31 slots
	x.set(1, a)        // again: no second count
	if x.get(1) != a || x.get(numChunk) != b || x.get(1<<31-1) != c || x.get(2) != nil || x.len() != 3 {
		t.Fatalf("get/len: %p %p %p %p %d", x.get(1), x.get(numChunk), x.get(1<<31-1), x.get(2), x.len())
	}
	if len(x.chunks) != 3 {
		t.Fatalf("%d chunks, want 3", len(x.chunks))
	}
	x.del(1<<31 - 1)
	x.del(1<<31 - 1) // again: nothing
	x.del(5)         // never set
	if x.get(1<<31-1) != nil || x.len() != 2 || len(x.chunks) != 2 {
		t.Fatalf("after del: %p len %d, %d chunks", x.get(1<<31-1), x.len(), len(x.chunks))
	}
	x.del(1)
	x.del(numChunk)
	if x.len() != 0 || len(x.chunks) != 0 {
		t.Fatalf("emptied: len %d, %d chunks", x.len(), len(x.chunks))
	}
}

func TestTrackLoader(t *testing.T) {
	l := newTrackLoader()
	created := time.Unix(1700000000, 0)
	recs := []walletRecord{
		{ID: "aa01", Num: 1, Kind: string([]byte("master_public_key")), ScriptType: string([]byte("p2wpkh")),
			MPK: "zpub1", PublicKey: "zpub1", NextRecv: 20, NextChange: 10, Created: created, Birthday: 7},
		{ID: "aa02", Num: 2, Kind: string([]byte("master_private_key")), ScriptType: string([]byte("p2pkh")),
			MPK: "xpub2", NextRecv: 20, NextChange: 10, Pending: true},
		{ID: "aa03", Num: 3, Kind: string([]byte("address_list")), ScriptType: string([]byte("unknown")),
			PublicKey: "addr1 addr2", Imported: []string{"addr1", "addr2"}},
		{ID: "aa04", Num: 4, Kind: string([]byte("some_new_kind")), ScriptType: string([]byte("p2wpkh")), MPK: "x", PublicKey: "y"},
	}
	var got []*tracked
	for _, r := range recs {
		r.Imported = append([]string(nil), r.Imported...)
		got = append(got, l.track(r))
	}
	// Enough strings to need a second text chunk: earlier ones keep their bytes.
	long := string(make([]byte, textChunk-10))
	big := l.track(walletRecord{ID: "bb", MPK: long, PublicKey: long})
	for i, r := range recs {
		g := got[i].rec
		if g.ID != r.ID || g.Num != r.Num || g.Kind != r.Kind || g.ScriptType != r.ScriptType || g.MPK != r.MPK ||
			g.PublicKey != r.PublicKey || len(g.Imported) != len(r.Imported) || g.NextRecv != r.NextRecv ||
			g.NextChange != r.NextChange || !g.Created.Equal(r.Created) || g.Birthday != r.Birthday || g.Pending != r.Pending {
			t.Fatalf("wallet %d: %+v, want %+v", i, g, r)
		}
		for j := range r.Imported {
			if g.Imported[j] != r.Imported[j] {
				t.Fatalf("wallet %d imported %d: %q", i, j, g.Imported[j])
			}
		}
		if got[i].isReady() == r.Pending {
			t.Fatalf("wallet %d: ready %v with pending %v", i, got[i].isReady(), r.Pending)
		}
		if got[i].job.Load() != nil {
			t.Fatalf("wallet %d has a backfill slot before any backfill", i)
		}
	}
	if big.rec.MPK != long || big.rec.PublicKey != long {
		t.Fatal("a string longer than what is left of a chunk is not kept")
	}
	// The engine's own names are interned to their constants.
	if got[0].rec.Kind != "master_public_key" || got[1].rec.ScriptType != "p2pkh" {
		t.Fatal("names changed")
	}
	if l.intern(string([]byte("p2wpkh"))) != got[0].rec.ScriptType {
		t.Fatal("intern")
	}
	// A pending wallet becomes ready; its slot is made once and reused.
	p := got[1]
	s := p.slot()
	if p.slot() != s {
		t.Fatal("a second slot")
	}
	s <- struct{}{}
	select {
	case p.slot() <- struct{}{}:
		t.Fatal("the slot holds two")
	default:
	}
	<-s
	p.markReady()
	if !p.isReady() {
		t.Fatal("markReady")
	}
}

func TestWalletTable(t *testing.T) {
	var x walletTable
	lower := "00ff" + strings.Repeat("ab", 30)
	upper := strings.ToUpper(lower) // the same bytes, another id
	short := "abc"
	a, b, c, d := &tracked{}, &tracked{}, &tracked{}, &tracked{}
	x.set(lower, a)
	x.set(upper, b)
	x.set(short, c)
	if x.get(lower) != a || x.get(upper) != b || x.get(short) != c || x.get("ab") != nil || x.len() != 3 {
		t.Fatalf("get: %p %p %p, len %d", x.get(lower), x.get(upper), x.get(short), x.len())
	}
	if k, ok := hexID(lower); !ok || k[0] != 0 || k[1] != 0xff || k[2] != 0xab || k[31] != 0xab {
		t.Fatalf("hexID(%s) = %x %v", lower, k, ok)
	}
	if _, ok := hexID(upper); ok {
		t.Fatal("an upper-case id decoded: it would share the lower-case one's entry")
	}
	x.set(lower, d) // replaces
	if x.get(lower) != d || x.len() != 3 {
		t.Fatal("replace")
	}
	x.del(lower)
	x.del(lower)
	x.del(short)
	if x.get(lower) != nil || x.get(short) != nil || x.get(upper) != b || x.len() != 1 {
		t.Fatal("del")
	}
	x.set(short, c) // reuses a freed slot
	if len(x.slots) != 3 || x.get(short) != c {
		t.Fatalf("%d slots", len(x.slots))
	}
	var seen []*tracked
	x.all(func(t *tracked) bool { seen = append(seen, t); return true })
	if len(seen) != 2 {
		t.Fatalf("all: %d wallets", len(seen))
	}
	n := 0
	x.all(func(*tracked) bool { n++; return false })
	if n != 1 {
		t.Fatal("all does not stop")
	}
}
