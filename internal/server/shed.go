package server

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"connectrpc.com/connect"
)

// callLimit sheds load: it admits at most max calls at once and answers the
// rest at once with resource_exhausted, before their body is read, so that
// overload costs the server little and the calls it admits stay fast. What
// counts as a call, and how a shed one is answered, it is told: the server
// counts the calls of its services, REST's among them, but never health
// checks (a load balancer must still see the server) or the page, and
// answers each in its own protocol (Connect: HTTP 429; gRPC: trailers-only;
// gRPC-Web: status in the headers; REST: HTTP 429 and a google.rpc.Status).
type callLimit struct {
	max      int64
	counts   func(*http.Request) bool                        // whether r is a call that counts
	refuse   func(http.ResponseWriter, *http.Request, error) // answers a shed call
	inflight atomic.Int64
	shed     atomic.Int64
}

func newCallLimit(max int, counts func(*http.Request) bool, refuse func(http.ResponseWriter, *http.Request, error)) *callLimit {
	return &callLimit{max: int64(max), counts: counts, refuse: refuse}
}

// limit is the middleware that applies l.
func (l *callLimit) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.counts(r) {
			next.ServeHTTP(w, r)
			return
		}
		if n := l.inflight.Add(1); n > l.max {
			l.inflight.Add(-1)
			l.shed.Add(1)
			w.Header().Set("Retry-After", "1")
			msg := fmt.Sprintf("server overloaded: %d calls in flight, the most it takes at once; retry later", l.max)
			l.refuse(w, r, connect.NewError(connect.CodeResourceExhausted, errors.New(msg)))
			return
		}
		defer l.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}
