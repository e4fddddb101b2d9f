package server

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"connectrpc.com/connect"
)

// healthBudget gives grpc.health.v1 calls a budget of their own, outside
// the in-flight limit (shed.go), which neither sheds them nor counts them:
// a load balancer must still see the server while every slot is held. The
// budget is bounded too, so that health calls cannot take everything
// either: 20 connections of 250 silent health streams (HEADERS, then
// nothing) used to hold 5,000 goroutines, as 200 of them held 50,000 and
// 1.1 GB (issue #23, finding 3). Checks and Watch streams have separate
// pools, so that held Watch streams cannot refuse a Check; each pool is
// bounded in all and per connection, and a call past either bound is
// answered resource_exhausted at once. The plain HTTP checks (/healthz,
// /readyz) are not counted: they are answered without waiting for anything.
type healthBudget struct {
	checks, watches healthPool
}

func newHealthBudget(maxChecks, maxWatches int) *healthBudget {
	return &healthBudget{
		checks:  healthPool{what: "health checks", flag: "-max-health-checks", max: int64(maxChecks), share: newConnShare(MaxHealthChecksPerConn, "")},
		watches: healthPool{what: "health Watch streams", flag: "-max-health-watches", max: int64(maxWatches), share: newConnShare(MaxHealthWatchesPerConn, "")},
	}
}

// watchPath is the path of the health Watch stream; every other path of
// the health service counts as a check.
const watchPath = healthPrefix + "Watch"

// limit is the middleware that applies b to the calls of the health service.
func (b *healthBudget) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if servicePrefix(r.URL.Path) != healthPrefix {
			next.ServeHTTP(w, r)
			return
		}
		p := &b.checks
		if r.URL.Path == watchPath {
			p = &b.watches
		}
		conn, err := p.take(r)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			writeError(w, r, err)
			return
		}
		defer p.give(conn)
		next.ServeHTTP(w, r)
	})
}

// healthPool is one pool of a healthBudget: at most max calls in progress,
// at most share.max of them from one connection.
type healthPool struct {
	what, flag string // what it counts, and the flag of max, for its errors
	max        int64
	share      *connShare // the calls of each connection
	n          atomic.Int64
}

// take counts a call of r and returns its connection, for give, or reports
// why it may not start; a call that took must give.
func (p *healthPool) take(r *http.Request) (any, error) {
	conn, ok := p.share.take(r)
	if !ok {
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"too many %s on this connection: %d in progress, its most at once; retry later", p.what, p.share.max))
	}
	if p.n.Add(1) > p.max {
		p.n.Add(-1)
		p.share.give(conn)
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"too many %s: %d in progress, the most at once (%s); retry later", p.what, p.max, p.flag))
	}
	return conn, nil
}

// give uncounts a call of connection conn that take counted.
func (p *healthPool) give(conn any) {
	p.n.Add(-1)
	p.share.give(conn)
}
