package base

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// The hub writes its frames itself, on the raw connection, rather than
// through gorilla's writer: it batches a client's frames into one write,
// and it keeps each socket's send queue under half its buffer, so that the
// seq named to a dropped client is exact (every frame up to it was written
// whole) and its close frame always fits right after them.

const (
	// maxBatchBytes bounds one write of a client's frames.
	maxBatchBytes = 32 << 10
	// poolWriteWait is how long a pool writer waits on a socket that
	// does not take a batch at once before handing the rest to a
	// goroutine of the client's own.
	poolWriteWait = time.Millisecond
	// coalesce is how long at most a client's first queued frame waits
	// for the pool, so that the frames of one block (published one after
	// the other) go out in a few writes rather than one write each.
	coalesce = 2 * time.Millisecond
	// burstQuiet: the wait ends as soon as no frame joined the client's
	// queue for this long, so that a lone event (a mempool payment's) is
	// not held the whole of coalesce for a burst that is not coming. The
	// writer yields the processor meanwhile rather than sleeping: the
	// runtime sleeps at least a millisecond on an idle processor.
	burstQuiet = 100 * time.Microsecond
)

// Who writes to a client's socket: nobody, the writer pool (the client is
// in the run queue or being written), or a goroutine of its own (a replay,
// or the rest of a batch the socket did not take at once).
const (
	ownerNone uint8 = iota
	ownerPool
	ownerDedicated
)

// wsFrame is an encoded websocket frame (header and payload), shared by
// every client it is queued for.
type wsFrame struct{ b []byte }

// qent is a queued frame and its event's seq.
type qent struct {
	f   *wsFrame
	seq uint64
}

// qseg is a run of a client's queued frames. A shared run (a batch's
// public frames, queued whole for every client that takes them all) is
// read only: a block's burst costs each unfiltered client one qseg, not
// one qent per event. A client's own run may grow at its end and is
// cleared as it is taken.
type qseg struct {
	e      []qent
	shared bool
}

// closeReq is a close frame the hub decided to send.
type closeReq struct {
	code   int
	reason string
	resume bool // the reason names the seq to resume from
	slow   bool // counted in SlowClientsDropped
}

// client is one websocket connection.
type client struct {
	h      *Hub
	id     uint64                 // unique in the hub, never 0
	nc     net.Conn               // the connection, after the upgrade (closed through it)
	wc     net.Conn               // where frames are written: nc's TCP socket when it has one, else nc
	raw    syscall.RawConn        // its descriptor, for the poller
	fd     int                    // the descriptor, while polled
	polled bool                   // the poller watches it (else a goroutine reads it)
	first  chan struct{}          // closed at the client's first frame; only while a replay waits for it
	rd     wsReader               // read side: used by one reader at a time
	filter atomic.Pointer[filter] // nil: every wallet

	mu          sync.Mutex
	idx         int    // index in h.clients (under h.mu)
	live        bool   // Publish queues for it (false during the first pass of a replay)
	q           []qseg // frames not yet handed to a writer: q[qs].e[qh:], then the later runs
	qs, qh      int
	qn          int  // how many
	qBytes      int  // their size
	sentBound   int  // at least the bytes in the socket's send queue: what it held when last asked, plus the pool's writes since
	boundOK     bool // sentBound holds: only the pool has written since it asked (cleared when another goroutine takes the socket)
	owner       uint8
	blocked     bool         // its socket is backed up; a goroutine waits on it
	sendLimit   int          // bytes the hub lets its send queue hold (0: unknown)
	progress    atomic.Int64 // when its socket last took bytes (Unix ns)
	queuedAt    time.Time    // when it last joined the run queue
	pos         uint64       // every event up to this seq meant for it has been written whole
	wantPing    bool
	pingPending bool   // a ping went into a write and no pong came since
	pong        []byte // payload of a pong to send
	hasPong     bool
	sawFirst    bool
	peerClosed  bool // the client sent its close frame
	closing     *closeReq
	done        bool
}

// filter is a client's wallet filter: its events come only for wallet id,
// named name. An empty id matches no wallet (only global events).
type filter struct {
	id   string
	name string
}

