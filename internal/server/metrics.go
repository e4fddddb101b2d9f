package server

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/h2guard"
	"github.com/hellorpc/hellorpc/internal/lograte"
	"github.com/hellorpc/hellorpc/internal/telemetry"
)

// registerMetrics gives t the figures the RPC interceptor cannot see, read
// at each scrape: those of the call limit, the drain, and the connections of
// conns, Serve's listeners once it runs, and the lines of net/http's log
// that logs dropped.
func registerMetrics(t *telemetry.Telemetry, calls *callLimit, d *drain, conns *atomic.Pointer[listeners], logs *lograte.Handler) error {
	bool01 := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	// stat reads a counter of one of Serve's listeners, 0 before Serve.
	stat := func(read func(*listeners) int64) func() int64 {
		return func() int64 {
			if l := conns.Load(); l != nil {
				return read(l)
			}
			return 0
		}
	}
	for _, err := range []error{
		t.Gauge("hellorpc.calls.in_flight", "Calls in progress (health checks aside).",
			func(report func(int64, ...attribute.KeyValue)) { report(calls.inflight.Load()) }),
		t.Counter("hellorpc.calls.shed", "Calls answered resource_exhausted because -max-inflight were in progress (after their wait in the queue, or at once when it was full).",
			calls.shed.Load),
		t.Gauge("hellorpc.draining", "1 while the server drains (health NOT_SERVING), else 0.",
			func(report func(int64, ...attribute.KeyValue)) { report(bool01(d.draining.Load())) }),
		t.Gauge("hellorpc.connections.open", "Open connections by HTTP version (2: HTTP/2, h2c or over TLS; 1.1: the rest).",
			func(report func(int64, ...attribute.KeyValue)) {
				var h1, h2 int64
				if l := conns.Load(); l != nil {
					l.Each(func(c connlimit.Info) {
						if h2guard.IsHTTP2(c.Conn) {
							h2++
						} else {
							h1++
						}
					})
				}
				report(h1, attribute.String("http", "1.1"))
				report(h2, attribute.String("http", "2"))
			}),
		t.Counter("hellorpc.coalesce.writes", "Writes of HTTP/2 frames that coalescing connections queued.",
			stat(func(l *listeners) int64 { w, _ := l.coalesce.Stats(); return w })),
		t.Counter("hellorpc.coalesce.flushes", "Socket writes in which the queued writes went out.",
			stat(func(l *listeners) int64 { _, f := l.coalesce.Stats(); return f })),
		t.Counter("hellorpc.connections.flooded", "HTTP/2 connections closed with GOAWAY ENHANCE_YOUR_CALM for a flood of cheap frames or resets.",
			stat(func(l *listeners) int64 { return l.guard.Stats().Floods })),
		t.Counter("hellorpc.log.lines_suppressed", "Lines of net/http's log (TLS handshake errors, GOAWAY received, connection errors) dropped past their rate, per connection or overall.",
			logs.Suppressed),
		t.Counter("hellorpc.connections.evicted", "Idle connections closed to make room at -max-connections.",
			stat(func(l *listeners) int64 { _, evicted, _ := l.Stats(); return evicted })),
		t.Counter("hellorpc.connections.refused", "New connections closed at -max-connections because every open one was busy.",
			stat(func(l *listeners) int64 { _, _, refused := l.Stats(); return refused })),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}
