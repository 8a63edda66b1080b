//go:build !linux

package main

import (
	"errors"
	"time"
)

// The cheap clients of ws_raw.go read through epoll: Linux only.

type rawWS struct{ key int32 }

type rawHub struct{}

func newRawHub(time.Time, int) (*rawHub, error) {
	return nil, errors.New("bench ws: the websocket clients need Linux (epoll)")
}

func (h *rawHub) CPU() time.Duration { return 0 }
func (h *rawHub) Close()             {}
func (h *rawHub) dial(string, string, int32, string) (*rawWS, error) {
	return nil, errors.ErrUnsupported
}
func (c *rawWS) close()                                            {}
func (c *rawWS) count() int                                        { return 0 }
func (c *rawWS) state() string                                     { return "unsupported" }
func (c *rawWS) take(int, func([]byte, time.Duration) error) error { return errors.ErrUnsupported }
