//go:build !linux

package harness

import "syscall"

// ChildAttr returns the process attributes of every program the tests and
// the load tool start: its own process group. Only Linux also kills the
// child when its parent dies (see child_linux.go).
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
