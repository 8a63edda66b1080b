package base

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// lazyDeadline is context.WithDeadline(parent, deadline), made only when a
// caller needs its channel. A request served from memory asks its context
// nothing but Err, and then pays neither the timer nor the cancel context
// that context.WithDeadline arms and stops per request (about a
// microsecond, and two allocations, on the daemon's hottest calls).
//
// It behaves as the context it stands for: Err is nil until the parent
// ends or the deadline passes, and from then on Done is closed and Err
// says why (context.Canceled or context.DeadlineExceeded, as the made
// context does: Err makes it as soon as it has something to report, so
// Err and Done never disagree). Value, and so context.Cause, answer for
// the made context once it exists; before, Cause gives the parent's.
type lazyDeadline struct {
	parent   context.Context
	deadline time.Time
	made     atomic.Bool
	once     sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

// withLazyDeadline returns the lazy context and its cancel function (call
// it when the request ends, as context.WithDeadline's).
func withLazyDeadline(parent context.Context, deadline time.Time) (*lazyDeadline, func()) {
	c := &lazyDeadline{parent: parent, deadline: deadline}
	return c, c.stop
}

// get makes the context (once).
func (c *lazyDeadline) get() context.Context {
	c.once.Do(func() {
		c.ctx, c.cancel = context.WithDeadline(c.parent, c.deadline)
		c.made.Store(true)
	})
	return c.ctx
}

// stop releases the made context's timer, if any. Stopped before it was
// made, there is nothing to cancel: a later Done (from a goroutine that
// outlived the request) makes one under the parent, which for a request is
// r.Context(), ended by net/http as soon as the handler returns.
func (c *lazyDeadline) stop() {
	if c.made.Load() {
		c.cancel()
	}
}

// Deadline implements context.Context: the earlier of the parent's and
// this one's.
func (c *lazyDeadline) Deadline() (time.Time, bool) {
	if d, ok := c.parent.Deadline(); ok && d.Before(c.deadline) {
		return d, true
	}
	return c.deadline, true
}

// Done implements context.Context (it makes the context).
func (c *lazyDeadline) Done() <-chan struct{} { return c.get().Done() }

// Err implements context.Context.
func (c *lazyDeadline) Err() error {
	if c.made.Load() {
		return c.ctx.Err()
	}
	if c.parent.Err() != nil || !time.Now().Before(c.deadline) {
		return c.get().Err()
	}
	return nil
}

// Value implements context.Context.
func (c *lazyDeadline) Value(key any) any {
	if c.made.Load() {
		return c.ctx.Value(key)
	}
	return c.parent.Value(key)
}
