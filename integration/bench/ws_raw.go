//go:build linux

package main

// The websocket benchmark's many clients, made as cheap as they can be
// while every frame of every client is still checked. In a merchant's
// deployment the clients are on other machines; here they share the two
// cores with the daemon they measure, so they must take as little CPU as
// possible, and what they take is measured apart (the reading thread's own
// CPU clock) so that a change to the tool is not read as one to the daemon.
//
// One goroutine, locked to an OS thread of its own, reads every client
// through epoll (level-triggered: one read per readiness, whatever is
// there), appends the bytes to the client's log and only finds the frame
// boundaries (a 2–10 byte header each); it answers pings. Everything else —
// each frame's seq, order, completeness and content, compared byte for byte
// with the reference client's frame of the same seq — is checked after the
// burst, from the log (rawWS.frames).

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// rawFrame is one text frame in a client's log.
type rawFrame struct {
	start int           // offset of its header
	off   int           // offset of its payload
	n     int           // payload length
	at    time.Duration // when the read that completed it returned (since the run's base)
}

// rawWS is one client read by the rawHub.
type rawWS struct {
	fd  int
	key int32 // the wallet it filters on, -1 none

	mu        sync.Mutex
	log       []byte // bytes received since the last check (compact)
	next      int    // offset of the first byte not yet parsed as a whole frame
	frames    []rawFrame
	pongs     int
	closeCode int    // the close frame's code, once one came
	closeText string // and its reason
	gone      bool   // closed (by either side); fd no longer valid
	bad       string // the first protocol error
}

// rawHub reads every rawWS on one OS thread.
type rawHub struct {
	base time.Time
	ep   int
	stop [2]int // a pipe: closing its write end stops the reader
	nice int

	mu      sync.Mutex
	clients []*rawWS // by id (the epoll event's data)

	tid   int
	ready chan struct{}
	done  chan struct{}
}

// newRawHub starts the reader thread; nice, when not 0, is its scheduling
// priority.
func newRawHub(base time.Time, nice int) (*rawHub, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	h := &rawHub{base: base, ep: ep, nice: nice, ready: make(chan struct{}), done: make(chan struct{})}
	if err := syscall.Pipe2(h.stop[:], syscall.O_CLOEXEC); err != nil {
		_ = syscall.Close(ep)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: -1}
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, h.stop[0], &ev); err != nil {
		return nil, err
	}
	errc := make(chan error, 1)
	go h.run(errc)
	<-h.ready
	return h, <-errc
}

// run is the reader thread.
func (h *rawHub) run(errc chan<- error) {
	defer close(h.done)
	// Never unlocked: the thread ends with the goroutine.
	runtime.LockOSThread()
	h.tid = syscall.Gettid()
	var err error
	if h.nice != 0 {
		err = syscall.Setpriority(syscall.PRIO_PROCESS, h.tid, h.nice)
	}
	errc <- err
	close(h.ready)
	if err != nil {
		return
	}
	evs := make([]syscall.EpollEvent, 512)
	buf := make([]byte, 256<<10)
	var batch []*rawWS
	for {
		n, err := syscall.EpollWait(h.ep, evs, -1)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		batch = batch[:0]
		h.mu.Lock()
		for _, ev := range evs[:n] {
			if ev.Fd < 0 {
				h.mu.Unlock()
				return
			}
			batch = append(batch, h.clients[ev.Fd])
		}
		h.mu.Unlock()
		for _, c := range batch {
			c.readOnce(buf, h.base)
		}
	}
}

// CPU returns the reader thread's CPU time.
func (h *rawHub) CPU() time.Duration {
	// The thread's CPU clock (pthread_getcpuclockid on Linux: the
	// thread id, inverted, shifted, with CPUCLOCK_SCHED and the
	// per-thread bit).
	clock := (^uintptr(h.tid) << 3) | 6
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return -1
	}
	return time.Duration(ts.Nano())
}

