package base

import (
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
