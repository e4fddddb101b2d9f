package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

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
// bounded in all and per connection. A call past its connection's bound is
// answered resource_exhausted at once. A call that finds the pool full
// ends the oldest call whose request has not arrived (a silent one:
// HEADERS, then nothing) with resource_exhausted and takes its slot, so
// that silent calls from enough connections cannot lock a real checker out
// until -body-timeout ends them; only when every holder has its request (it
// is being answered, or it is a Watch that was) is the new call answered
// resource_exhausted. The plain HTTP checks (/healthz, /readyz) are not
// counted: they are answered without waiting for anything.
type healthBudget struct {
	checks, watches healthPool
}

func newHealthBudget(maxChecks, maxWatches int) *healthBudget {
	return &healthBudget{
		checks:  healthPool{kind: "check", what: "health checks", flag: "-max-health-checks", max: maxChecks, share: newConnShare(MaxHealthChecksPerConn, "")},
		watches: healthPool{kind: "watch", what: "health Watch streams", flag: "-max-health-watches", max: maxWatches, share: newConnShare(MaxHealthWatchesPerConn, "")},
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
		c, r := callOf(w, r)
		h, err := p.take(c, r)
		if err != nil {
			w.Header().Set("Retry-After", "1")
			writeError(w, r, err)
			return
		}
		defer p.give(h)
		next.ServeHTTP(w, r)
	})
}

// healthPool is one pool of a healthBudget: at most max calls in progress,
// at most share.max of them from one connection.
type healthPool struct {
	kind       string // "check" or "watch", as the metrics label it
	what, flag string // what it counts, and the flag of max, for its errors
	max        int
	share      *connShare // the calls of each connection

	mu      sync.Mutex
	holders map[*healthHold]struct{} // the calls that hold a slot

	// For the metrics: calls refused past the pool's bound and their
	// connection's, and calls ended to make room.
	refusedFull, refusedConn, evicted atomic.Int64
}

// healthHold is a call of a healthPool.
type healthHold struct {
	c       *callState
	conn    any   // its connection, for share.give
	length  int64 // its request's declared length; -1: unknown
	hasBody bool  // its request is a POST that may have a body
	freed   bool  // its slot went to another call (under the pool's lock)
}

// awaits reports whether h's request has not arrived whole: it has a body
// that its handler has not read to the end.
func (h *healthHold) awaits() bool {
	return h.hasBody && !h.c.bodyRead(h.length)
}

// take gives a slot of p to the call c, of request r, and returns its hold,
// for give, or reports why it may not start; a call that took must give.
func (p *healthPool) take(c *callState, r *http.Request) (*healthHold, error) {
	conn, ok := p.share.take(r)
	if !ok {
		p.refusedConn.Add(1)
		return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"too many %s on this connection: %d in progress, its most at once; retry later", p.what, p.share.max))
	}
	h := &healthHold{c: c, conn: conn, length: r.ContentLength, hasBody: r.Method == http.MethodPost && c.body != http.NoBody}
	p.mu.Lock()
	if p.holders == nil {
		p.holders = map[*healthHold]struct{}{}
	}
	var evict *healthHold
	if len(p.holders) >= p.max {
		evict = p.silentest()
		if evict == nil {
			p.mu.Unlock()
			p.share.give(conn)
			p.refusedFull.Add(1)
			return nil, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
				"too many %s: %d in progress, the most at once (%s), all answering; retry later", p.what, p.max, p.flag))
		}
		evict.freed = true
		delete(p.holders, evict)
	}
	p.holders[h] = struct{}{}
	p.mu.Unlock()
	if evict != nil {
		p.evicted.Add(1)
		// Its Read, waiting for the request, is woken and returns the
		// error, which connect-go answers.
		evict.c.end(context.Canceled, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
			"ended after %v to make room for a new call: its request had not arrived while all %d %s were in progress (%s); send the request with its headers",
			time.Since(evict.c.start).Round(time.Millisecond), p.max, p.what, p.flag)), true)
	}
	return h, nil
}

// silentest returns the oldest holder of p whose request has not arrived,
// or nil if every one has; p.mu is held.
func (p *healthPool) silentest() *healthHold {
	var oldest *healthHold
	for h := range p.holders {
		if (oldest == nil || h.c.start.Before(oldest.c.start)) && h.awaits() {
			oldest = h
		}
	}
	return oldest
}

// give frees the slot of a call that take gave one, unless it went to
// another call.
func (p *healthPool) give(h *healthHold) {
	p.mu.Lock()
	if !h.freed {
		delete(p.holders, h)
	}
	p.mu.Unlock()
	p.share.give(h.conn)
}