// Close stops the reader and closes every client.
func (h *rawHub) Close() {
	_ = syscall.Close(h.stop[1])
	<-h.done
	h.mu.Lock()
	clients := h.clients
	h.mu.Unlock()
	for _, c := range clients {
		c.close()
	}
	_ = syscall.Close(h.stop[0])
	_ = syscall.Close(h.ep)
}

// dial connects a client to the /ws endpoint at addr (host:port) with the
// Authorization header auth; key ≥ 0 sends a register frame for name and
// waits for the daemon to apply it (a ping answered after it).
func (h *rawHub) dial(addr, auth string, key int32, name string) (*rawWS, error) {
	ta, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	c := &rawWS{fd: fd, key: key}
	ok := false
	defer func() {
		if !ok {
			_ = syscall.Close(fd)
		}
	}()
	sa := &syscall.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())
	if err := syscall.Connect(fd, sa); err != nil {
		return nil, err
	}
	_ = syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	tv := syscall.NsecToTimeval(int64(30 * time.Second))
	_ = syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv)
	if err := c.handshake(addr, auth); err != nil {
		return nil, err
	}
	if key >= 0 {
		reg := append(append([]byte(`{"xpub":"`), name...), `"}`...)
		if err := writeAll(fd, append(clientFrame(0x1, reg), clientFrame(0x9, []byte("sync"))...)); err != nil {
			return nil, err
		}
		buf := make([]byte, 4096)
		for c.pongs == 0 {
			n, err := syscall.Read(fd, buf)
			if n <= 0 {
				return nil, fmt.Errorf("a client's register frame was not answered: %v", err)
			}
			c.log = append(c.log, buf[:n]...)
			c.parse(time.Since(h.base))
			if c.bad != "" || c.gone {
				return nil, fmt.Errorf("registering: %s (close %d %q)", c.bad, c.closeCode, c.closeText)
			}
		}
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	h.mu.Lock()
	id := len(h.clients)
	h.clients = append(h.clients, c)
	h.mu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(id)}
	if err := syscall.EpollCtl(h.ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return nil, err
	}
	ok = true
	return c, nil
}

// handshake sends the upgrade request and reads the 101 answer; bytes
// after it are the first of the log.
func (c *rawWS) handshake(addr, auth string) error {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\nAuthorization: " + auth + "\r\n\r\n"
	if err := writeAll(c.fd, []byte(req)); err != nil {
		return err
	}
	var resp []byte
	buf := make([]byte, 1024)
	for {
		n, err := syscall.Read(c.fd, buf)
		if n <= 0 {
			return fmt.Errorf("websocket handshake: %v (got %q)", err, resp)
		}
		resp = append(resp, buf[:n]...)
		if i := bytes.Index(resp, []byte("\r\n\r\n")); i >= 0 {
			c.log = append(c.log, resp[i+4:]...)
			resp = resp[:i+4]
			break
		}
	}
	r, err := httpResponse(resp)
	if err != nil {
		return err
	}
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if r.status != 101 || r.accept != base64.StdEncoding.EncodeToString(sum[:]) {
		return fmt.Errorf("websocket handshake refused: %.300s", resp)
	}
	return nil
}

type upgradeResp struct {
	status int
	accept string
}

func httpResponse(b []byte) (upgradeResp, error) {
	var r upgradeResp
	sc := bufio.NewScanner(bytes.NewReader(b))
	if !sc.Scan() {
		return r, errors.New("empty handshake answer")
	}
	if _, err := fmt.Sscanf(sc.Text(), "HTTP/1.1 %d", &r.status); err != nil {
		return r, fmt.Errorf("handshake answer %q", sc.Text())
	}
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.EqualFold(k, "Sec-WebSocket-Accept") {
			r.accept = strings.TrimSpace(v)
		}
	}
	return r, nil
}

// clientFrame encodes a masked, final client frame (RFC 6455 §5.3).
func clientFrame(op byte, payload []byte) []byte {
	b := []byte{0x80 | op}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, p := range payload {
		b = append(b, p^mask[i%4])
	}
	return b
}

