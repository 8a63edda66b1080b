package keys

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// allocatedBy returns the bytes f allocates, on average over runs calls.
func allocatedBy(runs int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(runs)
}

// TestLongMaterialRejectedBeforeDecoding: key material past the bounds is
// refused with ErrUnrecognized (-32005 on the wire) at the cost of a length
// check: a 1 MB string allocates next to nothing (decoding it as base58
// used to cost tens of seconds). The bounds admit every real kind of key.
func TestLongMaterialRejectedBeforeDecoding(t *testing.T) {
	reg := mustNet(t, "regtest")
	huge := strings.Repeat("z", 1<<20)
	for name, s := range map[string]string{
		"1 MB token":            huge,
		"1 MB of short parts":   strings.Repeat("zz ", 1<<20/3),
		"1001 parts":            strings.TrimSpace(strings.Repeat(regWIFAddr+" ", MaxParts+1)),
		"a 129-byte part":       strings.Repeat("1", MaxPartBytes+1),
		"an over-long ext key":  regVprv + "1",
		"an over-long WIF part": "p2wpkh:" + regWIF + "11111111",
	} {
		m, err := Parse(s, reg)
		if m != nil || !errors.Is(err, ErrUnrecognized) {
			t.Errorf("%s: Parse = %v, %v", name, m, err)
		}
		assertNoLeak(t, s, err)
		if ValidateKey(s, reg) || IsMasterKey(s, reg) {
			t.Errorf("%s: valid key", name)
		}
	}
	if n := allocatedBy(20, func() { _, _ = Parse(huge, reg) }); n > 4096 {
		t.Errorf("Parse of a 1 MB string allocates %d bytes", n)
	}
	if n := allocatedBy(20, func() { ValidateKey(huge, reg); SeedType(huge) }); n > 4096 {
		t.Errorf("ValidateKey and SeedType of a 1 MB string allocate %d bytes", n)
	}
	if n := allocatedBy(20, func() { IsMasterKey(strings.Repeat("x", 1000), reg) }); n > 1024 {
		t.Errorf("IsMasterKey of a 1,000-character string allocates %d bytes (decoded it)", n)
	}
	// The bounds admit the largest real material: MaxParts addresses.
	list := strings.TrimSpace(strings.Repeat(regWIFAddr+" ", MaxParts))
	if m, err := Parse(list, reg); err != nil || m.Kind() != KindAddressList {
		t.Errorf("a list of %d addresses: %v", MaxParts, err)
	}
}

// TestMakeSeedBounded: make_seed's entropy is capped at 256 bits (a 60-byte
// request asking 4096 bits used to cost seconds of CPU), and the search
// stops when its context ends.
func TestMakeSeedBounded(t *testing.T) {
	for _, nbits := range []int{257, 4096} {
		if _, err := MakeSeed(context.Background(), SeedTypeSegwit, nbits); err == nil || !strings.Contains(err.Error(), "256") {
			t.Errorf("nbits %d: %v", nbits, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := MakeSeed(ctx, SeedType2FASegwit, 256); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// BenchmarkParseHuge is Parse of a 1 MB string (refused by length).
func BenchmarkParseHuge(b *testing.B) {
	reg := mustNet(b, "regtest")
	huge := strings.Repeat("z", 1<<20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_, _ = Parse(huge, reg)
	}
}
