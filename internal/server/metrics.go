package server

import (
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hellorpc/hellorpc/internal/coalesce"
	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/telemetry"
)

// registerMetrics gives t the figures the RPC interceptor cannot see, read
// at each scrape: those of the call limit, the drain, and the connections of
// conns, Serve's listener once it runs.
func registerMetrics(t *telemetry.Telemetry, calls *callLimit, d *drain, conns *atomic.Pointer[connlimit.Listener]) error {
	bool01 := func(b bool) int64 {
		if b {
			return 1
		}
		return 0
	}
	listener := func() *connlimit.Listener { return conns.Load() }
	for _, err := range []error{
		t.Gauge("hellorpc.calls.in_flight", "Calls in progress (health checks aside).",
			func(report func(int64, ...attribute.KeyValue)) { report(calls.inflight.Load()) }),
		t.Counter("hellorpc.calls.shed", "Calls answered resource_exhausted at once because -max-inflight were in progress.",
			calls.shed.Load),
		t.Gauge("hellorpc.draining", "1 while the server drains (health NOT_SERVING), else 0.",
			func(report func(int64, ...attribute.KeyValue)) { report(bool01(d.draining.Load())) }),
		t.Gauge("hellorpc.connections.open", "Open connections by HTTP version (2: cleartext HTTP/2; 1.1: the rest, TLS included).",
			func(report func(int64, ...attribute.KeyValue)) {
				var h1, h2 int64
				if l := listener(); l != nil {
					l.Each(func(c connlimit.Info) {
						if coalesce.IsHTTP2(c.Conn) {
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
			func() int64 { w, _ := coalesce.Stats(); return w }),
		t.Counter("hellorpc.coalesce.flushes", "Socket writes in which the queued writes went out.",
			func() int64 { _, f := coalesce.Stats(); return f }),
		t.Counter("hellorpc.connections.evicted", "Idle connections closed to make room at -max-connections.",
			connStat(listener, func(evicted, _ int64) int64 { return evicted })),
		t.Counter("hellorpc.connections.refused", "New connections closed at -max-connections because every open one was busy.",
			connStat(listener, func(_, refused int64) int64 { return refused })),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// connStat reads one of the connection limit's counters, 0 before Serve.
func connStat(listener func() *connlimit.Listener, pick func(evicted, refused int64) int64) func() int64 {
	return func() int64 {
		l := listener()
		if l == nil {
			return 0
		}
		_, evicted, refused := l.Stats()
		return pick(evicted, refused)
	}
}
