//go:build !linux

package base

import "errors"

// poller is Linux-only; elsewhere every client has a reading goroutine.
type poller struct{}

func newPoller() (*poller, error) { return nil, errors.New("no epoll on this system") }

func (p *poller) add(*client) error { return errors.New("no poller") }
func (p *poller) rearm(*client)     {}
func (p *poller) remove(*client)    {}
func (p *poller) run(h *Hub)        { h.workers.Done() }
func (p *poller) stop()             {}
