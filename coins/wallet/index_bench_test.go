package wallet

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

// benchScript returns a distinct P2WPKH-shaped script (OP_0 <20 bytes>).
func benchScript(salt string, i int) []byte {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%d", salt, i))
	return append([]byte{0x00, 0x14}, h[:20]...)
}

// benchIndexEngine is an engine holding only an in-memory script index of
// n scripts (30 per wallet, as a tracked wallet has) and an outpoint index
// of n/10 unspent outputs: the state block matching reads.
func benchIndexEngine(n int) (*Engine, [][]byte) {
	e := &Engine{index: newScriptIndex(), owned: map[wire.OutPoint][]string{}}
	scripts := make([][]byte, n)
	for i := range scripts {
		s := benchScript("tracked", i)
		scripts[i] = s
		id := fmt.Sprintf("%064x", i/30)
		e.index.add(s, uint32(i/30+1), i%30 >= 20, uint32(i%30))
		if i%10 == 0 {
			e.owned[wire.OutPoint{Hash: chainhash.Hash(sha256.Sum256(s)), Index: 0}] = []string{id}
		}
	}
	return e, scripts
}

// BenchmarkScriptIndexLookup is one output's lookup in a 100,000-script
// index, as the engine does for every output it sees (read lock, hash of
// the script, map lookup; a hit is then confirmed against the store).
func BenchmarkScriptIndexLookup(b *testing.B) {
	e, scripts := benchIndexEngine(100_000)
	misses := make([][]byte, 1024)
	for i := range misses {
		misses[i] = benchScript("other", i)
	}
	b.Run("hit", func(b *testing.B) {
		i := 0
		var buf [2]packedRef
		for b.Loop() {
			if len(e.candidates(scripts[i%len(scripts)], buf[:0])) != 1 {
				b.Fatal("miss")
			}
			i++
		}
	})
	b.Run("miss", func(b *testing.B) {
		i := 0
		var buf [2]packedRef
		for b.Loop() {
			if len(e.candidates(misses[i%len(misses)], buf[:0])) != 0 {
				b.Fatal("hit")
			}
			i++
		}
	})
	b.Run("miss-parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			var buf [2]packedRef
			for pb.Next() {
				_ = e.candidates(misses[i%len(misses)], buf[:0])
				i++
			}
		})
	})
}

// benchBlockTxs makes n transactions of 2 inputs and 2 outputs (a typical
// payment with change) paying scripts nobody tracks.
func benchBlockTxs(n int) []*wire.MsgTx {
	txs := make([]*wire.MsgTx, n)
	for i := range txs {
		tx := wire.NewMsgTx(2)
		for j := 0; j < 2; j++ {
			var h chainhash.Hash
			binary.BigEndian.PutUint64(h[:], uint64(i*2+j))
			h[31] = 0xbb
			in := wire.NewTxIn(&wire.OutPoint{Hash: h, Index: uint32(j)}, nil, [][]byte{make([]byte, 72), make([]byte, 33)})
			tx.AddTxIn(in)
			tx.AddTxOut(wire.NewTxOut(int64(10_000+i), benchScript("block", i*2+j)))
		}
		txs[i] = tx
	}
	return txs
}

// BenchmarkMatchBlock is the in-memory matching of a full 2,000-transaction
// block (4,000 outputs against the script index, 4,000 inputs against the
// outpoint index) when none is the wallets': what the engine does with a
// block before any store write, with the scripts of 3,334 wallets
// (100,020) and of 100,000 wallets (3,000,000). With a btcd backend the
// node filters blocks itself and the engine only sees matching
// transactions; a backend that hands over full blocks (Core RPC) pays this
// per block.
func BenchmarkMatchBlock(b *testing.B) {
	for _, n := range []int{100_020, 3_000_000} {
		b.Run(fmt.Sprintf("scripts=%d", n), func(b *testing.B) {
			e, _ := benchIndexEngine(n)
			txs := benchBlockTxs(2000)
			h := chainhash.Hash{1}
			b.ReportAllocs()
			for b.Loop() {
				a := &applier{e: e}
				for _, tx := range txs {
					if err := a.credit(&txAt{tx: tx, height: 1000, block: &h}); err != nil {
						b.Fatal(err)
					}
				}
				for _, tx := range txs {
					if err := a.debit(&txAt{tx: tx, height: 1000, block: &h}); err != nil {
						b.Fatal(err)
					}
				}
				if len(a.newOwned) != 0 || len(a.touched) != 0 {
					b.Fatal("a transaction matched")
				}
			}
		})
	}
}
