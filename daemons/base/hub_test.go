package base

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wsURL(url, query string) string {
	return "ws" + strings.TrimPrefix(url, "http") + "/ws" + query
}

func dialWS(t *testing.T, url, query string) *websocket.Conn {
	t.Helper()
	h := http.Header{"Authorization": {basic("electrum", "pa:ss")}}
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(url, query), h)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// dialRefused dials and expects the hub to answer with a JSON error
// instead of upgrading; it returns the body.
func dialRefused(t *testing.T, url string, h http.Header) string {
	t.Helper()
	h.Set("Authorization", basic("electrum", "pa:ss"))
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(url, ""), h)
	if err == nil {
		c.Close()
		t.Fatal("upgrade accepted")
	}
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("want a refused handshake, got %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("refusal: HTTP %d %s", resp.StatusCode, body)
	}
	return string(body)
}

type wireFrame struct {
	Updates []struct {
		Event string `json:"event"`
		Seq   uint64 `json:"seq"`
		N     int    `json:"n"`
	} `json:"updates"`
	Wallet   *string `json:"wallet"`
	Currency string  `json:"currency"`
}

func (f wireFrame) seq() uint64 { return f.Updates[0].Seq }

func (f wireFrame) wallet() string {
	if f.Wallet == nil {
		return "<null>"
	}
	return *f.Wallet
}

func readFrame(t *testing.T, c *websocket.Conn) wireFrame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var f wireFrame
	if err := json.Unmarshal(msg, &f); err != nil {
		t.Fatalf("frame %s: %v", msg, err)
	}
	return f
}

func ev(seq uint64, wallet string) Event {
	return Event{Seq: seq, Wallet: wallet, Payload: json.RawMessage(fmt.Sprintf(`{"event":"e","seq":%d}`, seq))}
}

// walletEv is an event of the wallet with fingerprint id, named pub for
// unfiltered clients.
func walletEv(seq uint64, id, pub string) Event {
	e := ev(seq, pub)
	e.WalletID = id
	return e
}

// tclient is a test websocket client that reads all the time: frames go
// to a channel, and sync waits for the pong to a ping, which proves that
// the server has handled every frame the client sent before it.
type tclient struct {
	t      *testing.T
	c      *websocket.Conn
	frames chan wireFrame
	pongs  chan string
	closed chan *websocket.CloseError // the server's close frame (nil if none)
	n      int
}

func newTClient(t *testing.T, url, query string) *tclient {
	t.Helper()
	tc := &tclient{t: t, c: dialWS(t, url, query), frames: make(chan wireFrame, 100000),
		pongs: make(chan string, 16), closed: make(chan *websocket.CloseError, 1)}
	tc.c.SetPongHandler(func(p string) error { tc.pongs <- p; return nil })
	go func() {
		for {
			_, msg, err := tc.c.ReadMessage()
			if err != nil {
				var ce *websocket.CloseError
				errors.As(err, &ce)
				tc.closed <- ce
				close(tc.frames)
				return
			}
			var f wireFrame
			if json.Unmarshal(msg, &f) != nil || len(f.Updates) != 1 {
				t.Errorf("bad frame %s", msg)
				continue
			}
			tc.frames <- f
		}
	}()
	return tc
}

func (tc *tclient) send(msg string) {
	tc.t.Helper()
	if err := tc.c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		tc.t.Fatal(err)
	}
}

func (tc *tclient) sync() {
	tc.t.Helper()
	tc.n++
	want := fmt.Sprintf("sync-%d", tc.n)
	if err := tc.c.WriteControl(websocket.PingMessage, []byte(want), time.Now().Add(5*time.Second)); err != nil {
		tc.t.Fatal(err)
	}
	select {
	case p := <-tc.pongs:
		if p != want {
			tc.t.Fatalf("pong %q, want %q", p, want)
		}
	case <-time.After(10 * time.Second):
		tc.t.Fatal("no pong")
	}
}

// register sends a register frame and waits until the server applied it.
func (tc *tclient) register(frame string) {
	tc.t.Helper()
	tc.send(frame)
	tc.sync()
}

func (tc *tclient) next() wireFrame {
	tc.t.Helper()
	select {
	case f, ok := <-tc.frames:
		if !ok {
			tc.t.Fatal("connection closed")
		}
		return f
	case <-time.After(10 * time.Second):
		tc.t.Fatal("no frame")
	}
	return wireFrame{}
}

