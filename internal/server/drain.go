package server

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"connectrpc.com/connect"
)

// drain is the shutdown state that the handler consults; Serve begins it.
type drain struct {
	health   *health
	draining atomic.Bool
}

// begin marks the server as draining: health fails at once (health.go).
func (d *drain) begin() {
	d.draining.Store(true)
	d.health.stopServing()
}

// closeHTTP1 is middleware: while draining, HTTP/1.1 replies carry
// Connection: close, so that clients and proxies open their next request on
// a new connection, which the load balancer sends elsewhere.
func (d *drain) closeHTTP1(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 1 && d.draining.Load() {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// interceptor returns a connect interceptor: a stream that ends because the
// server cancelled it while draining reports unavailable, which clients may
// retry elsewhere, instead of canceled.
func (d *drain) interceptor() connect.Interceptor { return drainAware{d} }

type drainAware struct{ d *drain }

func (a drainAware) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }

func (a drainAware) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a drainAware) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		if err != nil && a.d.draining.Load() && ctx.Err() != nil {
			return connect.NewError(connect.CodeUnavailable, errors.New("server is shutting down: retry"))
		}
		return err
	}
}
