package wallet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// BenchmarkTrackedHeapGC measures what the tracked wallets' in-memory state
// costs the garbage collector: the engine's wallets are read as
// loadTracked reads them (decoded records, the maps, 30 scripts each in the
// script index), then every iteration is one full collection of that heap.
// It reports the collection's CPU (gc-cpu-ms, all of the runtime's GC
// classes), the live heap per wallet and the heap objects per wallet: the
// mark phase's work grows with the pointers to follow, not with the bytes.
func BenchmarkTrackedHeapGC(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			runtime.GC()
			before := heapStats()
			st := fakeTrackedState(b, n)
			runtime.GC()
			after := heapStats()
			cpu0 := gcCPU()
			b.ResetTimer()
			for range b.N {
				runtime.GC()
			}
			b.StopTimer()
			cpu := gcCPU() - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "gc-cpu-ms")
			b.ReportMetric(float64(after.bytes-before.bytes)/float64(n), "heap-B/wallet")
			b.ReportMetric(float64(after.objects-before.objects)/float64(n), "objects/wallet")
			runtime.KeepAlive(st)
		})
	}
}

type trackedState struct {
	index   *scriptIndex
	wallets walletTable
	byNum   numTable
}

// fakeTrackedState builds n stored xpub wallets' in-memory state through
// the engine's own record decoding and tracking code.
func fakeTrackedState(b *testing.B, n int) *trackedState {
	b.Helper()
	st := &trackedState{index: newScriptIndex()}
	created := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	ld := newTrackLoader()
	var script [22]byte
	script[0], script[1] = 0, 20
	for i := range n {
		h := sha256.Sum256(binary.BigEndian.AppendUint32(nil, uint32(i)))
		xpub := "zpub" + hex.EncodeToString(h[:])[:53] + hex.EncodeToString(h[:])[:54]
		rec := walletRecord{ID: hex.EncodeToString(h[:]), Num: uint32(i + 1), Kind: "master_public_key",
			ScriptType: "p2wpkh", MPK: xpub, PublicKey: xpub, NextRecv: 20, NextChange: 10, Created: created, Birthday: 100}
		var got walletRecord
		if err := decodeRec(encodeRec(rec), &got); err != nil {
			b.Fatal(err)
		}
		t := ld.track(got)
		st.wallets.set(t.rec.ID, t)
		st.byNum.set(got.Num, t)
		for c := range 2 {
			for j := range 20 - 10*c {
				binary.BigEndian.PutUint32(script[2:], uint32(i))
				binary.BigEndian.PutUint32(script[6:], uint32(c<<16|j))
				st.index.add(script[:], got.Num, c == 1, uint32(j))
			}
		}
	}
	return st
}

type heapStat struct{ bytes, objects uint64 }

func heapStats() heapStat {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heapStat{m.HeapAlloc, m.HeapObjects}
}

// gcCPU is the runtime's estimate of the CPU its collector used so far.
func gcCPU() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return time.Duration(s[0].Value.Float64() * 1e9)
}
