package base

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"

	"github.com/gorilla/websocket"
)

// Reading clients. After the upgrade the hub reads the socket itself, so
// that an idle client needs no goroutine: on Linux one epoll instance waits
// for every client (hub_epoll_linux.go) and a short-lived goroutine reads a
// client that has data; elsewhere each client has a reading goroutine. Both
// feed the same frame parser, wsReader.

// wsReader parses the frames a client sends (RFC 6455 §5: masked, maybe
// fragmented, control frames interleaved). It holds bytes only while a
// frame or a fragmented message is incomplete.
type wsReader struct {
	partial []byte // the start of a frame not yet complete
	msg     []byte // the fragments of a data message so far
	msgOp   int8   // that message's opcode (0: none)
}

// frameEvent is what a complete frame means to the hub.
type frameEvent struct {
	op      int    // websocket.TextMessage, BinaryMessage, PingMessage, PongMessage, CloseMessage
	payload []byte // valid until the next feed
	code    int    // a close frame's code
}

// errFrame is a protocol violation: the client is closed with code.
type errFrame struct {
	code   int
	reason string
}

func (e *errFrame) Error() string { return e.reason }

// feed parses data, calling on for each complete frame (a data message
// once whole), until on returns false or data ends. Bytes of an incomplete
// frame are kept, growing as more arrive, so a frame that trickles in costs
// linear time.
func (r *wsReader) feed(data []byte, on func(frameEvent) bool) error {
	buf := data
	if len(r.partial) > 0 {
		r.partial = append(r.partial, data...)
		buf = r.partial
	}
	done := 0
	for done < len(buf) {
		n, ev, ok, err := r.next(buf[done:])
		if err != nil {
			r.partial = nil
			return err
		}
		if !ok {
			break
		}
		done += n
		if ev.op != 0 && !on(ev) {
			r.partial = nil
			return nil
		}
	}
	rest := buf[done:]
	switch {
	case len(rest) == 0:
		r.partial = nil
	case len(r.partial) == 0:
		r.partial = append(make([]byte, 0, max(len(rest), 256)), rest...)
	case done > 0:
		r.partial = append(r.partial[:0], rest...)
	}
	return nil
}

// next parses one frame at the start of b: the bytes it took, its event
// (op 0 for a fragment that does not end its message), and ok false when b
// does not hold the whole frame yet.
func (r *wsReader) next(b []byte) (int, frameEvent, bool, error) {
	var ev frameEvent
	if len(b) < 2 {
		return 0, ev, false, nil
	}
	fin, rsv, op := b[0]&0x80 != 0, b[0]&0x70, int(b[0]&0x0f)
	masked, n := b[1]&0x80 != 0, uint64(b[1]&0x7f)
	h := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, ev, false, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, ev, false, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
	}
	switch {
	case rsv != 0:
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "reserved bits set"}
	case !masked:
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "client frames must be masked"}
	case n > readLimit || uint64(len(r.msg))+n > readLimit:
		return 0, ev, false, &errFrame{websocket.CloseMessageTooBig, "frame too large"}
	}
	control := op >= 8
	switch {
	case control && (!fin || n > 125):
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "bad control frame"}
	case op > websocket.BinaryMessage && !control, op > websocket.PongMessage:
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "unknown opcode"}
	case op == 0 && r.msgOp == 0:
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "continuation without a message"}
	case (op == websocket.TextMessage || op == websocket.BinaryMessage) && r.msgOp != 0:
		return 0, ev, false, &errFrame{websocket.CloseProtocolError, "new message inside a fragmented one"}
	}
	total := h + 4 + int(n)
	if len(b) < total {
		return 0, ev, false, nil
	}
	key := b[h : h+4]
	payload := b[h+4 : total]
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	if control {
		ev.op, ev.payload = op, payload
		if op == websocket.CloseMessage {
			ev.code = websocket.CloseNoStatusReceived
			if len(payload) >= 2 {
				ev.code = int(binary.BigEndian.Uint16(payload))
			}
		}
		return total, ev, true, nil
	}
	if op != 0 {
		r.msgOp = int8(op)
	}
	if fin && len(r.msg) == 0 {
		ev.op, ev.payload, r.msgOp = op, payload, 0
		return total, ev, true, nil
	}
	r.msg = append(r.msg, payload...)
	if fin {
		ev.op, ev.payload = int(r.msgOp), r.msg
		r.msg, r.msgOp = nil, 0
	}
	return total, ev, true, nil
}

// readBufs are the buffers reads go into.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}

// handle applies one frame of c; false means stop reading (the client is
// closing).
func (h *Hub) handle(c *client, ev frameEvent) bool {
	switch ev.op {
	case websocket.TextMessage:
		h.register(c, ev.payload)
	case websocket.PingMessage:
		c.mu.Lock()
		c.pong, c.hasPong = append([]byte(nil), ev.payload...), true
		c.schedule()
		c.mu.Unlock()
	case websocket.PongMessage:
		c.mu.Lock()
		c.pingPending = false
		c.mu.Unlock()
	case websocket.CloseMessage:
		code := ev.code
		if code == websocket.CloseNoStatusReceived {
			code = websocket.CloseNormalClosure
		}
		c.mu.Lock()
		c.peerClosed = true
		c.startClose(code, "", false)
		c.mu.Unlock()
		return false
	}
	c.mu.Lock()
	if c.first != nil && !c.sawFirst {
		c.sawFirst = true
		close(c.first)
	}
	c.mu.Unlock()
	return true
}

// consume feeds read bytes to c's parser; false means stop reading.
func (h *Hub) consume(c *client, data []byte) bool {
	more := true
	err := c.rd.feed(data, func(ev frameEvent) bool {
		more = h.handle(c, ev)
		return more
	})
	var fe *errFrame
	if errors.As(err, &fe) {
		c.mu.Lock()
		c.startClose(fe.code, fe.reason, false)
		c.mu.Unlock()
		return false
	}
	return more
}

// readLoop is the reading goroutine of a client where the hub has no
// poller: it reads until the client closes or the connection fails.
func (h *Hub) readLoop(c *client) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for {
		n, err := c.nc.Read(*bp)
		if n > 0 && !h.consume(c, (*bp)[:n]) {
			return // the writer ends the connection after the close frame
		}
		if err != nil {
			c.readFailed(err)
			return
		}
	}
}

// readFailed ends a client whose socket cannot be read any more (unless
// the client had closed properly and its close reply is on its way).
func (c *client) readFailed(err error) {
	c.mu.Lock()
	closing := c.peerClosed
	c.mu.Unlock()
	if !closing || !errors.Is(err, io.EOF) {
		c.terminate()
	}
}
