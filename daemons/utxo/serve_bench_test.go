package utxo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcutil/v2/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg/v2"
	"github.com/btcsuite/btcd/chainhash/v2"
	"github.com/btcsuite/btcd/wire/v2"

	"github.com/walletd/walletd/coins/chain"
)

// stillChain is a backend whose chain never moves: one block, no
// transactions, every script's history empty. Enough for the engine to
// sync and serve loaded wallets in process (the daemon's own request path
// measured without a node).
type stillChain struct {
	events chan chain.Event
}

var stillTip = chain.BlockRef{Height: 100, Hash: chainhash.Hash{0xee}, Time: time.Unix(1.7e9, 0)}

func newStillChain() *stillChain { return &stillChain{events: make(chan chain.Event, 1)} }

func (c *stillChain) Start(context.Context) (<-chan chain.Event, error) {
	c.events <- chain.Event{Kind: chain.EventConnected, Tip: stillTip}
	return c.events, nil
}
func (c *stillChain) Close() error                                           { return nil }
func (c *stillChain) Connected() bool                                        { return true }
func (c *stillChain) Watch(context.Context, [][]byte, []wire.OutPoint) error { return nil }
func (c *stillChain) Tip(context.Context) (chain.BlockRef, error)            { return stillTip, nil }
func (c *stillChain) BlockAt(_ context.Context, h int32) (chain.BlockRef, error) {
	if h == stillTip.Height {
		return stillTip, nil
	}
	return chain.BlockRef{Height: h, Hash: chainhash.Hash{byte(h), 0xaa}, Time: time.Unix(1.7e9, 0)}, nil
}
func (c *stillChain) FilterBlocks(_ context.Context, hs []chainhash.Hash) ([]chain.Block, error) {
	return nil, chain.ErrNotFound
}
func (c *stillChain) History(context.Context, [][]byte) ([]chain.TxInfo, error) { return nil, nil }
func (c *stillChain) Transaction(context.Context, chainhash.Hash) (*chain.TxInfo, error) {
	return nil, chain.ErrNotFound
}
func (c *stillChain) Broadcast(context.Context, *wire.MsgTx) (chainhash.Hash, error) {
	return chainhash.Hash{}, chain.ErrUnsupported
}
func (c *stillChain) EstimateFee(context.Context, int) (int64, bool, error) { return 0, false, nil }

// testVpub is the i-th test wallet: a regtest vpub (p2wpkh account key),
// as the load tool makes its wallets.
func testVpub(t testing.TB, i int) string {
	t.Helper()
	seed := sha256.Sum256([]byte(fmt.Sprintf("walletd-serve-bench/%d", i)))
	m, err := hdkeychain.NewMaster(seed[:], &chaincfg.RegressionNetParams)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := m.Neuter()
	if err != nil {
		t.Fatal(err)
	}
	v, err := pub.CloneWithVersion([]byte{0x04, 0x5f, 0x1c, 0xf6})
	if err != nil {
		t.Fatal(err)
	}
	return v.String()
}

// servedDaemon is a daemon over stillChain with n loaded wallets of two
// requests each, served by its handler in process.
type servedDaemon struct {
	h     http.Handler
	xpubs []string
	reqs  []struct {
		wallet int
		id     string
	}
}

func newServedDaemon(t testing.TB, n int) *servedDaemon {
	t.Helper()
	cfg := Config{Login: "electrum", Password: "electrumz", Network: "regtest", MaxBodyBytes: 1 << 20, MaxBatch: 10,
		DataPath: t.TempDir(), SyncTimeout: 10 * time.Second, ExperimentalNosync: true}
	d, err := New(context.Background(), btcCoin(), cfg, newStillChain(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.CloseClients(context.Background()); _ = d.Close() })
	s := &servedDaemon{h: d.Handler()}
	for i := range n {
		s.xpubs = append(s.xpubs, testVpub(t, i))
		for range 2 {
			var r struct {
				ID string `json:"request_id"`
			}
			s.call(t, &r, rpcBodyOf(1, "add_request", s.xpubs[i], "0.0005", "bench", 3600))
			s.reqs = append(s.reqs, struct {
				wallet int
				id     string
			}{i, r.ID})
		}
	}
	return s
}

