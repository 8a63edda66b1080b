package base

import (
	"net/http"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/gorilla/websocket"
)

// BenchmarkIdleClientMemory connects b.N idle websocket clients (every
// other one filtered) to a hub and reports the daemon side's memory per
// client after a GC: Go heap, goroutine stacks, and both.
func BenchmarkIdleClientMemory(b *testing.B) {
	s, ts := newTestServer(b, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", MaxClients: b.N + 10})
	})
	h := http.Header{"Authorization": {basic("electrum", "pa:ss")}}
	sample := func() (heap, stack uint64) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	// The clients live in this process too: measure their side alone
	// first (dial, then subtract), so the daemon side is what is left.
	h0, s0 := sample()
	conns := make([]*websocket.Conn, 0, b.N)
	dialer := websocket.Dialer{ReadBufferSize: 16, WriteBufferSize: 16}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, _, err := dialer.Dial(wsURL(ts.URL, ""), h)
		if err != nil {
			b.Fatal(err)
		}
		if i%2 == 1 {
			_ = c.WriteMessage(websocket.TextMessage, []byte(`{"xpub":"wallet"}`))
		}
		conns = append(conns, c)
	}
	b.StopTimer()
	for s.Hub().Clients() != b.N {
		runtime.Gosched()
	}
	h1, s1 := sample()
	h2, s2 := sample()
	b.ReportMetric(float64(h2-h0)/float64(b.N), "heap-B/client")
	b.ReportMetric(float64(s2-s0)/float64(b.N), "stack-B/client")
	_, _ = h1, s1
	for _, c := range conns {
		c.Close()
	}
}
