package base

import (
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestWSPublishBatchQueuesOneRunPerClient: a block's batch is queued for
// the clients that take every event (the unfiltered ones) as one run of
// frames they all share, not one entry per event per client: queueing 401
// events for 1,000 clients (every other one filtered) allocates about the
// frames once, not 500 × 401 queue entries (3.5 MB before).
func TestWSPublishBatchQueuesOneRunPerClient(t *testing.T) {
	const clients, events, wallets = 1000, 401, 100
	h := NewHub(HubConfig{Currency: "BTC"})
	for i := range clients {
		// A client whose writer is busy: frames stay queued.
		c := &client{h: h, live: true, owner: ownerDedicated, idx: i}
		if i%2 == 1 {
			c.filter.Store(&filter{id: fmt.Sprintf("id%d", i%wallets), name: fmt.Sprintf("key%d", i%wallets)})
		}
		h.clients = append(h.clients, c)
	}
	var evs []Event
	for i := range events {
		ev := padded(uint64(i+1), "", 150)
		if i > 0 {
			ev.WalletID, ev.Wallet = fmt.Sprintf("id%d", i%wallets), fmt.Sprintf("key%d", i%wallets)
		}
		evs = append(evs, ev)
	}
	frames := 0
	for _, ev := range evs {
		frames += len(h.encode(ev, ev.Wallet).b)
	}
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	h.PublishBatch(evs)
	runtime.ReadMemStats(&m1)
	alloc := int(m1.TotalAlloc - m0.TotalAlloc)
	// The frames once, and per client a few words: 500 unfiltered
	// clients × 401 entries of 16 bytes would be 3.2 MB alone.
	if limit := 2*frames + 200*clients; alloc > limit {
		t.Fatalf("publishing a %d-byte batch to %d clients allocated %d bytes (limit %d)", frames, clients, alloc, limit)
	}
	for i, c := range h.clients {
		want := events
		if i%2 == 1 {
			want = 1 + events/wallets // the global event and its wallet's
		}
		if c.qn != want {
			t.Fatalf("client %d has %d frames queued, want %d", i, c.qn, want)
		}
	}
}

// TestWSBurstWrittenAsOneSpan: a batch's frames for a client are adjacent
// in memory, and the pool hands the kernel a run of them as one buffer:
// 100 events to an unfiltered client go out in one write of one span (it
// was one iovec per frame).
func TestWSBurstWrittenAsOneSpan(t *testing.T) {
	srv, ts := newTestServer(t, nil)
	hub := srv.Hub()
	c := newTClient(t, ts.URL, "")
	c.sync()
	cl := onlyClient(t, hub)
	waitIdle(t, cl)
	w0, s0 := hub.writes.Load(), hub.spans.Load()
	var evs []Event
	var want []string
	for i := uint64(1); i <= 100; i++ {
		evs = append(evs, ev(i, "w"))
		want = append(want, fmt.Sprintf("%d:w", i))
	}
	hub.PublishBatch(evs)
	c.expect(want...)
	waitIdle(t, cl)
	if w, s := hub.writes.Load()-w0, hub.spans.Load()-s0; w != 1 || s != 1 {
		t.Fatalf("100 frames went out in %d writes of %d buffers, want 1 of 1", w, s)
	}
}

// TestWSPublishDoesNotHoldTheHub: while a publication is under way
// (here held on one client's lock), the hub's lock is free: a new client
// connects and is served, and it does not get the events published before
// it joined, only those after.
func TestWSPublishDoesNotHoldTheHub(t *testing.T) {
	s, ts := newTestServer(t, nil)
	h := s.Hub()
	first := newTClient(t, ts.URL, "")
	first.sync()
	held := onlyClient(t, h)
	waitIdle(t, held)

	held.mu.Lock()
	done := make(chan struct{})
	go func() {
		h.PublishBatch([]Event{ev(1, "w"), ev(2, "w"), ev(3, "w"), ev(4, "w"), ev(5, "w"), ev(6, "w")})
		close(done)
	}()
	// The publication reaches the held client and waits for its lock;
	// meanwhile the hub's lock must be free (it was held through the
	// whole publication, yields included).
	underway := false
	for end := time.Now().Add(5 * time.Second); !underway && time.Now().Before(end); time.Sleep(time.Millisecond) {
		if h.mu.TryLock() {
			underway = h.lastSeq == 6
			h.mu.Unlock()
		}
	}
	if !underway {
		held.mu.Unlock()
		<-done
		t.Fatal("the hub's lock was held while a publication waited for a client")
	}
	joined := make(chan *tclient, 1)
	go func() {
		c := newTClient(t, ts.URL, "")
		joined <- c
	}()
	var late *tclient
	select {
	case late = <-joined:
	case <-time.After(10 * time.Second):
		held.mu.Unlock()
		t.Fatal("a client could not connect while a publication was under way")
	}
	// The upgrade's answer reaches the client before the hub adds it.
	n := 0
	for end := time.Now().Add(5 * time.Second); n != 2 && time.Now().Before(end); time.Sleep(time.Millisecond) {
		n = h.Clients()
	}
	held.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d clients while a publication was under way, want 2", n)
	}
	<-done
	first.expect("1:w", "2:w", "3:w", "4:w", "5:w", "6:w")
	h.Publish(ev(7, "w"))
	late.expect("7:w")
	first.expect("7:w")
}

