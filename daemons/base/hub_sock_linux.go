package base

import (
	"net"
	"syscall"
	"unsafe"
)

// sendQueued returns the bytes in a socket's send queue (not yet taken by
// the peer): SIOCOUTQ.
func sendQueued(fd int) (int, bool) {
	var n int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n))); e != 0 {
		return 0, false
	}
	return int(n), true
}

// sendBufSize returns a socket's send buffer as the kernel sizes it.
func sendBufSize(fd int) int {
	n, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF)
	if err != nil {
		return 0
	}
	return n
}

// iovMax is the most buffers one writev takes (IOV_MAX).
const iovMax = 1024

// iovScratch is a writer's array of iovecs and its writev call, made
// once and reused from write to write (a closure per write was two
// allocations).
type iovScratch struct {
	v     []syscall.Iovec
	n     int
	errno syscall.Errno
	do    func(fd uintptr) bool
}

// writev is iovScratch's call for RawConn.Write: one writev of s.v.
func (s *iovScratch) writev(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&s.v[0])), uintptr(len(s.v)))
		if e != syscall.EINTR {
			s.n, s.errno = int(r), e
			return true
		}
	}
}

// writevNow makes one non-blocking writev of bufs on the socket under rc
// and consumes what the socket took: no write deadline to set (and no
// timer left armed after it), no wait. When the socket did not take all of
// bufs (its send queue is full) it returns errAgain with the rest in bufs.
// s is the caller's scratch.
func writevNow(rc syscall.RawConn, bufs *net.Buffers, s *iovScratch) (int, error) {
	if s.do == nil {
		s.do = s.writev
	}
	s.v = s.v[:0]
	for _, b := range *bufs {
		if len(b) == 0 {
			continue
		}
		e := syscall.Iovec{Base: &b[0]}
		e.SetLen(len(b))
		if s.v = append(s.v, e); len(s.v) == iovMax {
			break
		}
	}
	defer clear(s.v) // no pointer into the frames kept past the write
	if len(s.v) == 0 {
		*bufs = (*bufs)[:0]
		return 0, nil
	}
	// A deadline a blocking write (writeBlocking) left may have passed:
	// RawConn.Write then fails with os.ErrDeadlineExceeded, which service
	// takes as a write the socket did not take (the goroutine that
	// finishes it sets a deadline of its own).
	if err := rc.Write(s.do); err != nil {
		return 0, err
	}
	n := s.n
	switch s.errno {
	case 0:
	case syscall.EAGAIN:
		n = 0
	default:
		return 0, s.errno
	}
	consume(bufs, n)
	if len(*bufs) > 0 {
		return n, errAgain
	}
	return n, nil
}
