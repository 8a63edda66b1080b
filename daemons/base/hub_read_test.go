package base

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// clientFrame encodes a frame as a client sends it (masked).
func clientFrame(fin bool, op int, payload []byte) []byte {
	b0 := byte(op)
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	key := []byte{0x12, 0x34, 0x56, 0x78}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i&3])
	}
	return b
}

func TestWSReaderFrames(t *testing.T) {
	big := strings.Repeat("y", 70000)
	var stream []byte
	stream = append(stream, clientFrame(true, websocket.TextMessage, []byte(`{"xpub":"a"}`))...)
	stream = append(stream, clientFrame(false, websocket.TextMessage, []byte(`{"xp`))...)
	stream = append(stream, clientFrame(true, websocket.PingMessage, []byte("p1"))...) // between fragments
	stream = append(stream, clientFrame(false, 0, []byte(`ub":`))...)
	stream = append(stream, clientFrame(true, 0, []byte(`"b"}`))...)
	stream = append(stream, clientFrame(true, websocket.BinaryMessage, []byte(strings.Repeat("x", 300)))...)
	stream = append(stream, clientFrame(true, websocket.PongMessage, nil)...)
	stream = append(stream, clientFrame(true, websocket.TextMessage, []byte(big[:60000]))...)
	stream = append(stream, clientFrame(true, websocket.CloseMessage, []byte{0x03, 0xe8, 'b', 'y', 'e'})...)
	want := []string{"1:{\"xpub\":\"a\"}", "9:p1", "1:{\"xpub\":\"b\"}", "2:300", "10:", "1:60000", "8:1000"}
	// Whole, and in pieces of every size from 1 byte.
	for _, step := range []int{len(stream), 1, 2, 3, 7, 100, 4096} {
		var r wsReader
		var got []string
		for i := 0; i < len(stream); i += step {
			chunk := append([]byte(nil), stream[i:min(i+step, len(stream))]...)
			if err := r.feed(chunk, func(ev frameEvent) bool {
				switch {
				case ev.op == websocket.CloseMessage:
					got = append(got, fmt.Sprintf("8:%d", ev.code))
				case ev.op == websocket.BinaryMessage || len(ev.payload) > 100:
					got = append(got, fmt.Sprintf("%d:%d", ev.op, len(ev.payload)))
				default:
					got = append(got, fmt.Sprintf("%d:%s", ev.op, ev.payload))
				}
				return true
			}); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("step %d: got %q want %q", step, got, want)
		}
		if len(r.partial) != 0 || len(r.msg) != 0 {
			t.Fatalf("step %d: bytes left over", step)
		}
	}
}

func TestWSReaderErrors(t *testing.T) {
	unmasked := clientFrame(true, websocket.TextMessage, []byte("hi"))
	unmasked[1] &^= 0x80
	rsv := clientFrame(true, websocket.TextMessage, []byte("hi"))
	rsv[0] |= 0x40
	for name, tc := range map[string]struct {
		stream []byte
		code   int
	}{
		"unmasked":          {unmasked, websocket.CloseProtocolError},
		"reserved bits":     {rsv, websocket.CloseProtocolError},
		"too big":           {clientFrame(true, websocket.TextMessage, make([]byte, readLimit+1)), websocket.CloseMessageTooBig},
		"too big in pieces": {append(clientFrame(false, websocket.TextMessage, make([]byte, 40000)), clientFrame(true, 0, make([]byte, 40000))...), websocket.CloseMessageTooBig},
		"long control":      {clientFrame(true, websocket.PingMessage, make([]byte, 126)), websocket.CloseProtocolError},
		"fragmented ping":   {clientFrame(false, websocket.PingMessage, nil), websocket.CloseProtocolError},
		"lone continuation": {clientFrame(true, 0, []byte("x")), websocket.CloseProtocolError},
		"unknown opcode":    {clientFrame(true, 3, nil), websocket.CloseProtocolError},
		"nested message":    {append(clientFrame(false, websocket.TextMessage, []byte("a")), clientFrame(true, websocket.TextMessage, []byte("b"))...), websocket.CloseProtocolError},
	} {
		var r wsReader
		err := r.feed(tc.stream, func(frameEvent) bool { return true })
		var fe *errFrame
		if !errors.As(err, &fe) || fe.code != tc.code {
			t.Errorf("%s: got %v, want code %d", name, err, tc.code)
		}
	}
}

// TestWSOversizedFrameClosed: a frame past the read limit closes the
// client with 1009; its register frames before it were applied.
func TestWSOversizedFrameClosed(t *testing.T) {
	eachReader(t, func(t *testing.T, mk func(HubConfig) *Hub) {
		s, ts := newTestServer(t, func(c *Config) { c.Hub = mk(HubConfig{Currency: "BTC"}) })
		c := newTClient(t, ts.URL, "")
		c.send(strings.Repeat(" ", readLimit+1))
		select {
		case ce := <-c.closed:
			if ce == nil || ce.Code != websocket.CloseMessageTooBig {
				t.Fatalf("close %v, want 1009", ce)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not closed")
		}
		waitFor(t, "client removed", func() bool { return s.Hub().Clients() == 0 })
	})
}