// expect reads frames and checks their seqs and wallet names.
func (tc *tclient) expect(want ...string) {
	tc.t.Helper()
	for _, w := range want {
		f := tc.next()
		if got := fmt.Sprintf("%d:%s", f.seq(), f.wallet()); got != w {
			tc.t.Fatalf("got frame %s, want %s", got, w)
		}
	}
}

// eachReader runs f with the hub reading clients through its poller and
// through a goroutine per client (its fallback where there is no epoll).
func eachReader(t *testing.T, f func(t *testing.T, mk func(HubConfig) *Hub)) {
	for _, noPoll := range []bool{false, true} {
		name := "poller"
		if noPoll {
			name = "goroutines"
		}
		t.Run(name, func(t *testing.T) {
			f(t, func(c HubConfig) *Hub {
				h := NewHub(c)
				h.noPoll = noPoll
				return h
			})
		})
	}
}

// fakeResolver maps each key form to its wallet's fingerprint.
func fakeResolver(forms map[string]string) Resolver {
	return func(_ context.Context, key string) (string, bool) {
		id, ok := forms[key]
		return id, ok
	}
}

func TestWSBadAuthDoesNotUpgrade(t *testing.T) {
	_, ts := newTestServer(t, nil)
	h := http.Header{"Authorization": {basic("electrum", "wrong")}}
	_, resp, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, ""), h)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("want bad handshake, got %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"code":-32600`) || !strings.Contains(string(body), `"id":null`) {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestWSFrameShape(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		s, ts := newTestServer(t, func(c *Config) { c.Hub = mk(HubConfig{Currency: "BTC"}) })
		c := newTClient(t, ts.URL, "")
		// Frames that are not register frames are ignored and do not close
		// the socket.
		for _, m := range []string{"not json", `{"foo":1}`, `[1,2]`, `"xpub"`} {
			c.send(m)
		}
		_ = c.c.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2})
		c.sync()
		s.Hub().Publish(ev(1, "w1"))
		s.Hub().Publish(ev(2, ""))
		f := c.next()
		if f.Wallet == nil || *f.Wallet != "w1" || f.seq() != 1 || f.Currency != "BTC" || f.Updates[0].Event != "e" {
			t.Errorf("wallet frame %+v", f)
		}
		if f := c.next(); f.Wallet != nil || f.seq() != 2 {
			t.Errorf("global frame %+v", f)
		}
	})
}

// TestWSFilterByWallet: a register frame in any key form of a wallet (or
// the merchant's object form) narrows the socket to that wallet's events,
// whichever form caused them, named as registered; unfiltered clients get
// the public name; unrecognised filters get only global events; a falsy
// filter clears.
func TestWSFilterByWallet(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		forms := map[string]string{"xpubA": "idA", "seedA": "idA", "xprvA": "idA", "xpubB": "idB"}
		s, ts := newTestServer(t, func(c *Config) {
			c.Hub = mk(HubConfig{Currency: "BTC", Resolve: fakeResolver(forms)})
		})
		all := newTClient(t, ts.URL, "")
		bySeed := newTClient(t, ts.URL, "")
		bySeed.register(`{"xpub":"seedA"}`)
		byXpub := newTClient(t, ts.URL, "")
		byXpub.register(`{"xpub":"xpubA"}`)
		byObject := newTClient(t, ts.URL, "")
		byObject.register(`{"xpub":{"xpub":"xprvA","contract":"c1","diskless":true}}`)
		byObjectNoContract := newTClient(t, ts.URL, "")
		byObjectNoContract.register(`{"xpub":{"xpub":"seedA","contract":null}}`)
		var nothing []*tclient
		for _, f := range []string{`{"xpub":"not a key"}`, `{"xpub":5}`, `{"xpub":true}`, `{"xpub":{"contract":"c"}}`, `{"xpub":[1]}`} {
			c := newTClient(t, ts.URL, "")
			c.register(f)
			nothing = append(nothing, c)
		}
		cleared := newTClient(t, ts.URL, "")
		cleared.register(`{"xpub":"xpubB"}`)
		cleared.register(`{"xpub":null}`)
		unchanged := newTClient(t, ts.URL, "")
		unchanged.register(`{"xpub":"xpubB"}`)
		unchanged.register(`{"other":1}`)

		h := s.Hub()
		h.Publish(walletEv(1, "idA", "xpubA"))
		h.Publish(walletEv(2, "idB", "xpubB"))
		h.Publish(ev(3, ""))
		h.Publish(walletEv(4, "idA", "xpubA"))

		all.expect("1:xpubA", "2:xpubB", "3:<null>", "4:xpubA")
		bySeed.expect("1:seedA", "3:<null>", "4:seedA")
		byXpub.expect("1:xpubA", "3:<null>", "4:xpubA")
		byObject.expect("1:xprvA_c1", "3:<null>", "4:xprvA_c1")
		byObjectNoContract.expect("1:seedA", "3:<null>", "4:seedA")
		for _, c := range nothing {
			c.expect("3:<null>")
		}
		cleared.expect("1:xpubA", "2:xpubB", "3:<null>", "4:xpubA")
		unchanged.expect("2:xpubB", "3:<null>")
		// Nothing else was queued for the narrow clients: the next frame each
		// gets is the next global event.
		h.Publish(ev(5, ""))
		for _, c := range append(nothing, bySeed, byXpub, byObject, unchanged) {
			c.expect("5:<null>")
		}
	})
}

