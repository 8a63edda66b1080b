package corerpc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/walletd/walletd/coins/chain/corerpc"
	"github.com/walletd/walletd/integration/harness"
)

// TestBusyNodeIsWaitedFor: 32 callers at once, 20 calls each, all
// succeed against a Litecoin Core at its defaults (4 threads, a queue of
// 16: before the client kept its requests in flight at most
// MaxRequests, ~400 of the 640 failed with "Work queue depth exceeded"),
// against one with a queue of 1 and one thread (the client must ask again
// when the node answers busy anyway), and against btcd allowing 2 clients
// ("503 Too busy").
func TestBusyNodeIsWaitedFor(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *harness.Node
	}{
		{"litecoind-defaults", func(t *testing.T) *harness.Node { return harness.StartLitecoind(t) }},
		{"litecoind-queue-1", func(t *testing.T) *harness.Node {
			return harness.StartLitecoind(t, harness.WithArgs("-rpcworkqueue=1", "-rpcthreads=1"))
		}},
		{"btcd-2-clients", func(t *testing.T) *harness.Node {
			return harness.StartBtcd(t, harness.WithArgs("--rpcmaxclients=2"))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t, tc.start(t), nil)
			startBackend(t, b)
			if err := hammer(b, 32, 20); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// hammer makes callers×each Tip calls, callers at once, and returns how
// many failed and the first error.
func hammer(b *corerpc.Backend, callers, each int) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var fails int
	var first error
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, err := b.Tip(context.Background()); err != nil {
					mu.Lock()
					fails++
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if fails > 0 {
		return fmt.Errorf("%d of %d calls failed, the first: %w", fails, callers*each, first)
	}
	return nil
}
