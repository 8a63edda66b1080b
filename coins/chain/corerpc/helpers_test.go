package corerpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/coins/chain/corerpc"
	"github.com/walletd/walletd/integration/harness"
)

func jsonUnmarshal(b []byte, out any) error { return json.Unmarshal(b, out) }

// syncBuffer is a log sink safe for the backend's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// zmqWithNode drives a backend whose polling is too slow to matter (one
// minute) through ZMQ notifications from an in-test publisher, with a real
// node behind the RPC calls: a rawtx of a mempool payment is reported at
// once; a rawtx of a transaction already mined is not reported as accepted
// (rawtx also announces block transactions); hashblock makes the new block
// followed at once.
func zmqWithNode(t *testing.T, n *harness.Node) {
	pub := corerpc.NewTestPublisher(t)
	b := newBackend(t, n, func(c *corerpc.Config) {
		c.PollInterval = time.Minute
		c.ZMQ = []string{pub.Endpoint()}
	})
	ch := startBackend(t, b)
	harness.WaitFor(t, 20*time.Second, "ZMQ subscriptions", func() bool {
		return pub.Subscribed("rawtx") && pub.Subscribed("hashblock") && pub.Subscribed("sequence")
	})
	ctl := harness.Control{N: n}
	sc := ctl.NewScript(t)
	if err := b.Watch(context.Background(), [][]byte{sc}, nil); err != nil {
		t.Fatal(err)
	}
	// Mined first, announced after: not "accepted".
	mined := ctl.Fund(t, sc, 30_000)
	h := ctl.Generate(t, 1)[0]
	pub.Publish("rawtx", rawBytes(t, mined))
	pub.Publish("hashblock", h[:])
	ev := waitEvent(t, ch, "the block, at once", func(e chain.Event) bool {
		return e.Kind == chain.EventBlockConnected && e.Block.Hash == h
	})
	if len(ev.Block.Txs) != 1 {
		t.Fatalf("block has %d relevant txs", len(ev.Block.Txs))
	}
	// A mempool payment announced by rawtx.
	tx := ctl.Fund(t, sc, 31_000)
	t0 := time.Now()
	pub.Publish("rawtx", rawBytes(t, tx))
	waitEvent(t, ch, "the ZMQ-announced payment", func(e chain.Event) bool {
		if e.Kind == chain.EventTxAccepted && e.Tx.TxHash() == mined.TxHash() {
			t.Fatal("a mined transaction was reported accepted")
		}
		return e.Kind == chain.EventTxAccepted && e.Tx.TxHash() == tx.TxHash()
	})
	t.Logf("rawtx to EventTxAccepted: %v", time.Since(t0))
	// A payment announced by txid only (sequence 'A').
	tx2 := ctl.Fund(t, sc, 32_000)
	id := tx2.TxHash()
	body := make([]byte, 0, 41)
	for i := 31; i >= 0; i-- {
		body = append(body, id[i])
	}
	body = append(body, 'A', 1, 0, 0, 0, 0, 0, 0, 0)
	pub.Publish("sequence", body)
	waitEvent(t, ch, "the sequence-announced payment", isTx(id))
	ctl.Generate(t, 1)
}

func rawBytes(t *testing.T, tx interface{ Serialize(w io.Writer) error }) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := tx.Serialize(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