func TestWSFalsy(t *testing.T) {
	for _, v := range []string{`null`, `""`, `false`, `0`, `-0`, `0.0`, `0e5`, `0.000E-3`, `[]`, `{}`, ` { } `} {
		if !falsy(json.RawMessage(v)) {
			t.Errorf("%s is falsy", v)
		}
	}
	for _, v := range []string{`"x"`, `true`, `1`, `0.01`, `-2e-9`, `100`, `[0]`, `{"a":1}`, `nonsense`} {
		if falsy(json.RawMessage(v)) {
			t.Errorf("%s is truthy", v)
		}
	}
}

// TestWSFramesSharedAcrossClients: an event's frame is encoded once per
// distinct wallet name and the same bytes are queued for every client.
func TestWSFramesSharedAcrossClients(t *testing.T) {
	h := NewHub(HubConfig{Currency: "BTC"})
	mk := func(f *filter) *client {
		// A client whose writer is busy: frames stay queued for inspection.
		c := &client{h: h, live: true, owner: ownerDedicated}
		c.filter.Store(f)
		c.idx = len(h.clients)
		h.clients = append(h.clients, c)
		return c
	}
	var plain, asPub, asSeed []*client
	for range 50 {
		plain = append(plain, mk(nil))
		asPub = append(asPub, mk(&filter{id: "idA", name: "xpubA"}))
		asSeed = append(asSeed, mk(&filter{id: "idA", name: "seedA"}))
	}
	other := mk(&filter{id: "idB", name: "xpubB"})
	h.Publish(walletEv(7, "idA", "xpubA"))
	if other.qn != 0 {
		t.Fatalf("other wallet's client queued %d frames", other.qn)
	}
	pub, seed := plain[0].head().f, asSeed[0].head().f
	for i := range plain {
		if plain[i].head().f != pub || asPub[i].head().f != pub || asSeed[i].head().f != seed {
			t.Fatal("a client got its own copy of a frame")
		}
	}
	if pub == seed || !strings.Contains(string(seed.b), `"wallet":"seedA"`) || !strings.Contains(string(pub.b), `"wallet":"xpubA"`) {
		t.Fatalf("renderings: %q %q", pub.b, seed.b)
	}
}

// memSource is an in-memory EventSource.
type memSource struct {
	mu  sync.Mutex
	evs []Event
}

func (m *memSource) add(e Event) {
	m.mu.Lock()
	m.evs = append(m.evs, e)
	m.mu.Unlock()
}

func (m *memSource) EventsAfter(_ context.Context, after uint64, limit int) ([]Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Event
	for _, e := range m.evs {
		if e.Seq > after && len(out) < limit {
			out = append(out, e)
		}
	}
	return out, nil
}

// logged is a hub publisher that logs each event in src first, as the
// engine does.
func logged(h *Hub, src *memSource) func(Event) {
	return func(e Event) {
		src.add(e)
		h.Publish(e)
	}
}

