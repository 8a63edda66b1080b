package corerpc

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
)

// busyServer answers busy (as Core does) while busy() says so, the
// block count otherwise, and records the most requests it held at once.
func busyServer(t *testing.T, busy func() bool, hold chan struct{}) (*httptest.Server, *atomic.Int32) {
	var in, most atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := in.Add(1)
		defer in.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		if hold != nil {
			<-hold
		}
		if busy() {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("Work queue depth exceeded"))
			return
		}
		_, _ = w.Write([]byte(`{"result":7,"error":null,"id":1}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &most
}

func testClient(t *testing.T, url string, timeout time.Duration, maxRequests int) *rpcClient {
	ep, err := parseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := newRPCClient(ep, "", nil, timeout, maxRequests)
	t.Cleanup(c.close)
	return c
}

// TestBusyAnswerAskedAgain: a node busy for its first three answers is
// asked again (the call succeeds); one busy for longer than the call
// timeout gives a transport error naming the overload, not a hang.
func TestBusyAnswerAskedAgain(t *testing.T) {
	var calls atomic.Int32
	srv, _ := busyServer(t, func() bool { return calls.Add(1) <= 3 }, nil)
	c := testClient(t, srv.URL, 5*time.Second, 2)
	var n int
	if err := c.call(context.Background(), &n, "getblockcount"); err != nil || n != 7 {
		t.Fatalf("call = %d, %v", n, err)
	}
	if got := calls.Load(); got != 4 {
		t.Fatalf("%d requests, want 4 (three busy answers, then the reply)", got)
	}

	always, _ := busyServer(t, func() bool { return true }, nil)
	c = testClient(t, always.URL, 100*time.Millisecond, 2)
	start := time.Now()
	err := c.call(context.Background(), &n, "getblockcount")
	if !errors.Is(err, chain.ErrNotConnected) || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("always busy: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("gave up after %v", took)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.call(ctx, &n, "getblockcount"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

// TestRequestsInFlightBounded: 16 callers at once never hold more than
// maxRequests requests at the node; the rest wait, and all succeed.
func TestRequestsInFlightBounded(t *testing.T) {
	hold := make(chan struct{})
	srv, most := busyServer(t, func() bool { return false }, hold)
	c := testClient(t, srv.URL, 5*time.Second, 3)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			var n int
			errs <- c.call(context.Background(), &n, "getblockcount")
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for most.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// Nothing more must arrive: give the other 13 (all started, on a
	// loopback) a moment in which an unbounded client sends them all.
	for quiet := time.Now().Add(200 * time.Millisecond); most.Load() <= 3 && time.Now().Before(quiet); {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := most.Load(); got != 3 {
		t.Fatalf("the node held %d requests at once, want 3", got)
	}
}
