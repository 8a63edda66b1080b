package base

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BenchmarkBlockBurst1000 is a block's burst on real loopback sockets: 401
// events (one global, 400 of 100 wallets) to 1,000 clients, every other one
// filtered on a wallet, each drained by a goroutine. An op is one block,
// from the first publish until every client has every byte of it. It
// reports the process's CPU per block (the hub's Go and the kernel's share
// of its writes, plus the readers'; the expected byte count is computed
// from one encoding per event, not 401,000), and the writes per client: per-event
// Publish (as the engine called it before) against one PublishBatch.
func BenchmarkBlockBurst1000(b *testing.B) {
	for _, batch := range []bool{false, true} {
		name := "publish"
		if batch {
			name = "batch"
		}
		b.Run(name, func(b *testing.B) { benchBurst(b, batch) })
	}
}

func benchBurst(b *testing.B, batch bool) {
	const clients, events, wallets = 1000, 401, 100
	var h *Hub
	_, ts := newTestServer(b, func(c *Config) {
		h = NewHub(HubConfig{Currency: "BTC", MaxClients: clients + 10})
		c.Hub = h
	})
	payload := func(seq int) []byte {
		return []byte(fmt.Sprintf(`{"event":"new_payment","address":"5c4d3a2b1e","status":7,"status_str":"Unconfirmed","tx_hashes":["%s"],"sent_amount":"0.01000000","seq":%d}`,
			strings.Repeat("ab", 32), seq))
	}
	var got atomic.Int64
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	for i := range clients {
		c, _, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, ""), http.Header{"Authorization": {basic("electrum", "pa:ss")}})
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		if i%2 == 1 {
			_ = c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"xpub":"key%d"}`, i%wallets)))
		}
		nc := c.NetConn()
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				n, err := nc.Read(buf)
				got.Add(int64(n))
				if err != nil {
					return
				}
			}
		}()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			c.NetConn().Close()
		}
		wg.Wait()
	})
	seq := uint64(0)
	block := func() int64 {
		var evs []Event
		for i := range events {
			seq++
			ev := Event{Seq: seq, Payload: payload(int(seq))}
			if i > 0 {
				w := i % wallets
				ev.WalletID, ev.Wallet = fmt.Sprintf("key%d", w), fmt.Sprintf("key%d", w)
			}
			evs = append(evs, ev)
		}
		// Each event's frame encoded once (every client gets the public
		// frame: a filter names its wallet by the event's own name); the
		// sum over 1,000 clients is not the hub's work to measure.
		size := make([]int64, len(evs))
		for j, ev := range evs {
			size[j] = int64(len(h.encode(ev, ev.Wallet).b))
		}
		want := int64(0)
		for i := range clients {
			for j := range evs {
				if i%2 == 0 || j == 0 || j%wallets == i%wallets {
					want += size[j]
				}
			}
		}
		start := got.Load()
		if batch {
			h.PublishBatch(evs)
		} else {
			for _, ev := range evs {
				h.Publish(ev)
			}
		}
		for got.Load()-start < want {
			time.Sleep(100 * time.Microsecond)
		}
		return want
	}
	time.Sleep(200 * time.Millisecond) // the register frames
	block()
	w0 := h.writes.Load()
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	n := 0
	for b.Loop() {
		block()
		n++
	}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) / time.Duration(n)
	b.ReportMetric(float64(cpu.Microseconds())/1000, "cpu-ms/block")
	b.ReportMetric(float64(h.writes.Load()-w0)/float64(n*clients), "writes/client")
}

// BenchmarkPublishBatch1000 is PublishBatch alone: a block's 401 events
// (one global, 400 of 100 wallets) queued for 1,000 clients, every other
// one filtered, whose writers are busy (nothing is written). An op is one
// block: filtering, rendering, queueing; B/op is what a block's queues
// cost the collector.
func BenchmarkPublishBatch1000(b *testing.B) {
	const clients, events, wallets = 1000, 401, 100
	h := NewHub(HubConfig{Currency: "BTC"})
	for i := range clients {
		c := &client{h: h, live: true, owner: ownerDedicated, idx: i}
		if i%2 == 1 {
			c.filter.Store(&filter{id: fmt.Sprintf("id%d", i%wallets), name: fmt.Sprintf("key%d", i%wallets)})
		}
		h.clients = append(h.clients, c)
	}
	seq := uint64(0)
	block := func() []Event {
		var evs []Event
		for i := range events {
			seq++
			ev := Event{Seq: seq, Payload: []byte(fmt.Sprintf(`{"event":"new_payment","address":"5c4d3a2b1e","status":7,"status_str":"Unconfirmed","tx_hashes":["%s"],"sent_amount":"0.01000000","seq":%d}`,
				strings.Repeat("ab", 32), seq))}
			if i > 0 {
				w := i % wallets
				ev.WalletID, ev.Wallet = fmt.Sprintf("id%d", w), fmt.Sprintf("key%d", w)
			}
			evs = append(evs, ev)
		}
		return evs
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		evs := block()
		for _, c := range h.clients {
			c.mu.Lock()
			c.dropQueue()
			c.mu.Unlock()
		}
		b.StartTimer()
		h.PublishBatch(evs)
	}
}
