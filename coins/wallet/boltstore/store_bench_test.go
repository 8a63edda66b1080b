package boltstore_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/walletd/walletd/coins/wallet"
	"github.com/walletd/walletd/coins/wallet/boltstore"
)

func openBench(b *testing.B) *boltstore.Store {
	b.Helper()
	s, err := boltstore.Open(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// putFew is the shape of a small engine write (an add_request: the request
// record, its address index entry, a wallet record, a sequence number).
func putFew(kv wallet.KV, i uint64, val []byte) error {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:8], i)
	binary.BigEndian.PutUint64(k[8:], i*7919)
	if err := kv.Put("requests", k[:], val); err != nil {
		return err
	}
	if err := kv.Put("reqaddr", k[8:], k[:8]); err != nil {
		return err
	}
	if err := kv.Put("wallets", k[:8], val[:120]); err != nil {
		return err
	}
	_, err := kv.NextSequence("events")
	return err
}

// BenchmarkUpdate is one durable write transaction with a few puts
// (committed with fsync): the floor under every add_request and every
// applied block or mempool payment.
func BenchmarkUpdate(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	val := make([]byte, 300)
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		if err := s.Update(ctx, func(kv wallet.KV) error { return putFew(kv, i, val) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateParallel is the same write from concurrent goroutines:
// bbolt has one writer at a time, so durable writes do not scale with
// callers unless they are grouped into one commit.
func BenchmarkUpdateParallel(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	val := make([]byte, 300)
	var next atomic.Uint64
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			if err := s.Update(ctx, func(kv wallet.KV) error { return putFew(kv, i, val) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkView is a read transaction with one Get, as get_request and
// getbalance start.
func BenchmarkView(b *testing.B) {
	s := openBench(b)
	ctx := context.Background()
	val := make([]byte, 300)
	if err := s.Update(ctx, func(kv wallet.KV) error {
		for i := uint64(0); i < 10_000; i++ {
			if err := putFew(kv, i, val); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	var k [16]byte
	b.ReportAllocs()
	var i uint64
	for b.Loop() {
		i++
		binary.BigEndian.PutUint64(k[:8], i%10_000)
		binary.BigEndian.PutUint64(k[8:], (i%10_000)*7919)
		if err := s.View(ctx, func(kv wallet.KV) error {
			if kv.Get("requests", k[:]) == nil {
				b.Fatal("missing")
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBatchParallel is the write of BenchmarkUpdateParallel through
// Batch, from 8 and 32 goroutines (add_request's durable commit at 8 and
// 32 connections): concurrent callers share commits.
func BenchmarkBatchParallel(b *testing.B) {
	for _, par := range []int{8, 32} {
		b.Run(fmt.Sprintf("writers=%d", par), func(b *testing.B) {
			s := openBench(b)
			ctx := context.Background()
			val := make([]byte, 300)
			var next atomic.Uint64
			b.SetParallelism((par + 1) / 2)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := next.Add(1)
					if err := s.Batch(ctx, func(kv wallet.KV) error { return putFew(kv, i, val) }); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
