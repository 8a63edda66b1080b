package main

import (
	"fmt"
	"slices"
	"sync"
	"time"
)

// LoadResult is what one throughput scenario measured.
type LoadResult struct {
	Name     string        `json:"name"`
	Round    int           `json:"round"`
	Conns    int           `json:"conns"`
	Duration time.Duration `json:"duration_ns"` // measured window
	Requests int           `json:"requests"`    // completed in the window
	Errors   int           `json:"errors"`
	FirstErr string        `json:"first_error,omitempty"`
	RPS      float64       `json:"rps"`
	Lat      Percentiles   `json:"latency"`
	// ServerCPUPerReq is the server process's CPU time per request.
	ServerCPUPerReq time.Duration `json:"server_cpu_per_req_ns,omitempty"`
	// Quiet describes the machine during the window.
	Quiet Quietness `json:"quiet"`

	total int // requests completed, warm-up included
}

// Percentiles of a latency sample.
type Percentiles struct {
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
	N   int           `json:"n"`
}

func percentiles(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		return s[max(0, min(len(s)-1, i))]
	}
	return Percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: s[len(s)-1], N: len(s)}
}

// drive sends requests (prebuilt, used round-robin) over conns keep-alive
// connections, each connection one request at a time, for warmup plus
// window, and measures the requests started after the warm-up. It stops by
// itself.
func drive(name, addr string, reqs [][]byte, conns int, warmup, window time.Duration) LoadResult {
	res := LoadResult{Name: name, Conns: conns}
	if len(reqs) == 0 {
		res.Errors, res.FirstErr = 1, "no requests to send"
		return res
	}
	type workerOut struct {
		lat      []time.Duration
		errs     int
		firstErr string
		last     time.Time
		total    int
	}
	outs := make([]workerOut, conns)
	start := time.Now()
	measureFrom := start.Add(warmup)
	stopAt := measureFrom.Add(window)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			o := &outs[w]
			o.lat = make([]time.Duration, 0, 1<<14)
			c := &rawConn{addr: addr}
			defer c.Close()
			for i := w; ; i += conns {
				t0 := time.Now()
				if !t0.Before(stopAt) {
					return
				}
				status, body, err := c.do(reqs[i%len(reqs)], 30*time.Second)
				t1 := time.Now()
				if err == nil {
					err = replyError(status, body)
				}
				if err == nil {
					o.total++
				}
				if t0.Before(measureFrom) {
					continue
				}
				if err != nil {
					if o.errs == 0 {
						o.firstErr = err.Error()
					}
					o.errs++
					if c.c == nil {
						// Transport failure: do not spin on a dead server.
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				o.lat = append(o.lat, t1.Sub(t0))
				o.last = t1
			}
		}(w)
	}
	wg.Wait()
	end := stopAt
	var all []time.Duration
	for _, o := range outs {
		all = append(all, o.lat...)
		res.Errors += o.errs
		res.total += o.total
		if res.FirstErr == "" && o.firstErr != "" {
			res.FirstErr = o.firstErr
		}
		if o.last.After(end) {
			end = o.last
		}
	}
	res.Requests = len(all)
	res.Duration = end.Sub(measureFrom)
	if res.Duration > 0 {
		res.RPS = float64(res.Requests) / res.Duration.Seconds()
	}
	res.Lat = percentiles(all)
	return res
}

// sequential sends each request once, one at a time on one connection, and
// returns each latency (used for cold loads, whose median is the target).
func sequential(addr string, reqs [][]byte) ([]time.Duration, error) {
	c, err := dialRaw(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := make([]time.Duration, 0, len(reqs))
	for _, r := range reqs {
		t0 := time.Now()
		status, body, err := c.do(r, 2*time.Minute)
		d := time.Since(t0)
		if err == nil {
			err = replyError(status, body)
		}
		if err != nil {
			return out, fmt.Errorf("request %d: %w", len(out), err)
		}
		out = append(out, d)
	}
	return out, nil
}