// admits reports whether a client filtering on f wants ev.
func (f *filter) admits(ev Event) bool {
	id := ev.walletID()
	return f == nil || id == "" || (f.id != "" && f.id == id)
}

// renderer encodes one event's frames, once per distinct wallet name.
type renderer struct {
	h      *Hub
	ev     Event
	public *wsFrame
	named  map[string]*wsFrame
}

// frame returns the event's frame for a client filtering on f.
func (r *renderer) frame(f *filter) *wsFrame {
	if f == nil || r.ev.walletID() == "" || f.name == r.ev.Wallet {
		if r.public == nil {
			r.public = r.h.encode(r.ev, r.ev.Wallet)
		}
		return r.public
	}
	if fr := r.named[f.name]; fr != nil {
		return fr
	}
	if r.named == nil {
		r.named = map[string]*wsFrame{}
	}
	fr := r.h.encode(r.ev, f.name)
	r.named[f.name] = fr
	return fr
}

// encode renders the frame of contract.md §7 for ev, naming the wallet
// name (null when "").
func (h *Hub) encode(ev Event, name string) *wsFrame {
	wallet := walletJSON(name)
	return &wsFrame{b: h.appendFrame(make([]byte, 0, h.frameSize(ev, wallet)), ev, wallet)}
}

// walletJSON is a frame's "wallet" value: the name as a JSON string, or
// null when "".
func walletJSON(name string) []byte {
	if name == "" {
		return []byte("null")
	}
	b, _ := Marshal(name)
	return b
}

// payloadSize is the size of ev's frame payload naming wallet.
func (h *Hub) payloadSize(ev Event, wallet []byte) int {
	return len(`{"updates":[`) + len(ev.Payload) + len(`],"wallet":`) + len(wallet) + len(h.tail)
}

// frameSize is the size of ev's whole frame naming wallet.
func (h *Hub) frameSize(ev Event, wallet []byte) int {
	n := h.payloadSize(ev, wallet)
	return len(appendHeader(make([]byte, 0, 10), websocket.TextMessage, n)) + n
}

// appendFrame appends ev's frame naming wallet to b.
func (h *Hub) appendFrame(b []byte, ev Event, wallet []byte) []byte {
	b = appendHeader(b, websocket.TextMessage, h.payloadSize(ev, wallet))
	b = append(b, `{"updates":[`...)
	b = append(b, ev.Payload...)
	b = append(b, `],"wallet":`...)
	b = append(b, wallet...)
	return append(b, h.tail...)
}

// renderPublic renders each event's public frame (naming its own wallet)
// into one array of bytes, in order, and sets them as rs's public frames:
// a client's run of them is one span of memory (appendBuf), so a block's
// burst reaches the kernel in one iovec per write.
func (h *Hub) renderPublic(rs []renderer) []qent {
	wallets := make([][]byte, len(rs))
	total := 0
	for i := range rs {
		wallets[i] = walletJSON(rs[i].ev.Wallet)
		total += h.frameSize(rs[i].ev, wallets[i])
	}
	buf := make([]byte, 0, total)
	frames := make([]wsFrame, len(rs))
	out := make([]qent, len(rs))
	for i := range rs {
		at := len(buf)
		buf = h.appendFrame(buf, rs[i].ev, wallets[i])
		frames[i].b = buf[at:]
		rs[i].public = &frames[i]
		out[i] = qent{f: &frames[i], seq: rs[i].ev.Seq}
	}
	return out
}

// appendHeader appends an unmasked, final frame header (RFC 6455 §5.2).
func appendHeader(b []byte, op, n int) []byte {
	b = append(b, 0x80|byte(op))
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 127)
		return binary.BigEndian.AppendUint64(b, uint64(n))
	}
}

// controlFrame encodes a control frame (payload at most 125 bytes).
func controlFrame(op int, payload []byte) []byte {
	return append(appendHeader(make([]byte, 0, 2+len(payload)), op, len(payload)), payload...)
}

var pingFrame = controlFrame(websocket.PingMessage, nil)

