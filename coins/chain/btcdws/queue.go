package btcdws

import (
	"context"
	"log/slog"
	"sync"

	"github.com/walletd/walletd/coins/chain"
)

// queueWarnStart is the backlog at which the queue first logs a warning; the
// threshold doubles at each warning and halves back as the backlog drains.
const queueWarnStart = 1024

// eventQueue decouples the connection's reader from the consumer: push never
// blocks (the reader must keep reading replies), pop hands events out in
// order. It is unbounded on purpose: dropping a block or payment event would
// lose money-relevant state, and the node's own send queue is unbounded too.
// It is monitored instead: a growing backlog is logged at doubling
// thresholds and exposed by Backend.Backlog.
type eventQueue struct {
	log *slog.Logger

	mu     sync.Mutex
	items  []chain.Event
	head   int
	warnAt int
	signal chan struct{}
}

func newEventQueue(log *slog.Logger) *eventQueue {
	return &eventQueue{log: log, warnAt: queueWarnStart, signal: make(chan struct{}, 1)}
}

// pushLocked appends ev; q.mu must be held.
func (q *eventQueue) pushLocked(ev chain.Event) {
	q.items = append(q.items, ev)
	if n := len(q.items) - q.head; n >= q.warnAt {
		q.log.Warn("btcdws: event consumer is falling behind", "backlog", n)
		q.warnAt *= 2
	}
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *eventQueue) push(ev chain.Event) {
	q.mu.Lock()
	q.pushLocked(ev)
	q.mu.Unlock()
}

func (q *eventQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// pop returns the oldest event, waiting for one until ctx is done.
func (q *eventQueue) pop(ctx context.Context) (chain.Event, bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			ev := q.items[q.head]
			q.items[q.head] = chain.Event{}
			q.head++
			n := len(q.items) - q.head
			if n == 0 {
				q.items, q.head = q.items[:0], 0
			} else if q.head > 4096 && q.head > n {
				// Compact so a long-lived backlog does not pin
				// the consumed prefix.
				q.items = append([]chain.Event(nil), q.items[q.head:]...)
				q.head = 0
			}
			if n < q.warnAt/4 && q.warnAt > queueWarnStart {
				q.warnAt /= 2
			}
			q.mu.Unlock()
			return ev, true
		}
		q.mu.Unlock()
		select {
		case <-q.signal:
		case <-ctx.Done():
			return chain.Event{}, false
		}
	}
}
