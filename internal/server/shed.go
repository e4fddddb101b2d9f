package server

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
)

// callLimit sheds load: it admits at most max calls at once; a call that
// finds them all taken waits in a short queue (admit.go: at most max calls,
// for at most 100 ms while the queue drains and 5 ms, newest first, while it
// stands), and when its wait is over, or the queue is full, is answered with
// resource_exhausted, before its body is read, so that overload costs the
// server little and the calls it admits stay fast. What
// counts as a call, and how a shed one is answered, it is told: the server
// counts the calls of its services, REST's among them, but never health
// checks (a load balancer must still see the server) or the page, and
// answers each in its own protocol (Connect: HTTP 429; gRPC: trailers-only;
// gRPC-Web: status in the headers; REST: HTTP 429 and a google.rpc.Status).
type callLimit struct {
	max      int64
	counts   func(*http.Request) bool                        // whether r is a call that counts
	refuse   func(http.ResponseWriter, *http.Request, error) // answers a shed call
	admit    *admission
	inflight atomic.Int64 // calls admitted and not yet done
	shed     atomic.Int64
}

func newCallLimit(max int, counts func(*http.Request) bool, refuse func(http.ResponseWriter, *http.Request, error)) *callLimit {
	return &callLimit{max: int64(max), counts: counts, refuse: refuse, admit: newAdmission(max, max)}
}

// limit is the middleware that applies l.
func (l *callLimit) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.counts(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !l.acquire(r) {
			l.shed.Add(1)
			w.Header().Set("Retry-After", "1")
			msg := fmt.Sprintf("server overloaded: %d calls in flight, the most it takes at once; retry later", l.max)
			l.refuse(w, r, connect.NewError(connect.CodeResourceExhausted, errors.New(msg)))
			return
		}
		l.inflight.Add(1)
		defer func() {
			l.inflight.Add(-1)
			l.admit.release(time.Now())
		}()
		next.ServeHTTP(w, r)
	})
}

// acquire takes a slot for r, waiting in the queue if it must, and reports
// whether r got one.
func (l *callLimit) acquire(r *http.Request) bool {
	waiter, ok := l.admit.acquire(time.Now())
	if waiter == nil {
		return ok
	}
	timer := time.NewTimer(l.admit.wait())
	defer timer.Stop()
	select {
	case <-waiter.ready:
		return true
	case <-timer.C:
	case <-r.Context().Done():
	}
	return l.admit.giveUp(waiter, time.Now())
}