// schedule hands the client to the writer pool if it has something to send
// and nobody is writing to it. c.mu is held.
func (c *client) schedule() {
	if c.owner != ownerNone || c.done || !c.hasWork() {
		return
	}
	c.owner = ownerPool
	c.queuedAt = c.h.now()
	c.h.run.push(c)
}

func (c *client) hasWork() bool {
	return c.qn > 0 || c.hasPong || c.wantPing || c.closing != nil
}

// dropQueue forgets the waiting frames. c.mu is held.
func (c *client) dropQueue() {
	c.q, c.qs, c.qh, c.qn, c.qBytes = nil, 0, 0, 0, 0
}

// head is the next queued frame. c.mu is held and c.qn > 0.
func (c *client) head() *qent { return &c.q[c.qs].e[c.qh] }

// pop takes the next queued frame. c.mu is held and c.qn > 0.
func (c *client) pop() qent {
	s := &c.q[c.qs]
	e := s.e[c.qh]
	if !s.shared {
		s.e[c.qh] = qent{}
	}
	c.qh++
	c.qn--
	c.qBytes -= len(e.f.b)
	if c.qh == len(s.e) {
		*s = qseg{}
		c.qs++
		c.qh = 0
	}
	if c.qn == 0 {
		// Drained: keep a small array of runs, let a burst's go.
		if cap(c.q) > 8 {
			c.q = nil
		} else {
			c.q = c.q[:0]
		}
		c.qs = 0
	}
	return e
}

// queueShared queues a run of frames shared with other clients (read
// only). c.mu is held.
func (c *client) queueShared(e []qent, bytes int) {
	c.q = append(c.q, qseg{e: e, shared: true})
	c.qn += len(e)
	c.qBytes += bytes
}

// queueOwn queues e at the end of the client's own last run (a new run
// when the last is shared or already being taken, so that a taken run
// is eventually dropped whole). k is how many more will follow (the
// run's room). c.mu is held.
func (c *client) queueOwn(e qent, k int) {
	last := len(c.q) - 1
	if last < c.qs || c.q[last].shared || (last == c.qs && c.qh > 0) {
		c.q = append(c.q, qseg{e: make([]qent, 0, max(k, 1))})
		last = len(c.q) - 1
	}
	c.q[last].e = append(c.q[last].e, e)
	c.qn++
	c.qBytes += len(e.f.b)
}

// appendBuf appends a frame to a write's buffers, extending the last one
// when the frame's bytes follow it in memory (a batch's public frames are
// rendered into one array): a burst goes to the kernel as one span, not
// one iovec per frame.
func appendBuf(bufs net.Buffers, b []byte) net.Buffers {
	if n := len(bufs); n > 0 && len(b) > 0 {
		p := bufs[n-1]
		if len(p) > 0 && cap(p)-len(p) >= len(b) && &p[:len(p)+1][len(p)] == &b[0] {
			bufs[n-1] = p[:len(p)+len(b)]
			return bufs
		}
	}
	return append(bufs, b)
}

// startClose decides to close the client with a close frame: waiting frames
// are dropped, and the frame goes out after whatever write is under way,
// naming (when resume) the last seq written whole. c.mu is held.
func (c *client) startClose(code int, reason string, resume bool) {
	if c.closing != nil || c.done {
		return
	}
	c.closing = &closeReq{code: code, reason: reason, resume: resume}
	c.dropQueue()
	c.schedule()
}

// batch is one write to a client.
type batch struct {
	bufs  net.Buffers
	size  int    // bytes the socket took (set once written)
	last  uint64 // seq of its last event frame (0: none)
	ping  bool   // it carries a ping
	final bool   // it is the close frame: the connection ends after it
	full  bool   // queued frames wait for room in the send queue
}

// takeControl moves pending control frames into b. c.mu is held.
func (c *client) takeControl(b *batch) {
	if c.hasPong {
		b.bufs = append(b.bufs, controlFrame(websocket.PongMessage, c.pong))
		c.hasPong, c.pong = false, nil
	}
	if c.wantPing {
		b.bufs = append(b.bufs, pingFrame)
		c.wantPing, c.pingPending, b.ping = false, true, true
	}
}

