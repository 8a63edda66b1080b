package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer reads requests from the pipe and lets the test answer.
type fakeServer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func pair(t *testing.T, opts Options) (*Conn, *fakeServer) {
	a, b := net.Pipe()
	c := New(a, opts)
	t.Cleanup(func() { c.Close(nil); b.Close() })
	return c, &fakeServer{t: t, conn: b, r: bufio.NewReader(b)}
}

type req struct {
	ID     uint64          `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
}

func (s *fakeServer) read() req {
	s.t.Helper()
	line, err := s.r.ReadBytes('\n')
	if err != nil {
		s.t.Fatalf("server read: %v", err)
	}
	var r req
	if err := json.Unmarshal(line, &r); err != nil {
		s.t.Fatalf("server got %q: %v", line, err)
	}
	return r
}

func (s *fakeServer) send(line string) {
	s.t.Helper()
	if _, err := s.conn.Write([]byte(line + "\n")); err != nil {
		s.t.Fatalf("server write: %v", err)
	}
}

// goSend is send for another goroutine than the test's: a failed write is
// reported with Errorf (FailNow must run on the test's goroutine).
func (s *fakeServer) goSend(line string) {
	if _, err := s.conn.Write([]byte(line + "\n")); err != nil {
		s.t.Errorf("server write: %v", err)
	}
}

func TestRepliesOutOfOrderAndNotificationsInOrder(t *testing.T) {
	var mu sync.Mutex
	var notes []string
	c, s := pair(t, Options{OnNotify: func(n Notification) {
		mu.Lock()
		notes = append(notes, n.Method+string(n.Params))
		mu.Unlock()
	}})
	a := c.Go("first", 1)
	b := c.Go("second", "x", true)
	ra, rb := s.read(), s.read()
	if ra.Method != "first" || string(ra.Params) != "[1]" || rb.Method != "second" || string(rb.Params) != `["x",true]` {
		t.Fatalf("requests %+v %+v", ra, rb)
	}
	s.send(`{"jsonrpc":"2.0","method":"n","params":[1]}`)
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":"B"}`, rb.ID))
	s.send(`[{"jsonrpc":"2.0","method":"n","params":[2]},{"jsonrpc":"2.0","method":"n","params":[3]}]`)
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"error":{"code":1,"message":"nope"}}`, ra.ID))
	ctx := context.Background()
	var got string
	if err := b.Wait(ctx, &got); err != nil || got != "B" {
		t.Fatalf("second = %q, %v", got, err)
	}
	var se *Error
	if err := a.Wait(ctx, nil); !errors.As(err, &se) || se.Code != 1 || se.Message != "nope" {
		t.Fatalf("first = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(notes, ",") != "n[1],n[2],n[3]" {
		t.Fatalf("notifications %v", notes)
	}
}

func TestCloseFailsPendingCalls(t *testing.T) {
	c, s := pair(t, Options{})
	call := c.Go("m")
	s.read()
	s.conn.Close()
	err := call.Wait(context.Background(), nil)
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("pending call after the server left: %v", err)
	}
	<-c.Done()
	if c.Err() == nil {
		t.Fatal("no reason recorded")
	}
	if err := c.Call(context.Background(), nil, "again"); !errors.Is(err, ErrClosed) {
		t.Fatalf("call on a closed connection: %v", err)
	}
}

func TestAbandonedCallAndLateReply(t *testing.T) {
	c, s := pair(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Call(ctx, nil, "slow") }()
	r := s.read()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("abandoned call: %v", err)
	}
	// Its reply arrives late: dropped, the connection lives on.
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":1}`, r.ID))
	next := c.Go("next")
	r = s.read()
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":2}`, r.ID))
	var v int
	if err := next.Wait(context.Background(), &v); err != nil || v != 2 {
		t.Fatalf("next = %d, %v", v, err)
	}
	if n := c.Pending(); n != 0 {
		t.Fatalf("%d calls left pending", n)
	}
}

func TestProtocolViolationsClose(t *testing.T) {
	for name, line := range map[string]string{
		"not json":        `{"jsonrpc":`,
		"foreign id":      `{"jsonrpc":"2.0","id":"abc","result":1}`,
		"no id no method": `{"jsonrpc":"2.0","result":1}`,
		"too long":        `{"jsonrpc":"2.0","method":"n","params":["` + strings.Repeat("x", 300) + `"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			c, s := pair(t, Options{MaxMessage: 200})
			call := c.Go("m")
			s.read()
			go s.goSend(line)
			if err := call.Wait(context.Background(), nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("call after %s: %v", name, err)
			}
		})
	}
}

func TestLongMessageWithinLimit(t *testing.T) {
	c, s := pair(t, Options{})
	call := c.Go("big")
	r := s.read()
	big := strings.Repeat("ab", 200_000) // beyond bufio's buffer
	go s.goSend(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"result":"%s"}`, r.ID, big))
	var got string
	if err := call.Wait(context.Background(), &got); err != nil || got != big {
		t.Fatalf("big reply: %d bytes, %v", len(got), err)
	}
}

// TestOnErrorBeforeClose: an error reply followed at once by the server
// closing the session (ElectrumX after "excessive resource usage") is seen
// by OnError before the connection counts as closed, even though the call
// it answers is never waited for.
func TestOnErrorBeforeClose(t *testing.T) {
	var mu sync.Mutex
	var seen []int
	c, s := pair(t, Options{OnError: func(e *Error) {
		mu.Lock()
		seen = append(seen, e.Code)
		mu.Unlock()
	}})
	c.Go("m")
	r := s.read()
	s.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"error":{"code":-101,"message":"excessive resource usage"}}`, r.ID))
	s.conn.Close()
	<-c.Done()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 || seen[0] != -101 {
		t.Fatalf("OnError saw %v, want the -101 before the close", seen)
	}
}