func padded(seq uint64, wallet string, pad int) Event {
	return Event{Seq: seq, Wallet: wallet, Payload: json.RawMessage(fmt.Sprintf(`{"event":"e","seq":%d,"pad":%q}`, seq, strings.Repeat("x", pad)))}
}

// TestWSStalledClientExactResume: a client that stops reading on loopback
// is closed after a bounded number of frames with 1008 and the exact seq to
// resume from, which it sees when it reads again, even after the server
// has closed the connection; resuming from it replays exactly what it
// missed; a reading client is not disturbed.
//
// Also behind the daemon's connection limiter (cmd/daemon serves through
// LimitConns), whose wrapped connections the hub must still see as TCP
// sockets: without their send queue the kernel's megabytes held the
// stalled client's frames far past the bound.
func TestWSStalledClientExactResume(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) { stalledExactResume(t, mk, newTestServer) })
	t.Run("limited listener", func(t *testing.T) { stalledExactResume(t, NewHub, newLimitedTestServer) })
}

// newLimitedTestServer is newTestServer listening through LimitConns.
func newLimitedTestServer(t testing.TB, mod func(*Config)) (*Server, *httptest.Server) {
	t.Helper()
	s, _ := newTestServer(t, mod)
	lts := httptest.NewUnstartedServer(s)
	lts.Listener = LimitConns(lts.Listener, 16, nil)
	lts.Start()
	t.Cleanup(lts.Close)
	return s, lts
}

// TestWSBehindConnLimiter: behind the daemon's connection limiter the hub
// still polls a client's socket, writes its frames to the TCP socket itself
// (net.Buffers makes one writev there; through the wrapper it made one write
// per frame) and closes it through the wrapper, giving the slot back.
func TestWSBehindConnLimiter(t *testing.T) {
	s, ts := newLimitedTestServer(t, nil)
	h := s.Hub()
	c := newTClient(t, ts.URL, "")
	c.sync()
	h.mu.Lock()
	cl := h.clients[0]
	h.mu.Unlock()
	if _, ok := cl.wc.(*net.TCPConn); !ok || !cl.polled || cl.sendLimit <= 0 {
		t.Fatalf("frames written to %T, polled %v, send limit %d", cl.wc, cl.polled, cl.sendLimit)
	}
	if _, ok := cl.nc.(*limitedConn); !ok {
		t.Fatalf("the connection is %T, not the limiter's", cl.nc)
	}
	h.Publish(ev(1, ""))
	c.expect("1:<null>")
	ln := ts.Listener.(*ConnLimiter)
	c.c.Close()
	waitFor(t, "the client's slot given back", func() bool { return h.Clients() == 0 && ln.Open() == 0 })
}

func stalledExactResume(t *testing.T, mk func(HubConfig) *Hub, serve func(testing.TB, func(*Config)) (*Server, *httptest.Server)) {
	src := &memSource{}
	const queue = 64
	s, ts := serve(t, func(c *Config) {
		c.Hub = mk(HubConfig{Currency: "BTC", QueueSize: queue, Source: src})
	})
	h := s.Hub()
	publish := logged(h, src)
	stalled := dialWS(t, ts.URL, "") // does not read until it has been dropped
	fast := newTClient(t, ts.URL, "")
	fast.sync()
	waitFor(t, "two clients", func() bool { return h.Clients() == 2 })

	const pad = 400
	frameSize := len(h.encode(padded(1000, "", pad), "").b)
	// What the kernel can hold for a client that does not read: our send
	// buffer (Linux doubles SO_SNDBUF) and, generously, the client's
	// receive buffer at its default.
	bound := queue + (2*defaultSendBuffer+1<<20)/frameSize
	var n uint64
	for n = 1; h.SlowClientsDropped() == 0; n++ {
		if n > uint64(bound) {
			t.Fatalf("stalled client not dropped after %d frames of %d bytes (bound %d)", n-1, frameSize, bound)
		}
		publish(padded(n, "", pad))
		if f := fast.next(); f.seq() != n {
			t.Fatalf("fast client got seq %d want %d", f.seq(), n)
		}
	}
	dropAt := n - 1
	t.Logf("stalled client dropped after %d frames of %d bytes", dropAt, frameSize)
	// Events keep coming; the fast client keeps up.
	for end := n + 20; n < end; n++ {
		publish(padded(n, "", pad))
		if f := fast.next(); f.seq() != n {
			t.Fatalf("fast client got seq %d want %d", f.seq(), n)
		}
	}
	last := n - 1

	// The server is done with it before it reads a byte: the close
	// frame went out behind its last whole frame.
	waitFor(t, "stalled client closed by the server", func() bool { return h.Clients() == 1 })
	got := readUntilClose(t, stalled)
	if got >= dropAt {
		t.Fatalf("the close names seq %d, but the client was dropped at %d", got, dropAt)
	}
	checkResume(t, ts.URL, got, last, publish, fast)
}