// room returns how many more bytes the socket's send queue may hold under
// sendLimit (-1: unknown, no limit applies). c.mu is held and c is not
// done, so c.fd is still the socket's.
func (c *client) room() int {
	if c.sendLimit <= 0 {
		return -1
	}
	c.h.outqAsks.Add(1)
	q, ok := sendQueued(c.fd)
	if !ok {
		return -1
	}
	return c.sendLimit - q
}

// roomFor is room for the pool's next write, of want bytes at most:
// without asking the kernel (an ioctl) when the bytes the pool wrote since
// it last asked leave that much room anyway. The answer is then a lower
// bound of the room, at least want, so the batch taken is the same. c.mu
// is held.
func (c *client) roomFor(want int) int {
	if c.sendLimit <= 0 {
		return -1
	}
	if r := c.sendLimit - c.sentBound; c.boundOK && r >= want {
		return r
	}
	c.h.outqAsks.Add(1)
	q, ok := sendQueued(c.fd)
	if !ok {
		return -1
	}
	c.sentBound, c.boundOK = q, true
	return c.sendLimit - q
}

// takeBatch takes the next write: the close frame if one was decided
// (it always fits: the send queue is kept under half the buffer), else
// pending control frames and the queued frames that fit in room (at most
// maxBatchBytes; at least one when the send queue is empty or room is
// unknown). Frames of events already written (seq ≤ pos, after a replay)
// are skipped. b.full says frames wait for room. c.mu is held.
func (c *client) takeBatch(into net.Buffers, room int) batch {
	b := batch{bufs: into[:0]}
	if cr := c.closing; cr != nil {
		c.dropQueue()
		text := closeReason(cr.reason, cr.resume, c.pos)
		b.bufs = append(b.bufs, controlFrame(websocket.CloseMessage, websocket.FormatCloseMessage(cr.code, text)))
		b.final = true
		return b
	}
	c.takeControl(&b)
	limit := maxBatchBytes
	if room >= 0 {
		limit = min(limit, room)
	}
	size := 0
	for c.qn > 0 {
		e := c.head()
		n := len(e.f.b)
		if e.seq != 0 && e.seq <= c.pos {
			c.pop()
			continue
		}
		if size+n > limit && (size > 0 || room != c.sendLimit) {
			b.full = room >= 0
			break
		}
		b.bufs = appendBuf(b.bufs, e.f.b)
		size += n
		if e.seq != 0 {
			b.last = e.seq
		}
		c.pop()
	}
	return b
}

