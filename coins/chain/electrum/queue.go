package electrum

import (
	"context"
	"sync"

	"github.com/walletd/walletd/coins/chain"
)

// fifo hands events to the consumer in order without ever blocking the
// producer: a consumer that falls behind makes it grow (Backlog reports
// it); dropping a block or payment event would lose state.
type fifo struct {
	mu    sync.Mutex
	items []chain.Event
	more  chan struct{} // signalled on push
}

func newFIFO() *fifo { return &fifo{more: make(chan struct{}, 1)} }

func (f *fifo) push(evs ...chain.Event) {
	if len(evs) == 0 {
		return
	}
	f.mu.Lock()
	f.items = append(f.items, evs...)
	f.mu.Unlock()
	select {
	case f.more <- struct{}{}:
	default:
	}
}

func (f *fifo) size() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

// run moves events to out until ctx ends.
func (f *fifo) run(ctx context.Context, out chan<- chain.Event) {
	for {
		f.mu.Lock()
		batch := f.items
		f.items = nil
		f.mu.Unlock()
		for i, ev := range batch {
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
			batch[i] = chain.Event{}
		}
		if len(batch) > 0 {
			continue
		}
		select {
		case <-f.more:
		case <-ctx.Done():
			return
		}
	}
}