// readUntilClose reads a client that was dropped: whole frames with
// consecutive seqs from 1, then a 1008 close frame naming the last one as
// the seq to resume from, which it returns.
func readUntilClose(t *testing.T, c *websocket.Conn) uint64 {
	t.Helper()
	var got uint64
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) {
				t.Fatalf("the dropped client's read ended with %v after seq %d, not a close frame", err, got)
			}
			want := fmt.Sprintf("reconnect with ?since=%d", got)
			if ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, want) || got == 0 {
				t.Fatalf("close %d %q after seq %d, want 1008 naming since=%d", ce.Code, ce.Text, got, got)
			}
			return got
		}
		var f wireFrame
		if err := json.Unmarshal(msg, &f); err != nil {
			t.Fatalf("frame %q: %v", msg, err)
		}
		if f.seq() != got+1 {
			t.Fatalf("dropped client got seq %d after %d", f.seq(), got)
		}
		got = f.seq()
	}
}

// checkResume reconnects with ?since=from: the replay must be exactly
// from+1..last, then live frames follow (for fast too).
func checkResume(t *testing.T, url string, from, last uint64, publish func(Event), fast *tclient) {
	t.Helper()
	resumed := newTClient(t, url, fmt.Sprintf("?since=%d", from))
	for want := from + 1; want <= last; want++ {
		if f := resumed.next(); f.seq() != want {
			t.Fatalf("resumed client got seq %d want %d", f.seq(), want)
		}
	}
	publish(padded(last+1, "", 10))
	if f := resumed.next(); f.seq() != last+1 {
		t.Fatalf("resumed client's first live frame is seq %d, want %d", f.seq(), last+1)
	}
	if f := fast.next(); f.seq() != last+1 {
		t.Fatalf("fast client got %d", f.seq())
	}
}

// TestWSStalledClientDroppedByTimeout: a client that stops reading while
// its queue stays under the bound is dropped when its socket has taken
// nothing for WriteTimeout; its close frame comes after its last whole
// frame, with the exact resume seq, even when it reads only after the
// server has closed the connection.
func TestWSStalledClientDroppedByTimeout(t *testing.T) {
	src := &memSource{}
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", QueueSize: 100000, WriteTimeout: 2 * time.Second, Source: src})
	})
	h := s.Hub()
	publish := logged(h, src)
	stalled := dialWS(t, ts.URL, "")
	fast := newTClient(t, ts.URL, "")
	fast.sync()
	waitFor(t, "two clients", func() bool { return h.Clients() == 2 })
	// More than the kernel holds for the stalled client, then nothing.
	var n uint64
	for n = 1; n <= 2000; n++ {
		publish(padded(n, "", 400))
		if f := fast.next(); f.seq() != n {
			t.Fatalf("fast client got seq %d want %d", f.seq(), n)
		}
	}
	last := n - 1
	waitFor(t, "the stalled client dropped", func() bool { return h.SlowClientsDropped() == 1 })
	// It reads only after the server has closed the connection.
	waitFor(t, "stalled client closed by the server", func() bool { return h.Clients() == 1 })
	got := readUntilClose(t, stalled)
	if got >= last {
		t.Fatalf("the stalled client got everything (%d): nothing was held back", got)
	}
	checkResume(t, ts.URL, got, last, publish, fast)
}