// TestWSMixedRunsInOrder: batches of every size (shared runs for the
// unfiltered clients, own runs for filtered ones) mixed with lone events,
// to clients that read slowly and fast, filtered and not: every client
// gets exactly its frames, in order, each byte for byte what contract.md
// §7 says.
func TestWSMixedRunsInOrder(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", QueueSize: 1 << 20})
	})
	type reader struct {
		c      *websocket.Conn
		wallet string // "": unfiltered
		slow   bool
		got    [][]byte
	}
	var rs []*reader
	for i := range 8 {
		r := &reader{c: dialWS(t, ts.URL, ""), slow: i%4 == 3}
		if i%2 == 1 {
			r.wallet = fmt.Sprintf("w%d", i%3)
			if err := r.c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`{"xpub":%q}`, r.wallet))); err != nil {
				t.Fatal(err)
			}
		}
		rs = append(rs, r)
	}
	h := s.Hub()
	waitFor(t, "eight clients, four filtered", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, c := range h.clients {
			if c.filter.Load() != nil {
				n++
			}
		}
		return len(h.clients) == 8 && n == 4
	})
	var all []Event
	seq := uint64(0)
	mk := func() Event {
		seq++
		w := ""
		if seq%5 != 0 {
			w = fmt.Sprintf("w%d", seq%3)
		}
		e := padded(seq, w, int(seq%300))
		all = append(all, e)
		return e
	}
	for round := range 60 {
		switch n := round % 7; n {
		case 0:
			h.Publish(mk())
		default:
			var evs []Event
			for range n * n * 3 {
				evs = append(evs, mk())
			}
			h.PublishBatch(evs)
		}
	}
	var wg sync.WaitGroup
	for _, r := range rs {
		want := 0
		for _, e := range all {
			if r.wallet == "" || e.Wallet == "" || e.Wallet == r.wallet {
				want++
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for len(r.got) < want {
				if r.slow {
					time.Sleep(200 * time.Microsecond)
				}
				_ = r.c.SetReadDeadline(time.Now().Add(10 * time.Second))
				_, msg, err := r.c.ReadMessage()
				if err != nil {
					t.Errorf("read after %d frames: %v", len(r.got), err)
					return
				}
				r.got = append(r.got, msg)
			}
		}()
	}
	wg.Wait()
	for i, r := range rs {
		var want [][]byte
		for _, e := range all {
			if r.wallet == "" || e.Wallet == "" || e.Wallet == r.wallet {
				name := "null"
				if e.Wallet != "" {
					name = fmt.Sprintf("%q", e.Wallet)
				}
				want = append(want, []byte(fmt.Sprintf(`{"updates":[%s],"wallet":%s,"currency":"BTC"}`, e.Payload, name)))
			}
		}
		if len(r.got) != len(want) {
			t.Fatalf("client %d got %d frames, want %d", i, len(r.got), len(want))
		}
		for j := range want {
			if string(r.got[j]) != string(want[j]) {
				t.Fatalf("client %d frame %d:\n got %s\nwant %s", i, j, r.got[j], want[j])
			}
		}
	}
}