// written records a batch the socket took whole, and hands the client
// back: to the pool if it has more to send and room for it, else to a
// goroutine that waits for room.
func (c *client) written(b batch) {
	if b.final {
		c.terminate()
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b.last > c.pos {
		c.pos = b.last
	}
	c.sentBound += b.size
	c.progress.Store(time.Now().UnixNano())
	c.owner = ownerNone
	if b.full && c.closing == nil && !c.done && !c.fits() {
		c.owner, c.blocked, c.boundOK = ownerDedicated, true, false
		c.h.rooms.add(c)
		return
	}
	c.schedule()
	c.queuedAt = time.Time{} // the rest of a burst: no need to wait for more
}

// fits reports whether the next queued frame fits in the send queue now.
// c.mu is held.
func (c *client) fits() bool {
	if c.qn == 0 {
		return true
	}
	r := c.room()
	return r < 0 || r == c.sendLimit || len(c.head().f.b) <= r
}

// roomState is what a wait for room in a client's send queue remembers
// between two looks.
type roomState struct {
	c     *client
	next  time.Time     // the next look (roomWatch)
	wait  time.Duration // the pause before the next look: 1 ms, doubling to 64 ms
	last  int           // send-queue bytes at the last look (-1: none yet)
	since time.Time     // when the send queue last shrank
}

func newRoomState(c *client) *roomState {
	return &roomState{c: c, wait: time.Millisecond, last: -1, since: time.Now()}
}

// Outcomes of a look for room.
const (
	roomWait  = iota // look again after s.wait
	roomReady        // the next frames fit (or the send queue is empty)
	roomGone         // the client is done or closing, which includes a stall just decided
)

// lookRoom looks once whether n bytes (the next queued frames when n is
// 0) fit in the send queue. A send queue that did not shrink for
// WriteTimeout drops the client: its close frame fits in the room kept
// for it, right after its last whole frame, so the client sees it
// whenever it reads. c.mu is held.
func (c *client) lookRoom(n int, s *roomState) int {
	if c.done || c.closing != nil {
		return roomGone
	}
	r := c.room()
	need := n
	if need == 0 && c.qn > 0 {
		// Room for a good part of the queue, not just its next
		// frame: fewer, larger writes to a slow reader.
		need = max(len(c.head().f.b), min(c.qBytes, c.sendLimit/2))
	}
	if r < 0 || r == c.sendLimit || need <= r {
		return roomReady
	}
	switch q := c.sendLimit - r; {
	case s.last < 0 || q < s.last:
		if s.last >= 0 {
			c.progress.Store(time.Now().UnixNano())
			s.wait = time.Millisecond
		}
		s.last, s.since = q, time.Now()
	case time.Since(s.since) > c.h.cfg.WriteTimeout:
		c.h.dropped.Add(1)
		c.h.cfg.Log.Info("ws client stalled, closing", "remote", c.nc.RemoteAddr().String(), "since", c.pos)
		c.closing = &closeReq{code: websocket.ClosePolicyViolation, reason: "client too slow", resume: true, slow: true}
		c.dropQueue()
		return roomGone
	}
	return roomWait
}

// awaitRoom waits, looking with a growing interval, until n bytes (the
// next queued frame when n is 0) fit in the send queue, or it is empty. It
// returns false when the client is done or closing instead (see
// lookRoom). The replay goroutine waits with it; pool clients wait in the
// hub's roomWatch.
func (c *client) awaitRoom(n int) bool {
	s := newRoomState(c)
	c.setBlocked(true)
	defer c.setBlocked(false)
	for {
		c.mu.Lock()
		res := c.lookRoom(n, s)
		c.mu.Unlock()
		switch res {
		case roomReady:
			return true
		case roomGone:
			return false
		}
		time.Sleep(s.wait)
		s.wait = min(2*s.wait, 64*time.Millisecond)
	}
}

// roomWatch waits for room on behalf of every pool client whose send queue
// is full (owner ownerDedicated, blocked): one goroutine looks at each on
// its own schedule (lookRoom) and hands it back to the pool once its next
// frames fit, or once it is closing (the pool then writes its close
// frame). A block's burst to hundreds of slow readers thus wakes one
// goroutine, not one per client, and leaves the run queue to RPC.
type roomWatch struct {
	mu    sync.Mutex
	due   roomHeap
	wake  chan struct{} // a new earliest look
	timer *time.Timer
}

// roomHeap orders waits by their next look.
type roomHeap []*roomState

func (h roomHeap) Len() int           { return len(h) }
func (h roomHeap) Less(i, j int) bool { return h[i].next.Before(h[j].next) }
func (h roomHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *roomHeap) Push(x any)        { *h = append(*h, x.(*roomState)) }
func (h *roomHeap) Pop() any {
	old := *h
	s := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return s
}

// add starts a wait for c, its first look after a millisecond. c.mu is
// held.
func (w *roomWatch) add(c *client) {
	s := newRoomState(c)
	s.next = s.since.Add(s.wait)
	w.push(s)
}

func (w *roomWatch) push(s *roomState) {
	w.mu.Lock()
	heap.Push(&w.due, s)
	first := w.due[0] == s
	w.mu.Unlock()
	if first {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// run looks at each wait when it is due, until the hub's context ends.
func (w *roomWatch) run(h *Hub) {
	defer h.workers.Done()
	var ready []*roomState
	for {
		w.mu.Lock()
		now := time.Now()
		for len(w.due) > 0 && !w.due[0].next.After(now) {
			ready = append(ready, heap.Pop(&w.due).(*roomState))
		}
		var next time.Time
		if len(w.due) > 0 {
			next = w.due[0].next
		}
		w.mu.Unlock()
		if len(ready) > 0 {
			for i, s := range ready {
				w.look(s)
				ready[i] = nil
			}
			ready = ready[:0]
			continue
		}
		var tick <-chan time.Time
		if !next.IsZero() {
			w.timer.Reset(time.Until(next))
			tick = w.timer.C
		}
		select {
		case <-w.wake:
		case <-tick:
		case <-h.ctx.Done():
			return
		}
		w.timer.Stop()
	}
}

// look looks once at a waiting client: back to the pool, or due again
// later.
func (w *roomWatch) look(s *roomState) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lookRoom(0, s) == roomWait {
		s.next = time.Now().Add(s.wait)
		s.wait = min(2*s.wait, 64*time.Millisecond)
		w.push(s)
		return
	}
	c.blocked = false
	c.owner = ownerNone
	c.schedule()
	// Its frames waited for room, not for a burst: the writer sends them
	// at once (it spun a quiet step, 100 µs, for each such client).
	c.queuedAt = time.Time{}
}

// terminate ends the connection at once (idempotent).
func (c *client) terminate() {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return
	}
	c.done = true
	c.dropQueue()
	if c.first != nil && !c.sawFirst {
		c.sawFirst = true
		close(c.first)
	}
	c.mu.Unlock()
	if c.polled {
		c.h.poll.remove(c)
	}
	_ = c.nc.Close()
	c.h.remove(c)
	c.h.conns.Done()
}

var errStalled = errors.New("websocket client accepted nothing within the write timeout")

// errAgain: a non-blocking write (writevNow) left bytes the socket did not
// take.
var errAgain = errors.New("websocket client's send queue is full")

// consume drops the first n bytes of bufs (net.Buffers' own is not
// exported).
func consume(bufs *net.Buffers, n int) {
	for len(*bufs) > 0 {
		l := len((*bufs)[0])
		if l > n {
			(*bufs)[0] = (*bufs)[0][n:]
			return
		}
		n -= l
		(*bufs)[0] = nil
		*bufs = (*bufs)[1:]
	}
}

func isTimeout(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// writeBlocking writes all of bufs, waiting as long as the socket keeps
// taking bytes; it fails with errStalled when it took none for WriteTimeout.
func (c *client) writeBlocking(bufs *net.Buffers) error {
	for len(*bufs) > 0 {
		_ = c.wc.SetWriteDeadline(time.Now().Add(c.h.cfg.WriteTimeout))
		n, err := bufs.WriteTo(c.wc)
		if n > 0 {
			c.progress.Store(time.Now().UnixNano())
		}
		switch {
		case err == nil:
		case !isTimeout(err):
			return err
		case n == 0:
			return errStalled
		}
	}
	return nil
}

// writeOwned writes bufs from a goroutine that owns the client's socket:
// at once if the socket takes them, else marked blocked while it waits.
func (c *client) writeOwned(bufs *net.Buffers) error {
	_ = c.wc.SetWriteDeadline(time.Now().Add(poolWriteWait))
	_, err := bufs.WriteTo(c.wc)
	if err == nil || !isTimeout(err) {
		return err
	}
	c.setBlocked(true)
	defer c.setBlocked(false)
	return c.writeStalling(bufs, false)
}

func (c *client) setBlocked(v bool) {
	c.mu.Lock()
	c.blocked = v
	c.mu.Unlock()
}

// writer is one goroutine of the writer pool. It serves clients in the
// order they joined the run queue, each once its burst has ended
// (awaitBurst), and yields the processor after each write, so that a
// fan-out to many clients takes turns with RPC.
func (h *Hub) writer() {
	defer h.workers.Done()
	var scratch net.Buffers
	var iov iovScratch
	for {
		c, ok := h.run.pop()
		if !ok {
			return
		}
		h.awaitBurst(c)
		h.service(c, &scratch, &iov)
		runtime.Gosched()
	}
}

// awaitBurst waits, before c's write, while frames keep joining c's queue
// (a block's events, published one after the other), in steps of
// burstQuiet and until coalesce after c joined the run queue: a burst goes
// out in a few writes, and a lone frame after one quiet step. A client
// handed over by PublishBatch (its burst queued whole) or after a write
// (the rest of a burst) has a zero queuedAt and does not wait.
//
// yieldFor is its default step.
func (h *Hub) awaitBurst(c *client) {
	c.mu.Lock()
	since, n := h.now().Sub(c.queuedAt), c.qn
	c.mu.Unlock()
	for since < coalesce {
		h.sleep(min(burstQuiet, coalesce-since))
		c.mu.Lock()
		grew := c.qn != n
		since, n = h.now().Sub(c.queuedAt), c.qn
		c.mu.Unlock()
		if !grew {
			return
		}
	}
}

// yieldFor yields the processor until d has passed (a sub-millisecond
// time.Sleep lasts a millisecond when nothing else runs).
func yieldFor(d time.Duration) {
	for end := time.Now().Add(d); time.Now().Before(end); {
		runtime.Gosched()
	}
}

// service makes one write to c: the socket takes it whole (the common
// case), or the rest goes to a goroutine of c's own that waits on it.
//
// A TCP socket whose send queue the hub bounds is written with one
// non-blocking writev (the batch was cut to fit the room it has); any
// other connection with a short write deadline.
func (h *Hub) service(c *client, scratch *net.Buffers, iov *iovScratch) {
	c.mu.Lock()
	if c.done {
		c.owner = ownerNone
		c.mu.Unlock()
		return
	}
	room := c.roomFor(min(c.qBytes, maxBatchBytes))
	b := c.takeBatch(*scratch, room)
	wc := c.wc
	c.mu.Unlock()
	if len(b.bufs) == 0 {
		c.written(b)
		return
	}
	orig := b.bufs
	h.writes.Add(1)
	h.spans.Add(uint64(len(b.bufs)))
	size := 0
	for _, p := range b.bufs {
		size += len(p)
	}
	var err error
	if _, ok := wc.(*net.TCPConn); ok && room >= 0 && c.raw != nil {
		bufs := b.bufs
		_, err = writevNow(c.raw, &bufs, iov)
		b.bufs = bufs
	} else {
		bufs := append(net.Buffers(nil), b.bufs...) // WriteTo's escapes
		_ = wc.SetWriteDeadline(time.Now().Add(poolWriteWait))
		_, err = bufs.WriteTo(wc)
		b.bufs = bufs
	}
	again := errors.Is(err, errAgain) || isTimeout(err)
	if again {
		// The rest (b.bufs may share orig's array) goes to a goroutine.
		b.bufs = append(net.Buffers(nil), b.bufs...)
	}
	clear(orig)
	*scratch = orig[:0]
	switch {
	case err == nil:
		b.size = size
		c.written(b)
	case again:
		c.mu.Lock()
		c.owner, c.blocked, c.boundOK = ownerDedicated, true, false
		c.mu.Unlock()
		h.conns.Add(1)
		go c.flush(b)
	default:
		c.terminate()
	}
}

// flush finishes a batch the socket did not take at once, then hands the
// client back to the pool (which sends the close frame if one was decided
// meanwhile).
func (c *client) flush(b batch) {
	defer c.h.conns.Done()
	err := c.writeStalling(&b.bufs, b.final)
	c.setBlocked(false)
	if err != nil {
		c.terminate()
		return
	}
	c.written(b)
}

// writeStalling is writeBlocking for a socket that is backed up. When it
// stalls, the client is dropped, but its close frame (which must follow
// the rest of bufs, to name the last whole frame) gets a deadline of its
// own: a client that reads again soon sees it.
func (c *client) writeStalling(bufs *net.Buffers, final bool) error {
	err := c.writeBlocking(bufs)
	if !errors.Is(err, errStalled) || final {
		return err
	}
	c.mu.Lock()
	if c.closing == nil || !c.closing.slow {
		c.h.dropped.Add(1)
		c.h.cfg.Log.Info("ws client stalled, closing", "remote", c.nc.RemoteAddr().String(), "since", c.pos)
		c.closing = &closeReq{code: websocket.ClosePolicyViolation, reason: "client too slow", resume: true, slow: true}
		c.dropQueue()
	}
	c.mu.Unlock()
	return c.writeBlocking(bufs)
}

// replayWrite writes frames from the replay goroutine, in writes that fit
// the send queue (waiting for room between them), each preceded by any
// pending control frame. It returns false when the client is done, or
// closing (then handed to the pool for its close frame).
func (c *client) replayWrite(frames []qent) bool {
	for len(frames) > 0 {
		c.mu.Lock()
		if c.done || c.closing != nil {
			c.owner = ownerNone
			c.schedule()
			c.mu.Unlock()
			return false
		}
		var b batch
		c.takeControl(&b)
		room := c.room()
		c.mu.Unlock()
		size, k := 0, 0
		for k < len(frames) && (room < 0 || size+len(frames[k].f.b) <= room || (k == 0 && room == c.sendLimit)) &&
			size < maxBatchBytes {
			b.bufs = append(b.bufs, frames[k].f.b)
			size += len(frames[k].f.b)
			k++
		}
		if len(b.bufs) > 0 {
			if err := c.writeOwned(&b.bufs); err != nil {
				c.terminate()
				return false
			}
		}
		if k == 0 {
			c.awaitRoom(len(frames[0].f.b))
			continue
		}
		c.mu.Lock()
		c.pos = max(c.pos, frames[k-1].seq)
		c.mu.Unlock()
		c.progress.Store(time.Now().UnixNano())
		frames = frames[k:]
	}
	return true
}

// runq is a queue of clients for a pool of goroutines: the writers' (clients
// with something to send, each at most once: owner == ownerPool) or the
// readers' (clients the poller found readable, each at most once: its
// one-shot watch is re-armed only once it has been read).
type runq struct {
	mu      sync.Mutex
	cond    sync.Cond
	items   []*client
	stopped bool
}

func (q *runq) push(c *client) {
	q.mu.Lock()
	q.items = append(q.items, c)
	q.mu.Unlock()
	q.cond.Signal()
}

// pushAll queues cs in one hold of the lock, waking the waiting
// goroutines once.
func (q *runq) pushAll(cs []*client) {
	q.mu.Lock()
	q.items = append(q.items, cs...)
	q.mu.Unlock()
	q.cond.Broadcast()
}

func (q *runq) pop() (*client, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.items) == 0 && !q.stopped {
		q.cond.Wait()
	}
	if len(q.items) == 0 {
		return nil, false
	}
	c := q.items[0]
	q.items[0] = nil
	q.items = q.items[1:]
	return c, true
}

func (q *runq) stop() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	q.cond.Broadcast()
}