// TestWSStalledReplayExactResume: a client that asks for a long replay
// and does not read is dropped like a live one, with the exact seq to
// resume from.
func TestWSStalledReplayExactResume(t *testing.T) {
	src := &memSource{}
	const last = 3000
	for i := uint64(1); i <= last; i++ {
		src.evs = append(src.evs, padded(i, "", 400))
	}
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", WriteTimeout: time.Second, Source: src})
	})
	h := s.Hub()
	stalled := dialWS(t, ts.URL, "?since=0")
	waitFor(t, "the replaying client dropped", func() bool { return h.SlowClientsDropped() == 1 })
	waitFor(t, "it is closed by the server", func() bool { return h.Clients() == 0 })
	got := readUntilClose(t, stalled)
	if got >= last {
		t.Fatalf("the stalled client got everything (%d)", got)
	}
	fast := newTClient(t, ts.URL, "?since=2999")
	fast.expect("3000:<null>")
	checkResume(t, ts.URL, got, last, logged(h, src), fast)
}

// TestWSFilteredClientSurvivesBurst: a client filtered on one wallet that
// is not reading is not dropped by a burst of other wallets' events (its
// queue holds only its own), while an unfiltered one that is not reading is.
func TestWSFilteredClientSurvivesBurst(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", QueueSize: 8})
	})
	h := s.Hub()
	narrow := newTClient(t, ts.URL, "")
	narrow.register(`{"xpub":"A"}`)
	// The narrow client's reads are paused: its frames stay in its channel
	// only after the burst, because it does not read its socket until then.
	paused := dialWS(t, ts.URL, "")
	wr := `{"xpub":"A"}`
	if err := paused.WriteMessage(websocket.TextMessage, []byte(wr)); err != nil {
		t.Fatal(err)
	}
	stalled := dialWS(t, ts.URL, "")
	_ = stalled
	waitFor(t, "three clients", func() bool { return h.Clients() == 3 })
	// The paused client's register frame is applied before the burst: wait
	// until the hub has it.
	waitFor(t, "paused client filtered", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		n := 0
		for _, c := range h.clients {
			c.mu.Lock()
			if c.filter.Load() != nil {
				n++
			}
			c.mu.Unlock()
		}
		return n == 2
	})
	var seq uint64
	var mine []uint64
	for i := 0; h.SlowClientsDropped() == 0 || i < 5000; i++ {
		if i > 100000 {
			t.Fatal("unfiltered stalled client never dropped")
		}
		seq++
		w := "B"
		if i%1000 == 0 {
			w = "A"
			mine = append(mine, seq)
		}
		h.Publish(padded(seq, w, 400))
	}
	if d := h.SlowClientsDropped(); d != 1 {
		t.Fatalf("%d clients dropped, want only the unfiltered one", d)
	}
	for _, want := range mine {
		if f := narrow.next(); f.seq() != want || f.wallet() != "A" {
			t.Fatalf("narrow got %d:%s want %d:A", f.seq(), f.wallet(), want)
		}
	}
	for _, want := range mine {
		if f := readFrame(t, paused); f.seq() != want || f.wallet() != "A" {
			t.Fatalf("paused got %d:%s want %d:A", f.seq(), f.wallet(), want)
		}
	}
	seq++
	h.Publish(ev(seq, ""))
	if f := readFrame(t, paused); f.seq() != seq {
		t.Fatalf("paused client after the burst got %d", f.seq())
	}
}

func TestWSReplaySince(t *testing.T) {
	src := &memSource{}
	for i := uint64(1); i <= 1200; i++ {
		w := ""
		if i%2 == 0 {
			w = "w1"
		}
		src.evs = append(src.evs, ev(i, w))
	}
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", Source: src, QueueSize: 4096})
	})
	c := dialWS(t, ts.URL, "?since=5")
	// A live event that is also in the log must not be delivered twice.
	s.Hub().Publish(ev(1200, ""))
	for want := uint64(6); want <= 1200; want++ {
		if f := readFrame(t, c); f.seq() != want {
			t.Fatalf("got seq %d want %d", f.seq(), want)
		}
	}
	s.Hub().Publish(ev(1201, ""))
	if f := readFrame(t, c); f.seq() != 1201 {
		t.Fatalf("live after replay: got %d", f.seq())
	}
	status, body := do(t, ts, "GET", "/ws?since=abc", basic("electrum", "pa:ss"), "")
	if status != 200 || !strings.Contains(body, "-32602") {
		t.Errorf("bad since: %d %s", status, body)
	}
}