// TestWSStalledClientExactResumeBatches: TestWSStalledClientExactResume
// with the events published in batches (shared runs): the stalled client
// is closed with the exact seq to resume from.
func TestWSStalledClientExactResumeBatches(t *testing.T) {
	src := &memSource{}
	const queue = 64
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", QueueSize: queue, Source: src})
	})
	h := s.Hub()
	publishBatch := func(evs []Event) {
		for _, e := range evs {
			src.add(e)
		}
		h.PublishBatch(evs)
	}
	stalled := dialWS(t, ts.URL, "")
	fast := newTClient(t, ts.URL, "")
	fast.sync()
	waitFor(t, "two clients", func() bool { return h.Clients() == 2 })
	const pad, batch = 400, 16
	var n uint64
	for rounds := 0; h.SlowClientsDropped() == 0; rounds++ {
		if rounds > 2000 {
			t.Fatal("stalled client never dropped")
		}
		var evs []Event
		for range batch {
			n++
			evs = append(evs, padded(n, "", pad))
		}
		publishBatch(evs)
		for _, e := range evs {
			if f := fast.next(); f.seq() != e.Seq {
				t.Fatalf("fast client got seq %d want %d", f.seq(), e.Seq)
			}
		}
	}
	last := n
	waitFor(t, "stalled client closed by the server", func() bool { return h.Clients() == 1 })
	got := readUntilClose(t, stalled)
	if got >= last {
		t.Fatalf("the close names seq %d, the last published", got)
	}
	checkResume(t, ts.URL, got, last, func(e Event) { publishBatch([]Event{e}) }, fast)
}

// TestWSWriteAfterAnExpiredDeadline: a socket whose last blocking write
// left a write deadline that has since passed still gets its frames (the
// pool's non-blocking write fails on the old deadline, and the goroutine
// that finishes a write sets its own), and stays connected.
func TestWSWriteAfterAnExpiredDeadline(t *testing.T) {
	s, ts := newTestServer(t, nil)
	h := s.Hub()
	c := newTClient(t, ts.URL, "")
	c.sync()
	cl := onlyClient(t, h)
	waitIdle(t, cl)
	cl.mu.Lock()
	tc, ok := cl.wc.(*net.TCPConn)
	cl.mu.Unlock()
	if !ok {
		t.Fatalf("frames written to %T", cl.wc)
	}
	_ = tc.SetWriteDeadline(time.Now().Add(-time.Second))
	h.PublishBatch([]Event{ev(1, "w"), ev(2, "w")})
	c.expect("1:w", "2:w")
	h.Publish(ev(3, "w"))
	c.expect("3:w")
	if n := h.Clients(); n != 1 {
		t.Fatalf("%d clients after the writes", n)
	}
}

// TestWSSmallWritesDoNotAskTheKernel: the pool asks the kernel how much a
// client's send queue holds (an ioctl per write) only when what it wrote
// since it last asked could leave too little room: a filtered client's
// few frames per block are written without asking, block after block.
func TestWSSmallWritesDoNotAskTheKernel(t *testing.T) {
	s, ts := newTestServer(t, nil)
	h := s.Hub()
	c := newTClient(t, ts.URL, "")
	c.sync()
	cl := onlyClient(t, h)
	waitIdle(t, cl)
	h.Publish(ev(1, "w"))
	c.expect("1:w")
	waitIdle(t, cl)
	a0, w0 := h.outqAsks.Load(), h.writes.Load()
	for i := uint64(2); i <= 41; i += 4 {
		h.PublishBatch([]Event{ev(i, "w"), ev(i+1, "w"), ev(i+2, "w"), ev(i+3, "w")})
		c.expect(fmt.Sprintf("%d:w", i), fmt.Sprintf("%d:w", i+1), fmt.Sprintf("%d:w", i+2), fmt.Sprintf("%d:w", i+3))
		waitIdle(t, cl)
	}
	if a, w := h.outqAsks.Load()-a0, h.writes.Load()-w0; w != 10 || a != 0 {
		t.Fatalf("%d writes asked the kernel %d times, want 10 writes and no ask", w, a)
	}
}
