package base

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func dialWS(t *testing.T, url, query string) *websocket.Conn {
	t.Helper()
	h := http.Header{"Authorization": {basic("electrum", "pa:ss")}}
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/ws"+query, h)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return c
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

func readFrame(t *testing.T, c *websocket.Conn) wireFrame {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
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

func TestWSBadAuthDoesNotUpgrade(t *testing.T) {
	_, ts := newTestServer(t, nil)
	h := http.Header{"Authorization": {basic("electrum", "wrong")}}
	_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/ws", h)
	if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
		t.Fatalf("want bad handshake, got %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"code":-32600`) || !strings.Contains(string(body), `"id":null`) {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestWSFrameShapeAndFilter(t *testing.T) {
	s, ts := newTestServer(t, nil)
	all := dialWS(t, ts.URL, "")
	narrow := dialWS(t, ts.URL, "")
	// Odd frames are ignored and do not close the socket.
	for _, m := range []string{"not json", `{"foo":1}`, `[1,2]`, `{"xpub":5}`} {
		if err := narrow.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	_ = narrow.WriteMessage(websocket.BinaryMessage, []byte{0, 1, 2})
	_ = narrow.WriteMessage(websocket.TextMessage, []byte(`{"xpub":"w1"}`))
	waitFor(t, "two clients", func() bool { return s.Hub().Clients() == 2 })
	// The filter frame is processed asynchronously: publish probes until
	// the narrow client stops receiving w2's events.
	seq := uint64(0)
	waitFor(t, "filter applied", func() bool {
		seq++
		s.Hub().Publish(ev(seq, "w2"))
		seq++
		s.Hub().Publish(ev(seq, ""))
		f := readFrame(t, narrow)
		if f.Updates[0].Seq == seq-1 {
			readFrame(t, narrow) // the global one follows
			return false
		}
		return true
	})
	for {
		f := readFrame(t, all)
		if f.Updates[0].Seq == seq {
			break
		}
	}
	seq++
	s.Hub().Publish(ev(seq, "w2"))
	seq++
	s.Hub().Publish(ev(seq, "w1"))
	seq++
	s.Hub().Publish(ev(seq, ""))
	got := readFrame(t, narrow)
	if got.Wallet == nil || *got.Wallet != "w1" || got.Updates[0].Seq != seq-1 || got.Currency != "BTC" {
		t.Errorf("narrow got %+v", got)
	}
	got = readFrame(t, narrow)
	if got.Wallet != nil || got.Updates[0].Seq != seq {
		t.Errorf("narrow global got %+v", got)
	}
	var f wireFrame
	for want := seq - 2; want <= seq; want++ {
		f = readFrame(t, all)
		if f.Updates[0].Seq != want {
			t.Errorf("all got seq %d want %d", f.Updates[0].Seq, want)
		}
	}
	if f.Wallet != nil {
		t.Errorf("global event carries wallet %v", *f.Wallet)
	}
}

func TestWSSlowClientClosedOthersContinue(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", QueueSize: 4})
	})
	slow := dialWS(t, ts.URL, "") // never reads
	fast := dialWS(t, ts.URL, "")
	waitFor(t, "two clients", func() bool { return s.Hub().Clients() == 2 })
	big := strings.Repeat("x", 64<<10)
	for i := uint64(1); s.Hub().SlowClientsDropped() == 0; i++ {
		if i > 2000 {
			t.Fatal("slow client never dropped")
		}
		s.Hub().Publish(Event{Seq: i, Payload: json.RawMessage(fmt.Sprintf(`{"event":"e","seq":%d,"pad":%q}`, i, big))})
		if f := readFrame(t, fast); f.Updates[0].Seq != i {
			t.Fatalf("fast client got seq %d want %d", f.Updates[0].Seq, i)
		}
	}
	waitFor(t, "slow client removed", func() bool { return s.Hub().Clients() == 1 })
	// The slow client eventually sees a close frame with code 1008 and a
	// reason telling it how to resume.
	_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	var closeErr *websocket.CloseError
	for {
		_, _, err := slow.ReadMessage()
		if err == nil {
			continue
		}
		if errors.As(err, &closeErr) {
			break
		}
		// The server may have closed the TCP connection before the client
		// drained its buffer; that still proves it was dropped.
		t.Logf("slow client read ended with %v", err)
		closeErr = nil
		break
	}
	if closeErr != nil && (closeErr.Code != websocket.ClosePolicyViolation || !strings.Contains(closeErr.Text, "since=")) {
		t.Errorf("close = %v", closeErr)
	}
	// The fast client keeps receiving.
	s.Hub().Publish(ev(99999, ""))
	if f := readFrame(t, fast); f.Updates[0].Seq != 99999 {
		t.Errorf("fast client after drop got %d", f.Updates[0].Seq)
	}
}

// memSource is an in-memory EventSource.
type memSource struct {
	mu  sync.Mutex
	evs []Event
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
		if f := readFrame(t, c); f.Updates[0].Seq != want {
			t.Fatalf("got seq %d want %d", f.Updates[0].Seq, want)
		}
	}
	s.Hub().Publish(ev(1201, ""))
	if f := readFrame(t, c); f.Updates[0].Seq != 1201 {
		t.Fatalf("live after replay: got %d", f.Updates[0].Seq)
	}
	status, body := do(t, ts, "GET", "/ws?since=abc", basic("electrum", "pa:ss"), "")
	if status != 200 || !strings.Contains(body, "-32602") {
		t.Errorf("bad since: %d %s", status, body)
	}
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
}

func TestWSKeepaliveDropsDeadClient(t *testing.T) {
	s, ts := newTestServer(t, func(c *Config) {
		c.Hub = NewHub(HubConfig{Currency: "BTC", PingInterval: 50 * time.Millisecond, WriteTimeout: 50 * time.Millisecond})
	})
	alive := dialWS(t, ts.URL, "")
	go func() { // reading answers pings
		for {
			if _, _, err := alive.ReadMessage(); err != nil {
				return
			}
		}
	}()
	_ = dialWS(t, ts.URL, "") // never reads, so never answers pings
	waitFor(t, "two clients", func() bool { return s.Hub().Clients() == 2 })
	waitFor(t, "dead client dropped", func() bool { return s.Hub().Clients() == 1 })
	// The live client outlives several ping periods.
	time.Sleep(300 * time.Millisecond) // a span of time is the behaviour under test here
	if n := s.Hub().Clients(); n != 1 {
		t.Errorf("clients = %d, want the answering one kept", n)
	}
}