// TestWSReplayFiltered: a client that registers right after connecting
// with ?since= gets only its wallet's (and global) logged events, named as
// it registered.
func TestWSReplayFiltered(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		src := &memSource{}
		for i := uint64(1); i <= 30; i++ {
			switch i % 3 {
			case 0:
				src.evs = append(src.evs, ev(i, ""))
			case 1:
				src.evs = append(src.evs, walletEv(i, "idA", "xpubA"))
			case 2:
				src.evs = append(src.evs, walletEv(i, "idB", "xpubB"))
			}
		}
		_, ts := newTestServer(t, func(c *Config) {
			c.Hub = mk(HubConfig{Currency: "BTC", Source: src,
				Resolve: fakeResolver(map[string]string{"seedA": "idA"})})
		})
		c := dialWS(t, ts.URL, "?since=20")
		if err := c.WriteMessage(websocket.TextMessage, []byte(`{"xpub":"seedA"}`)); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"21:<null>", "22:seedA", "24:<null>", "25:seedA", "27:<null>", "28:seedA", "30:<null>"} {
			f := readFrame(t, c)
			if got := fmt.Sprintf("%d:%s", f.seq(), f.wallet()); got != want {
				t.Fatalf("got %s want %s", got, want)
			}
		}
	})
}

func TestWSShutdownSends1001(t *testing.T) {
	s, ts := newTestServer(t, nil)
	c := dialWS(t, ts.URL, "")
	waitFor(t, "client", func() bool { return s.Hub().Clients() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Errorf("want close 1001, got %v", err)
	}
	if body := dialRefused(t, ts.URL, http.Header{}); !strings.Contains(body, "-32603") {
		t.Errorf("upgrade after shutdown: %s", body)
	}
}

// TestWSKeepaliveDropsDeadClient drives the keepalive by hand (the ticker
// is an hour): a client that answers pings stays, one that does not is
// closed at the next round. No timing is involved.
func TestWSKeepaliveDropsDeadClient(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		s, ts := newTestServer(t, func(c *Config) {
			c.Hub = mk(HubConfig{Currency: "BTC", PingInterval: time.Hour})
		})
		h := s.Hub()
		alive := newTClient(t, ts.URL, "") // reads, so gorilla answers pings
		dead := dialWS(t, ts.URL, "")      // never reads, so never answers
		waitFor(t, "two clients", func() bool { return h.Clients() == 2 })
		// The keepalive state of each client, the live one first (found by
		// its address: ids follow the end of the upgrades, whose order the
		// server's goroutines decide): "queued" (a ping to send), "sent"
		// (not answered), "ok".
		aliveAddr := alive.c.LocalAddr().String()
		states := func() string {
			h.mu.Lock()
			defer h.mu.Unlock()
			cs := slices.Clone(h.clients)
			rank := func(c *client) int {
				if c.nc.RemoteAddr().String() == aliveAddr {
					return 0
				}
				return 1
			}
			slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(rank(a), rank(b)) })
			var out []string
			for _, c := range cs {
				c.mu.Lock()
				switch {
				case c.wantPing:
					out = append(out, "queued")
				case c.pingPending:
					out = append(out, "sent")
				default:
					out = append(out, "ok")
				}
				c.mu.Unlock()
			}
			return strings.Join(out, " ")
		}
		h.keepalive()
		waitFor(t, "the live client's pong, the dead one's ping sent", func() bool { return states() == "ok sent" })
		h.keepalive()
		waitFor(t, "dead client dropped, the live one's pong", func() bool { return states() == "ok" })
		for range 3 {
			h.keepalive()
			waitFor(t, "the live client's pong", func() bool { return states() == "ok" })
		}
		if n := h.Clients(); n != 1 {
			t.Fatalf("clients = %d, want the answering one kept", n)
		}
		_ = dead.SetReadDeadline(time.Now().Add(5 * time.Second))
		var ce *websocket.CloseError
		for {
			if _, _, err := dead.ReadMessage(); err != nil {
				if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || !strings.Contains(ce.Text, "pong") {
					t.Fatalf("dead client: %v", err)
				}
				break
			}
		}
		h.Publish(ev(1, ""))
		alive.expect("1:<null>")
	})
}

