package base

import (
	"fmt"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// BenchmarkIdleClientMemory connects b.N idle websocket clients (every
// other one filtered) to a hub and reports the memory each costs after a
// GC: Go heap and goroutine stacks. Both ends live in this process: the
// clients are gorilla connections with the smallest buffers it allows
// (about 1 KB each), so the numbers bound the hub's side from above.
func BenchmarkIdleClientMemory(b *testing.B) {
	s, ts := newTestServer(b, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", MaxClients: b.N + 10})
	})
	h := http.Header{"Authorization": {basic("electrum", "pa:ss")}}
	dialer := websocket.Dialer{ReadBufferSize: 16, WriteBufferSize: 16}
	sample := func() (heap, stack uint64) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse
	}
	h0, s0 := sample()
	conns := make([]*websocket.Conn, 0, b.N)
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
	b.ReportMetric(float64(h1-h0)/float64(b.N), "heap-B/client")
	b.ReportMetric(float64(s1-s0)/float64(b.N), "stack-B/client")
	for _, c := range conns {
		c.Close()
	}
}

// BenchmarkPublish1000 queues one event for 1,000 clients (half filtered
// on 100 wallets, half unfiltered) whose writers are busy, so that only
// Publish is measured: filtering, rendering once per name, queueing.
func BenchmarkPublish1000(b *testing.B) {
	h := NewHub(HubConfig{Currency: "BTC"})
	for i := range 1000 {
		c := &client{h: h, live: true, owner: ownerDedicated, idx: i}
		if i%2 == 1 {
			c.filter.Store(&filter{id: fmt.Sprintf("id%d", i%100), name: fmt.Sprintf("key%d", i%100)})
		}
		h.clients = append(h.clients, c)
	}
	payload := []byte(`{"event":"new_payment","address":"5c4d3a2b1e","status":7,"status_str":"Unconfirmed","tx_hashes":["` +
		strings.Repeat("ab", 32) + `"],"sent_amount":"0.01000000","seq":1}`)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Publish(Event{Seq: uint64(i + 1), WalletID: fmt.Sprintf("id%d", i%100), Wallet: fmt.Sprintf("key%d", i%100), Payload: payload})
		if i%256 == 255 {
			for _, c := range h.clients {
				c.dropQueue()
			}
		}
	}
}
