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
// each scrape: those of the call limit, health's budget, the drain, and the
// connections of conns, Serve's listeners once it runs, and the lines of
// net/http's log that logs dropped.
func registerMetrics(m *metrics.Metrics, calls *callLimit, health *healthBudget, d *drain, conns *atomic.Pointer[listeners], logs *lograte.Handler) error {
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
	labelled := func(name, help string, labels prometheus.Labels, read func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, read)
	}
	counter := func(name, help string, read func() float64) prometheus.Collector {
		return labelled(name, help, nil, read)
	}
	load := func(n *atomic.Int64) func() float64 { return func() float64 { return float64(n.Load()) } }
	const (
		refusedHelp = "grpc.health.v1 calls answered resource_exhausted at once by health's budget, by kind (check, watch) and reason (connection: its connection held its most, 4 Checks or 16 Watch streams; server: -max-health-checks or -max-health-watches were in progress, none of them silent)."
		evictedHelp = "grpc.health.v1 calls whose request had not arrived, ended resource_exhausted to make room for a new one when -max-health-checks or -max-health-watches were in progress, by kind (check, watch)."
	)
	var healthCounters []prometheus.Collector
	for _, p := range []*healthPool{&health.checks, &health.watches} {
		healthCounters = append(healthCounters,
			labelled("hellorpc_health_refused_total", refusedHelp, prometheus.Labels{"kind": p.kind, "reason": "connection"}, load(&p.refusedConn)),
			labelled("hellorpc_health_refused_total", refusedHelp, prometheus.Labels{"kind": p.kind, "reason": "server"}, load(&p.refusedFull)),
			labelled("hellorpc_health_evicted_total", evictedHelp, prometheus.Labels{"kind": p.kind}, load(&p.evicted)))
	}
	const openHelp = "Open connections by HTTP version (2: HTTP/2, h2c or over TLS; 1.1: the rest)."
	for _, c := range append(healthCounters,
		gauge("hellorpc_calls_in_flight", "Calls in progress (health checks aside).", nil,
			func() float64 { return float64(calls.admit.inUse()) }),
		counter("hellorpc_calls_shed_total", "Calls answered resource_exhausted because -max-inflight were in progress (after their wait in the queue, or at once when it was full), or their connection held its share (-max-inflight-per-conn).",
			func() float64 { return float64(calls.shed.Load()) }),
		counter("hellorpc_calls_yielded_total", "Calls ended resource_exhausted to free their slot while every -max-inflight slot was taken: each waited on its client (request or reply blocked) with no byte moved for 1 s.",
			func() float64 { return float64(calls.yield.Load()) }),
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
	) {
		if err := m.Register(c); err != nil {
			return err
		}
	}
	return nil
}