func TestWSOriginPolicy(t *testing.T) {
	for _, tc := range []struct {
		origins []string
		origin  string
		ok      bool
	}{
		{nil, "", true},
		{nil, "https://evil.example", false},
		{nil, "null", false},
		{[]string{"https://admin.example"}, "https://admin.example", true},
		{[]string{"https://Admin.example/"}, "https://admin.EXAMPLE", true},
		{[]string{"https://admin.example"}, "https://evil.example", false},
		{[]string{"*"}, "https://anything.example", true},
	} {
		t.Run(fmt.Sprintf("%v/%s", tc.origins, tc.origin), func(t *testing.T) {
			_, ts := newTestServer(t, func(c *Config) {
				c.Hub = NewHub(HubConfig{Currency: "BTC", Origins: tc.origins})
			})
			hdr := http.Header{}
			if tc.origin != "" {
				hdr.Set("Origin", tc.origin)
			}
			if !tc.ok {
				if body := dialRefused(t, ts.URL, hdr); !strings.Contains(body, `"code":-32600`) || !strings.Contains(body, "Origin") {
					t.Fatalf("refusal %s", body)
				}
				return
			}
			hdr.Set("Authorization", basic("electrum", "pa:ss"))
			c, _, err := websocket.DefaultDialer.Dial(wsURL(ts.URL, ""), hdr)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		})
	}
}

func TestWSMaxClients(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", MaxClients: 2})
	})
	a := dialWS(t, ts.URL, "")
	_ = dialWS(t, ts.URL, "")
	waitFor(t, "two clients", func() bool { return s.Hub().Clients() == 2 })
	body := dialRefused(t, ts.URL, http.Header{})
	if !strings.Contains(body, `"code":-32603`) || !strings.Contains(body, "too many websocket clients (limit 2)") {
		t.Fatalf("refusal %s", body)
	}
	a.Close()
	waitFor(t, "a client left", func() bool { return s.Hub().Clients() == 1 })
	_ = dialWS(t, ts.URL, "")
}

// TestWSClientCloseAnswered: a client's close frame is answered with one
// before the connection ends.
func TestWSClientCloseAnswered(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		s, ts := newTestServer(t, func(c *Config) { c.Hub = mk(HubConfig{Currency: "BTC"}) })
		c := newTClient(t, ts.URL, "")
		c.sync()
		if err := c.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye"), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		select {
		case ce := <-c.closed:
			if ce == nil || ce.Code != websocket.CloseNormalClosure {
				t.Fatalf("close reply %v", ce)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no close reply")
		}
		waitFor(t, "client removed", func() bool { return s.Hub().Clients() == 0 })
	})
}

// TestWSBlockedClientsShareOneWatcher: clients whose send queues are full
// wait for room without a goroutine each (one watcher looks at them all),
// so that a burst to many slow readers does not fill the run queue; once
// they read again they get every frame, in order.
func TestWSBlockedClientsShareOneWatcher(t *testing.T) {
	const n = 40
	s, ts := newTestServer(t, func(c *Config) { c.Hub = NewHub(HubConfig{Currency: "BTC"}) })
	h := s.Hub()
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		conns[i] = dialWS(t, ts.URL, "")
	}
	waitFor(t, "clients", func() bool { return h.Clients() == n })
	blocked := func() int {
		h.mu.Lock()
		defer h.mu.Unlock()
		k := 0
		for _, c := range h.clients {
			c.mu.Lock()
			if c.blocked && c.owner == ownerDedicated {
				k++
			}
			c.mu.Unlock()
		}
		return k
	}
	before := runtime.NumGoroutine()
	var seq uint64
	// Fewer frames than the queue bound: nobody is dropped for it.
	for seq < defaultQueueSize-24 && blocked() < n {
		seq++
		h.Publish(padded(seq, "", 1000))
	}
	waitFor(t, "every client waiting for room", func() bool { return blocked() == n })
	if grown := runtime.NumGoroutine() - before; grown >= n/2 {
		t.Fatalf("%d goroutines more while %d clients wait for room", grown, n)
	}
	for i, c := range conns {
		for want := uint64(1); want <= seq; want++ {
			if f := readFrame(t, c); f.seq() != want {
				t.Fatalf("client %d got seq %d want %d", i, f.seq(), want)
			}
		}
	}
	if d := h.SlowClientsDropped(); d != 0 {
		t.Fatalf("%d clients dropped", d)
	}
}
