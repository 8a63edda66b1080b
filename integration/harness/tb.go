package harness

import (
	"fmt"
	"os"
	"sync"
)

// TB is what the harness needs from its caller. *testing.T and *testing.B
// satisfy it; Program does too, for commands (such as the demo) that drive
// real nodes outside a test.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
	Logf(format string, args ...any)
	Cleanup(func())
	TempDir() string
	Failed() bool
}

// Program is a TB for a main package: Fatalf prints, runs the cleanups
// (stopping nodes) and exits 1. Call Close when done.
type Program struct {
	mu       sync.Mutex
	cleanups []func()
	failed   bool
}

// Helper does nothing.
func (p *Program) Helper() {}

// Logf prints to stderr.
func (p *Program) Logf(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

// Errorf prints and marks the program failed.
func (p *Program) Errorf(format string, args ...any) {
	p.mu.Lock()
	p.failed = true
	p.mu.Unlock()
	p.Logf("error: "+format, args...)
}

// Fatalf prints, cleans up and exits 1.
func (p *Program) Fatalf(format string, args ...any) {
	p.Errorf(format, args...)
	p.Close()
	os.Exit(1)
}

// Cleanup registers f to run on Close, last registered first.
func (p *Program) Cleanup(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cleanups = append(p.cleanups, f)
}

// TempDir makes a directory removed on Close.
func (p *Program) TempDir() string {
	dir, err := os.MkdirTemp("", "walletd-harness-")
	if err != nil {
		p.Fatalf("tempdir: %v", err)
	}
	p.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// Failed reports whether Errorf or Fatalf was called.
func (p *Program) Failed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.failed
}

// Close runs the cleanups.
func (p *Program) Close() {
	p.mu.Lock()
	fs := p.cleanups
	p.cleanups = nil
	p.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
