package server

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/h2guard"
	"github.com/hellorpc/hellorpc/internal/lograte"
	"github.com/hellorpc/hellorpc/internal/metrics"
)

// registerMetrics gives m the figures the RPCs' measure cannot see, read at
// each scrape: those of the call limit, the drain, and the connections of
// conns, Serve's listeners once it runs, and the lines of net/http's log
// that logs dropped.
func registerMetrics(m *metrics.Metrics, calls *callLimit, d *drain, conns *atomic.Pointer[listeners], logs *lograte.Handler) error {
	// stat reads a figure of Serve's listeners, 0 before Serve.
	stat := func(read func(*listeners) int64) func() float64 {
		return func() float64 {
			if l := conns.Load(); l != nil {
				return float64(read(l))
			}
			return 0
		}
	}
	open := func(http2 bool) func(*listeners) int64 {
		return func(l *listeners) (n int64) {
			l.Each(func(c connlimit.Info) {
				if h2guard.IsHTTP2(c.Conn) == http2 {
					n++
				}
			})
			return n
		}
	}
	gauge := func(name, help string, labels prometheus.Labels, read func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels}, read)
	}
	counter := func(name, help string, read func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read)
	}
	const openHelp = "Open connections by HTTP version (2: HTTP/2, h2c or over TLS; 1.1: the rest)."
	for _, c := range []prometheus.Collector{
		gauge("hellorpc_calls_in_flight", "Calls in progress (health checks aside).", nil,
			func() float64 { return float64(calls.admit.inUse()) }),
		counter("hellorpc_calls_shed_total", "Calls answered resource_exhausted because -max-inflight were in progress (after their wait in the queue, or at once when it was full), or their connection held its share (-max-inflight-per-conn).",
			func() float64 { return float64(calls.shed.Load()) }),
		gauge("hellorpc_draining", "1 while the server drains (health NOT_SERVING), else 0.", nil,
			func() float64 {
				if d.draining.Load() {
					return 1
				}
				return 0
			}),
		gauge("hellorpc_connections_open", openHelp, prometheus.Labels{"http": "1.1"}, stat(open(false))),
		gauge("hellorpc_connections_open", openHelp, prometheus.Labels{"http": "2"}, stat(open(true))),
		counter("hellorpc_coalesce_writes_total", "Writes of HTTP/2 frames that coalescing connections queued.",
			stat(func(l *listeners) int64 { w, _ := l.coalesce.Stats(); return w })),
		counter("hellorpc_coalesce_flushes_total", "Socket writes in which the queued writes went out.",
			stat(func(l *listeners) int64 { _, f := l.coalesce.Stats(); return f })),
		counter("hellorpc_connections_flooded_total", "HTTP/2 connections closed with GOAWAY ENHANCE_YOUR_CALM for a flood of cheap frames or resets.",
			stat(func(l *listeners) int64 {
				if l.guard == nil {
					return 0
				}
				return l.guard.Stats().Floods
			})),
		counter("hellorpc_log_lines_suppressed_total", "Lines of net/http's log (TLS handshake errors, GOAWAY received, connection errors) dropped past their rate, per connection or overall.",
			func() float64 { return float64(logs.Suppressed()) }),
		counter("hellorpc_connections_evicted_total", "Idle connections closed to make room at -max-connections.",
			stat(func(l *listeners) int64 { _, evicted, _ := l.Stats(); return evicted })),
		counter("hellorpc_connections_refused_total", "New connections closed at -max-connections because every open one was busy.",
			stat(func(l *listeners) int64 { _, _, refused := l.Stats(); return refused })),
	} {
		if err := m.Register(c); err != nil {
			return err
		}
	}
	return nil
}