func writeAll(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readOnce makes one read of whatever the socket has (the reader thread).
func (c *rawWS) readOnce(buf []byte, base time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return
	}
	n, err := syscall.Read(c.fd, buf)
	switch {
	case err == syscall.EAGAIN || err == syscall.EINTR:
		return
	case n <= 0:
		if c.closeCode == 0 && c.bad == "" {
			c.bad = fmt.Sprintf("connection ended without a close frame: %v", err)
		}
		c.closeLocked()
		return
	}
	c.log = append(c.log, buf[:n]...)
	c.parse(time.Since(base))
}

// parse finds the whole frames after c.next. c.mu is held (or c is not
// yet shared).
func (c *rawWS) parse(at time.Duration) {
	for {
		b := c.log[c.next:]
		if len(b) < 2 {
			return
		}
		h, n := 2, int(b[1]&0x7f)
		switch n {
		case 126:
			if len(b) < 4 {
				return
			}
			h, n = 4, int(binary.BigEndian.Uint16(b[2:]))
		case 127:
			if len(b) < 10 {
				return
			}
			h, n = 10, int(binary.BigEndian.Uint64(b[2:]))
		}
		if len(b) < h+n {
			return
		}
		payload := b[h : h+n]
		fin, op := b[0]&0x80 != 0, b[0]&0x0f
		switch {
		case b[1]&0x80 != 0:
			c.flag("a masked frame from the server")
		case op == 0x1 && fin:
			c.frames = append(c.frames, rawFrame{start: c.next, off: c.next + h, n: n, at: at})
		case op == 0x9:
			if c.fd >= 0 && !c.gone {
				if err := writeAll(c.fd, clientFrame(0xA, payload)); err != nil && err != syscall.EAGAIN {
					c.flag("pong: " + err.Error())
				}
			}
		case op == 0xA:
			c.pongs++
		case op == 0x8:
			if len(payload) >= 2 {
				c.closeCode, c.closeText = int(binary.BigEndian.Uint16(payload)), string(payload[2:])
			} else {
				c.closeCode = 1005
			}
		default:
			c.flag(fmt.Sprintf("unexpected frame: opcode %d, final %v", op, fin))
		}
		c.next += h + n
	}
}

func (c *rawWS) flag(s string) {
	if c.bad == "" {
		c.bad = s
	}
}

// close closes the client's socket (idempotent).
func (c *rawWS) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

// closeLocked closes the socket (closing it removes it from epoll).
func (c *rawWS) closeLocked() {
	if !c.gone {
		c.gone = true
		_ = syscall.Close(c.fd)
	}
}

// count returns the text frames received since the last drop.
func (c *rawWS) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// state returns why the client cannot receive more ("" while it can).
func (c *rawWS) state() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.bad != "":
		return c.bad
	case c.closeCode != 0:
		return fmt.Sprintf("closed by the daemon: %d %q", c.closeCode, c.closeText)
	case c.gone:
		return "connection closed"
	}
	return ""
}

// take calls fn with the first k frames (payload and arrival) and then
// forgets them, keeping the rest of the log.
func (c *rawWS) take(k int, fn func(payload []byte, at time.Duration) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k > len(c.frames) {
		return fmt.Errorf("%d frames, not %d", len(c.frames), k)
	}
	for _, f := range c.frames[:k] {
		if err := fn(c.log[f.off:f.off+f.n], f.at); err != nil {
			return err
		}
	}
	// Keep from the first frame not taken (or the unparsed rest).
	cut := c.next
	if k < len(c.frames) {
		cut = c.frames[k].start
	}
	c.log = c.log[:copy(c.log, c.log[cut:])]
	c.next -= cut
	rest := c.frames[:copy(c.frames, c.frames[k:])]
	for i := range rest {
		rest[i].start -= cut
		rest[i].off -= cut
	}
	c.frames = rest
	return nil
}