// rpcBodyOf is a request body as the load tool and Bitcart's SDK write it:
// positional params, then the {"xpub": …} selector.
func rpcBodyOf(id uint64, method, xpub string, params ...any) []byte {
	args := append([]any{}, params...)
	if xpub != "" {
		args = append(args, map[string]any{"xpub": xpub})
	}
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": args})
	return b
}

// call serves body and decodes the reply's result into v (an error reply
// fails t).
func (s *servedDaemon) call(t testing.TB, v any, body []byte) {
	t.Helper()
	w := &benchWriter{}
	s.h.ServeHTTP(w, benchRequest(body))
	var reply struct {
		Result json.RawMessage
		Error  json.RawMessage
	}
	if err := json.Unmarshal(w.body.Bytes(), &reply); err != nil || reply.Error != nil {
		t.Fatalf("%s: %s (%v)", body, w.body.Bytes(), err)
	}
	if v != nil {
		if err := json.Unmarshal(reply.Result, v); err != nil {
			t.Fatal(err)
		}
	}
}

func benchRequest(body []byte) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:5000/", bytes.NewReader(body))
	r.Host = "127.0.0.1:5000"
	r.SetBasicAuth("electrum", "electrumz")
	r.ContentLength = int64(len(body))
	return r
}

// benchWriter is a reusable http.ResponseWriter.
type benchWriter struct {
	hdr    http.Header
	status int
	body   bytes.Buffer
}

func (w *benchWriter) Header() http.Header {
	if w.hdr == nil {
		w.hdr = http.Header{}
	}
	return w.hdr
}
func (w *benchWriter) WriteHeader(code int) { w.status = code }

// SetWriteDeadline is what a connection's writer offers (no error path).
func (w *benchWriter) SetWriteDeadline(time.Time) error { return nil }
func (w *benchWriter) Write(b []byte) (int, error)      { return w.body.Write(b) }

// rewindBody lets one request be served again: its body read anew.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// BenchmarkServe measures the daemon's whole request path in process (the
// HTTP handler: auth, body read, decoding, dispatch, the engine's read, the
// reply's encoding) for the load tool's getbalance and get_request bodies,
// over 50 loaded wallets with two requests each. No sockets: what net/http
// does around a handler is the reference ceiling's cost too.
func BenchmarkServe(b *testing.B) {
	s := newServedDaemon(b, 50)
	var bal, getReq [][]byte
	for i, x := range s.xpubs {
		bal = append(bal, rpcBodyOf(uint64(i+1), "getbalance", x))
	}
	for i, q := range s.reqs {
		getReq = append(getReq, rpcBodyOf(uint64(i+1), "get_request", s.xpubs[q.wallet], q.id))
	}
	for _, sc := range []struct {
		name   string
		bodies [][]byte
	}{{"getbalance", bal}, {"get_request", getReq}} {
		b.Run(sc.name, func(b *testing.B) {
			reqs := make([]*http.Request, len(sc.bodies))
			bodies := make([]*rewindBody, len(sc.bodies))
			for i, body := range sc.bodies {
				reqs[i] = benchRequest(body)
				bodies[i] = &rewindBody{}
				reqs[i].Body = bodies[i]
			}
			w := &benchWriter{}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k := i % len(reqs)
				bodies[k].Reset(sc.bodies[k])
				w.body.Reset()
				clear(w.hdr)
				s.h.ServeHTTP(w, reqs[k])
				if !bytes.HasPrefix(w.body.Bytes(), []byte(`{"jsonrpc":"2.0","result":`)) {
					b.Fatalf("reply %s", w.body.Bytes())
				}
				i++
			}
		})
	}
	b.Run("get_request-parallel", func(b *testing.B) {
		var mu sync.Mutex
		next := 0
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			mu.Lock()
			k := next
			next++
			mu.Unlock()
			body := getReq[k%len(getReq)]
			rb := &rewindBody{}
			r := benchRequest(body)
			r.Body = rb
			w := &benchWriter{}
			for pb.Next() {
				rb.Reset(body)
				w.body.Reset()
				clear(w.hdr)
				s.h.ServeHTTP(w, r)
			}
		})
	})
}
