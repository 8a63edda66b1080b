package base

import (
	"errors"
	"io"
	"sync"
	"syscall"
)

// poller waits, in one goroutine, for any client to have something to
// read (epoll, one-shot: a client is re-armed when its reader is done), so
// that idle clients cost no goroutine.
type poller struct {
	epfd    int
	wake    [2]int // a pipe whose read end wakes the loop to stop
	mu      sync.Mutex
	clients map[uint64]*client
	stopped bool
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func newPoller() (*poller, error) {
	epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	p := &poller{epfd: epfd, clients: map[uint64]*client{}}
	if err := syscall.Pipe2(p.wake[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		syscall.Close(epfd)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	if err := syscall.EpollCtl(epfd, syscall.EPOLL_CTL_ADD, p.wake[0], &ev); err != nil {
		p.closeFDs()
		return nil, err
	}
	return p, nil
}

func (p *poller) closeFDs() {
	syscall.Close(p.epfd)
	syscall.Close(p.wake[0])
	syscall.Close(p.wake[1])
}

// event is the epoll event of client id (never 0: that is the wake pipe).
func event(events uint32, id uint64) syscall.EpollEvent {
	return syscall.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// add starts watching c (whose fd is set).
func (p *poller) add(c *client) error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return errors.New("poller stopped")
	}
	p.clients[c.id] = c
	p.mu.Unlock()
	ev := event(pollEvents, c.id)
	if err := syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		p.mu.Lock()
		delete(p.clients, c.id)
		p.mu.Unlock()
		return err
	}
	return nil
}

// rearm watches c again after its reader is done. c.mu is held, and c is
// not done, so its descriptor is still its own.
func (p *poller) rearm(c *client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.stopped {
		ev := event(pollEvents, c.id)
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev)
	}
}

// remove stops watching c; call it before its descriptor is closed.
func (p *poller) remove(c *client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.clients, c.id)
	if !p.stopped {
		_ = syscall.EpollCtl(p.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	}
}

// run waits for readable clients and hands each to the hub's readers
// until stop.
func (p *poller) run(h *Hub) {
	defer h.workers.Done()
	// A keepalive's thousand pongs arrive at once: a few readers take
	// them in turn, rather than a goroutine each ahead of RPC in the run
	// queue.
	for range h.cfg.Writers {
		h.workers.Add(1)
		go h.reader()
	}
	events := make([]syscall.EpollEvent, 128)
	for {
		n, err := syscall.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			h.cfg.Log.Error("ws poller", "err", err)
			return
		}
		for _, ev := range events[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			if id == 0 { // stop: nobody uses the descriptors any more
				p.closeFDs()
				return
			}
			p.mu.Lock()
			c := p.clients[id]
			p.mu.Unlock()
			if c != nil {
				h.reads.push(c)
			}
		}
	}
}

// stop ends run.
func (p *poller) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	p.stopped = true
	_, _ = syscall.Write(p.wake[1], []byte{1})
}

// reader is one of the goroutines that read the clients the poller found
// readable (readReady), each in turn, until the hub closes.
func (h *Hub) reader() {
	defer h.workers.Done()
	for {
		c, ok := h.reads.pop()
		if !ok {
			return
		}
		h.readReady(c)
	}
}

// readReady reads what c has (without waiting), then re-arms it.
func (h *Hub) readReady(c *client) {
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	for {
		var n int
		var rerr error
		if err := c.raw.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), *bp)
			return true
		}); err != nil {
			c.terminate()
			return
		}
		switch {
		case errors.Is(rerr, syscall.EAGAIN):
			c.mu.Lock()
			if !c.done {
				h.poll.rearm(c)
			}
			c.mu.Unlock()
			return
		case errors.Is(rerr, syscall.EINTR):
			continue
		case rerr != nil:
			c.readFailed(rerr)
			return
		case n == 0:
			c.readFailed(io.EOF)
			return
		}
		if !h.consume(c, (*bp)[:n]) {
			return
		}
	}
}