// replay writes the logged events after since, then lets the client go
// live: Publish queues for it from the end of the first pass, a second pass
// writes what was logged meanwhile, and queued frames already replayed are
// skipped, so nothing is missed or repeated.
func (h *Hub) replay(c *client, since uint64) {
	timer := time.NewTimer(replayGrace)
	select {
	case <-c.first:
	case <-timer.C:
	}
	timer.Stop()
	last := since
	for pass := 0; pass < 2; {
		evs, err := h.cfg.Source.EventsAfter(h.ctx, last, replayPage)
		if err != nil {
			h.cfg.Log.Error("ws replay", "err", err)
			c.mu.Lock()
			c.owner = ownerNone
			c.startClose(websocket.CloseInternalServerErr, "replay failed", true)
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		if c.closing != nil || c.done {
			c.owner = ownerNone
			c.schedule()
			c.mu.Unlock()
			return
		}
		f := c.filter.Load()
		c.mu.Unlock()
		var frames []qent
		for _, ev := range evs {
			if f.admits(ev) {
				r := renderer{h: h, ev: ev}
				frames = append(frames, qent{f: r.frame(f), seq: ev.Seq})
			}
		}
		if !c.replayWrite(frames) {
			return
		}
		if len(evs) > 0 {
			last = evs[len(evs)-1].Seq
		}
		c.mu.Lock()
		c.pos = max(c.pos, last)
		if len(evs) < replayPage {
			pass++
			c.live = true
		}
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.owner = ownerNone
	c.schedule()
	c.queuedAt = time.Time{} // what was queued during the replay waited long enough
	c.mu.Unlock()
}
