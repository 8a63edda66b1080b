package harness

import "syscall"

// ChildAttr returns the process attributes of every program the tests and
// the load tool start (nodes, daemons, helper processes): its own process
// group, so that signals to the test do not reach it twice, and SIGKILL
// when the process that started it dies, so that a killed test or load-tool
// run leaves no node or daemon behind holding ports, files or locks.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
