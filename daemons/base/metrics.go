package base

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are a server's Prometheus series, in its own registry (no global
// state): JSON-RPC calls by method and code, their latency, requests
// refused as busy, failed logins, websocket clients and slow-client drops.
type metrics struct {
	reg          *prometheus.Registry
	calls        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	busy         prometheus.Counter
	authFailures prometheus.Counter
	handler      http.Handler
	// ok keeps, per callable method name, its series of successful calls
	// once it has had one, so that the hot path skips the label hashing of
	// WithLabelValues. The map is filled before the server serves and only
	// read afterwards; a slot is set on its method's first success (the
	// series appear on /metrics as before: when first used).
	ok map[string]*atomic.Pointer[methodSeries]
}

// methodSeries are one method's success counter and latency histogram.
type methodSeries struct {
	calls   prometheus.Counter
	latency prometheus.Observer
}

// prepare makes a slot for every callable method name.
func (m *metrics) prepare(names []string) {
	m.ok = make(map[string]*atomic.Pointer[methodSeries], len(names))
	for _, n := range names {
		m.ok[n] = new(atomic.Pointer[methodSeries])
	}
}

func newMetrics(h *Hub) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.calls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "walletd_rpc_requests_total", Help: "JSON-RPC requests by method and reply code (0: success).",
	}, []string{"method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "walletd_rpc_request_duration_seconds", Help: "JSON-RPC request handling time by method.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1, 5},
	}, []string{"method"})
	m.busy = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "walletd_rpc_busy_total", Help: "JSON-RPC requests refused because MAX_CONCURRENT were at work.",
	})
	m.authFailures = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "walletd_auth_failures_total", Help: "Requests with wrong credentials.",
	})
	m.reg.MustRegister(m.calls, m.latency, m.busy, m.authFailures,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "walletd_ws_clients", Help: "Connected websocket clients.",
		}, func() float64 { return float64(h.Clients()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "walletd_ws_slow_clients_dropped_total", Help: "Websocket clients closed because their queue was full.",
		}, func() float64 { return float64(h.SlowClientsDropped()) }),
	)
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// observe records one call. Unknown method names are folded into one label
// so a client cannot grow the series without bound.
func (m *metrics) observe(method string, known bool, code int, took time.Duration) {
	if !known {
		method = "(unknown)"
	} else if slot := m.ok[method]; slot != nil && code == 0 {
		ms := slot.Load()
		if ms == nil {
			ms = &methodSeries{calls: m.calls.WithLabelValues(method, "0"), latency: m.latency.WithLabelValues(method)}
			slot.Store(ms) // racing first calls store equal series
		}
		ms.calls.Inc()
		ms.latency.Observe(took.Seconds())
		return
	}
	m.calls.WithLabelValues(method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(method).Observe(took.Seconds())
}

// Registerer lets a daemon add its own series (chain height, wallets…) to
// the server's registry.
func (s *Server) Registerer() prometheus.Registerer { return s.metrics.reg }
