package base

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Request bodies as Bitcart's SDK sends them: positional params with the
// wallet selector as a trailing object.
var benchBodies = []struct{ name, body string }{
	{"nothing", `{"jsonrpc":"2.0","id":1,"method":"nothing","params":[]}`},
	{"help", `{"jsonrpc":"2.0","id":1,"method":"help","params":[]}`},
	{"echo-4-params", `{"jsonrpc":"2.0","id":1,"method":"echo","params":["0.001","order 42",900,true]}`},
	{"wallet_key-xpub", `{"jsonrpc":"2.0","id":1,"method":"wallet_key","params":[{"xpub":"vpub5ZAzT2yFb7B3KqJKN5G8qVJFRk9xkcnVZX19GhFzPXhPhQzvtvw7zuF6uieRtYjvgGKSvsqrv7ZMUhRcKgsodhZBdgYdYLcqW6EnStXEdVW"}]}`},
	{"batch-10", `[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"nothing","params":[]},`, 9) +
		`{"jsonrpc":"2.0","id":1,"method":"nothing","params":[]}]`},
}

// BenchmarkHandle measures request decoding and dispatch (Server.Handle:
// JSON-RPC decoding, the params dialect, the xpub selector, argument
// binding, the call and the reply encoding) with trivial methods.
func BenchmarkHandle(b *testing.B) {
	s, _ := newTestServer(b, func(c *Config) { c.MaxBodyBytes = 1 << 20; c.MaxBatch = 100 })
	ctx := context.Background()
	for _, bb := range benchBodies {
		body := []byte(bb.body)
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if out := s.Handle(ctx, body); out[0] != '{' && out[0] != '[' {
					b.Fatalf("reply %s", out)
				}
			}
		})
	}
	b.Run("nothing-parallel", func(b *testing.B) {
		body := []byte(benchBodies[0].body)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				s.Handle(ctx, body)
			}
		})
	})
}

// BenchmarkServeHTTP adds what the HTTP edge does around Handle: routing,
// Basic auth (two SHA-256 and constant-time compares), the bounded body
// read and the JSON response headers. No network.
func BenchmarkServeHTTP(b *testing.B) {
	s, _ := newTestServer(b, nil)
	body := []byte(benchBodies[0].body)
	auth := basic("electrum", "pa:ss")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
