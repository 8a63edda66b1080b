package corerpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"
)

func (b *Backend) pollForBench(ctx context.Context) error { return b.syncMempool(ctx) }

func (b *Backend) mempoolSize() int {
	b.mpMu.Lock()
	defer b.mpMu.Unlock()
	return len(b.mp.txs)
}

// fakeMempoolNode serves getrawmempool with n txids (prebuilt: the
// node's own cost is not measured) over HTTP on loopback.
func fakeMempoolNode(tb testing.TB, n int) *httptest.Server {
	var body bytes.Buffer
	body.WriteString(`{"result":[`)
	for i := range n {
		var seed [8]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i))
		id := chainhash.Hash(sha256.Sum256(seed[:]))
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, "%q", id.String())
	}
	body.WriteString(`],"error":null,"id":1}`)
	reply := body.Bytes()
	// Every transaction is served as the same small one (a P2WPKH payment
	// to nobody watched).
	tx := wire.NewMsgTx(2)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: 1}, nil, nil))
	tx.AddTxOut(wire.NewTxOut(1000, append([]byte{0x00, 0x14}, make([]byte, 20)...)))
	var raw bytes.Buffer
	_ = tx.Serialize(&raw)
	txHex := hex.EncodeToString(raw.Bytes())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		type request struct {
			ID     uint64 `json:"id"`
			Method string `json:"method"`
		}
		var batch []request
		if json.Unmarshal(data, &batch) == nil {
			type reply struct {
				ID     uint64 `json:"id"`
				Result string `json:"result"`
			}
			out := make([]reply, len(batch))
			for i, q := range batch {
				out[i] = reply{ID: q.ID, Result: txHex}
			}
			_ = json.NewEncoder(w).Encode(out)
			return
		}
		var req request
		if err := json.Unmarshal(data, &req); err != nil || req.Method != "getrawmempool" {
			http.Error(w, `{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":1}`, http.StatusNotFound)
			return
		}
		_, _ = io.Copy(w, bytes.NewReader(reply))
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// BenchmarkMempoolPoll measures one mempool poll of the Core backend in
// the steady state (every txid already seen, none relevant) against a
// node whose mempool holds a mainnet-size number of transactions: the
// getrawmempool round trip on loopback, decoding the txids and the
// bookkeeping. held is the heap the tracker keeps per txid.
//
//	go test -run '^$' -bench MempoolPoll -benchmem ./coins/chain/corerpc/
func BenchmarkMempoolPoll(b *testing.B) {
	for _, n := range []int{50_000, 300_000} {
		b.Run(fmt.Sprintf("txids=%d", n), func(b *testing.B) {
			srv := fakeMempoolNode(b, n)
			be, err := New(Config{URL: "http://u:p@" + srv.Listener.Addr().String()}, nil)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			// The first poll learns every txid.
			if err := be.pollForBench(ctx); err != nil {
				b.Fatal(err)
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			if got := be.mempoolSize(); got != n {
				b.Fatalf("tracking %d txids, want %d", got, n)
			}
			held := float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
			b.ResetTimer()
			for range b.N {
				if err := be.pollForBench(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(held, "held-B/txid")
		})
	}
}
