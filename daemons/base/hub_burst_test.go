package base

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// writerClock is a clock for the writer pool's waits: a wait does not
// sleep, it moves the clock and is recorded; onSleep runs before each, as
// a publisher in the middle of a burst would.
type writerClock struct {
	mu      sync.Mutex
	at      time.Time
	waits   []time.Duration
	onSleep func(n int) // called with the wait's number (1, 2, …)
}

func (w *writerClock) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.at
}

func (w *writerClock) sleep(d time.Duration) {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	n, f := len(w.waits), w.onSleep
	w.mu.Unlock()
	if f != nil {
		f(n)
	}
	w.mu.Lock()
	w.at = w.at.Add(d)
	w.mu.Unlock()
}

func (w *writerClock) reset(f func(int)) {
	w.mu.Lock()
	w.waits, w.onSleep = nil, f
	w.mu.Unlock()
}

func (w *writerClock) total() (time.Duration, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var sum time.Duration
	for _, d := range w.waits {
		sum += d
	}
	return sum, len(w.waits)
}

// TestWSLoneEventNotHeldForABurst: a lone event (a mempool payment's)
// goes out after one quiet step of the writer, not after the whole
// coalescing window kept for bursts (it was 2 ms of every payment's
// detection, BENCHMARKS.md round four); a burst still waits while its
// frames keep coming, at most that window, and arrives whole and in order.
func TestWSLoneEventNotHeldForABurst(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		clk := &writerClock{at: time.Unix(1e9, 0)}
		var h *Hub
		_, ts := newTestServer(t, func(c *Config) {
			h = mk(HubConfig{Currency: "BTC"})
			h.sleep, h.now = clk.sleep, clk.now
			c.Hub = h
		})
		c := newTClient(t, ts.URL, "")
		c.sync()

		clk.reset(nil)
		h.Publish(ev(1, "w"))
		c.expect("1:w")
		if sum, n := clk.total(); sum != burstQuiet || n != 1 {
			t.Fatalf("a lone event waited %v in %d steps, want one step of %v", sum, n, burstQuiet)
		}

		// A short burst: another event joins the queue during each of the
		// writer's first three waits; the fourth finds none.
		clk.reset(func(n int) {
			if n <= 3 {
				h.Publish(ev(uint64(2+n), "w"))
			}
		})
		h.Publish(ev(2, "w"))
		for i := 2; i <= 5; i++ {
			c.expect(fmt.Sprintf("%d:w", i))
		}
		if sum, n := clk.total(); n != 4 || sum != 4*burstQuiet {
			t.Fatalf("a burst of 4 waited %v in %d steps, want 4 steps of %v", sum, n, burstQuiet)
		}

		// A burst that goes on: the wait ends at coalesce.
		seq := uint64(6)
		clk.reset(func(int) {
			seq++
			h.Publish(ev(seq, "w"))
		})
		h.Publish(ev(6, "w"))
		for i := 6; i <= 7; i++ {
			c.expect(fmt.Sprintf("%d:w", i))
		}
		if sum, _ := clk.total(); sum != coalesce {
			t.Fatalf("an endless burst waited %v, want %v", sum, coalesce)
		}
	})
}
