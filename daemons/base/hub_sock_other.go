//go:build !linux

package base

import (
	"net"
	"syscall"
)

// sendQueued is unknown here: the hub writes without a send-room estimate.
func sendQueued(int) (int, bool) { return 0, false }

func sendBufSize(int) int { return 0 }

// iovScratch is unused here.
type iovScratch struct{}

// writevNow is not made here (no send-queue bound either): service writes
// through the net.Conn.
func writevNow(syscall.RawConn, *net.Buffers, *iovScratch) (int, error) {
	return 0, errAgain
}
