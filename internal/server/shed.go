package server

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/hellorpc/hellorpc/internal/rest"
)

// callLimit sheds load: it admits at most max calls to the services at once
// and answers the rest at once with resource_exhausted (Connect: HTTP 429; gRPC:
// trailers-only; gRPC-Web: status in the headers), before their body is
// read, so that overload costs the server little and the calls it admits
// stay fast. REST calls count as calls (REST: HTTP 429 and a
// google.rpc.Status). Health checks are never shed (a load balancer must
// still see the server), and requests to the page are not counted.
type callLimit struct {
	max      int64
	services map[string]bool // path prefixes "/package.Service/" that count
	inflight atomic.Int64
	shed     atomic.Int64
}

func newCallLimit(max int) *callLimit {
	l := &callLimit{max: int64(max), services: make(map[string]bool)}
	for _, name := range services {
		if name != grpchealth.HealthV1ServiceName {
			l.services["/"+name+"/"] = true
		}
	}
	return l
}

func (l *callLimit) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		restCall := isREST(r)
		if !restCall && !l.services[servicePrefix(r.URL.Path)] {
			next.ServeHTTP(w, r)
			return
		}
		if n := l.inflight.Add(1); n > l.max {
			l.inflight.Add(-1)
			l.shed.Add(1)
			w.Header().Set("Retry-After", "1")
			msg := fmt.Sprintf("server overloaded: %d calls in flight, the most it takes at once; retry later", l.max)
			if restCall {
				rest.WriteError(w, connect.NewError(connect.CodeResourceExhausted, errors.New(msg)))
				return
			}
			writeRPCError(w, r, connect.CodeResourceExhausted, msg)
			return
		}
		defer l.inflight.Add(-1)
		next.ServeHTTP(w, r)
	})
}
