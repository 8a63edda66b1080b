package btcdws

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/walletd/walletd/coins/chain"
	"github.com/walletd/walletd/integration/harness"
)

// BenchmarkColdLookups measures, on a real btcd (--addrindex), the shapes
// in which a new wallet's first load can ask the node about its 30 unused
// addresses: watch them (loadtxfilter) and look each up
// (searchrawtransactions). Each iteration uses 30 fresh addresses.
//
//	go test -run '^$' -bench ColdLookups ./coins/chain/btcdws/
//
// btcd runs the calls of a JSON-RPC batch one after the other on the
// connection's reader, and separate requests each on a goroutine of their
// own (at most 20 at once), so "pipelined" can use both cores of the node
// where "batch" uses one.
func BenchmarkColdLookups(b *testing.B) {
	n := harness.StartBtcd(b)
	n.Generate(101)
	be, err := New(Config{URL: n.WSURL(), Params: n.Params(), ReconnectMin: 20 * time.Millisecond,
		ReconnectMax: 500 * time.Millisecond, CallTimeout: 20 * time.Second}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	events, err := be.Start(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for ev := range events {
		if ev.Kind == chain.EventConnected {
			break
		}
	}
	go func() {
		for range events {
		}
	}()
	ctx := context.Background()
	fresh := func() ([][]byte, []string) {
		scripts := make([][]byte, 30)
		addrs := make([]string, 30)
		for i := range scripts {
			s := make([]byte, 22)
			s[1] = 0x14 // p2wpkh of 20 random bytes
			_, _ = rand.Read(s[2:])
			scripts[i] = s
			if addrs[i], err = be.addressOf(s); err != nil {
				b.Fatal(err)
			}
		}
		return scripts, addrs
	}
	lookup := func(a string, count int) map[string]any {
		return map[string]any{"jsonrpc": "2.0", "method": "searchrawtransactions", "params": []any{a, 1, 0, count, 0, false}}
	}
	filter := func(addrs []string) map[string]any {
		return map[string]any{"jsonrpc": "2.0", "method": "loadtxfilter", "params": []any{false, addrs, []jsonOutPoint{}}}
	}
	shapes := []struct {
		name string
		run  func(scripts [][]byte, addrs []string) error
	}{
		{"Watch+History/two-round-trips", func(scripts [][]byte, _ []string) error {
			if err := be.Watch(ctx, scripts, nil); err != nil {
				return err
			}
			_, err := be.History(ctx, scripts)
			return err
		}},
		{"WatchHistory/one-batch", func(scripts [][]byte, _ []string) error {
			_, err := be.WatchHistory(ctx, scripts)
			return err
		}},
		{"batch/count=500", func(_ [][]byte, addrs []string) error {
			msg := []any{filter(addrs)}
			for _, a := range addrs {
				msg = append(msg, lookup(a, 500))
			}
			return sendAndWait(be, [][]any{msg}, false)
		}},
		{"pipelined/count=16", func(_ [][]byte, addrs []string) error {
			// The filter as a batch (run before the next message is
			// read), then 30 separate requests.
			msgs := [][]any{{filter(addrs)}}
			for _, a := range addrs {
				msgs = append(msgs, []any{lookup(a, 16)})
			}
			return sendAndWait(be, msgs, true)
		}},
	}
	for _, s := range shapes {
		b.Run(s.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				scripts, addrs := fresh()
				b.StartTimer()
				if err := s.run(scripts, addrs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sendAndWait writes msgs on be's connection, back to back, each a batch
// (singles: a message of one call is sent as a plain request), and waits
// for every reply.
func sendAndWait(be *Backend, msgs [][]any, singles bool) error {
	c, err := be.readyConn()
	if err != nil {
		return err
	}
	var chans []chan response
	c.mu.Lock()
	for _, m := range msgs {
		for _, it := range m {
			c.nextID++
			ch := make(chan response, 1)
			c.pending[c.nextID] = ch
			chans = append(chans, ch)
			it.(map[string]any)["id"] = c.nextID
		}
	}
	c.mu.Unlock()
	c.writeMu.Lock()
	for i, m := range msgs {
		var v any = m
		if singles && i > 0 && len(m) == 1 {
			v = m[0]
		}
		frame, err := json.Marshal(v)
		if err == nil {
			err = c.ws.WriteMessage(websocket.TextMessage, frame)
		}
		if err != nil {
			c.writeMu.Unlock()
			return err
		}
	}
	c.writeMu.Unlock()
	for _, ch := range chans {
		if r := <-ch; r.err != nil {
			if code, ok := rpcCode(r.err); !ok || code != codeNoInfo {
				return r.err
			}
		}
	}
	return nil
}
