//go:build !linux

package base

// sendQueued is unknown here: the hub writes without a send-room estimate.
func sendQueued(int) (int, bool) { return 0, false }

func sendBufSize(int) int { return 0 }
