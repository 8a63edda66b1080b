package wallet

import (
	"slices"
	"testing"
)

func TestScriptIndex(t *testing.T) {
	x := newScriptIndex()
	s1, s2 := benchScript("t", 1), benchScript("t", 2)
	x.add(s1, 7, false, 3)
	x.add(s1, 7, false, 3) // again: no second entry
	x.add(s2, 7, true, 9)
	if x.len() != 2 {
		t.Fatalf("len %d, want 2", x.len())
	}
	got := x.candidates(s1, nil)
	if len(got) != 1 || got[0].num() != 7 || got[0].change() || got[0].index() != 3 {
		t.Fatalf("candidates of s1: %x", got)
	}
	if got := x.candidates(s2, nil); len(got) != 1 || !got[0].change() || got[0].index() != 9 {
		t.Fatalf("candidates of s2: %x", got)
	}
	if got := x.candidates(benchScript("t", 3), nil); len(got) != 0 {
		t.Fatalf("an untracked script has candidates %x", got)
	}
	// One script of two wallets (an imported address an xpub wallet has).
	x.add(s1, 8, false, 0)
	x.add(s1, 8, false, 0)
	got = x.candidates(s1, nil)
	if x.len() != 3 || len(got) != 2 || !slices.Contains(got, packRef(7, false, 3)) || !slices.Contains(got, packRef(8, false, 0)) {
		t.Fatalf("two owners: len %d, candidates %x", x.len(), got)
	}
	x.remove(s1, 7)
	if got := x.candidates(s1, nil); x.len() != 2 || len(got) != 1 || got[0] != packRef(8, false, 0) {
		t.Fatalf("after removing one owner: len %d, candidates %x", x.len(), got)
	}
	x.remove(s1, 8)
	x.remove(s1, 8)
	if got := x.candidates(s1, nil); x.len() != 1 || len(got) != 0 {
		t.Fatalf("after removing both: len %d, candidates %x", x.len(), got)
	}
	// The largest numbers and indexes fit.
	r := packRef(maxWalletNum, true, 1<<31-1)
	if r.num() != maxWalletNum || !r.change() || r.index() != 1<<31-1 || r&multiRef != 0 {
		t.Fatalf("packed %x: %d %v %d", uint64(r), r.num(), r.change(), r.index())
	}
}
