package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/grpcwebtext"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/validation"
)

// newHandler returns the http.Handler that serves every route of hellorpc.
// A request passes the middleware listed here, outermost first; it is then
// routed (routes.go: RPC paths, REST, the page); the interceptors of
// handlerOptions record its outcome and validate each message against the
// proto's rules (internal/validation); greeter answers it, or a service of
// svc. opts are handlerOptions'. age and measured (the RPCs' metrics) may
// be nil.
func newHandler(cfg Config, d *drain, calls *callLimit, health *healthBudget, age *connAge, opts connect.HandlerOption, svc *services, measured *metrics.Calls) http.Handler {
	rt := newRoutes(opts, cfg.Greeter, cfg.MaxMessageBytes, d.health, svc)
	clientStreams, replyStreams := streamPaths(svc.names, clientSide), streamPaths(svc.names, serverSide)
	return wrap(rt, slices.Concat(cfg.Middleware, []func(http.Handler) http.Handler{
		GrowStack,                             // stack.go: the stack growth of HTTP/2 streams, once
		trackCalls,                            // call.go: the call's state, which the next ones read
		holdFlushes(svc.served, replyStreams), // holdflush.go: a single reply, sent as the handler returns
		measureCalls(measured),                // measure.go: every RPC, answered by whom it may be
		accessLog(cfg.AccessLog),              // accesslog.go
		age.closeRetiredHTTP1,                 // connage.go: Connection: close on retired connections
		d.closeHTTP1,                          // drain.go: Connection: close while draining
		allowCORS(cfg.CORSOrigins),            // cors.go
		calls.limit,                           // shed.go: the in-flight call limit
		health.limit,                          // healthbudget.go: health's own
		grpcwebtext.Handler,                   // gRPC-Web text mode
		requireHTTP2ForGRPC,                   // grpc_http1.go
		checkConnectGET,                       // connectget.go
		capUnaryBodies(cfg.MaxMessageBytes, clientStreams), // bodycap.go
		calls.deadlines(newDeadlines(cfg.MaxCallDuration, cfg.BodyTimeout, cfg.StreamIdleTimeout, clientStreams, replyStreams)).enforce, // deadline.go, idle.go, pressure.go
	}))
}

// wrap returns h behind middleware, the first outermost.
func wrap(h http.Handler, middleware []func(http.Handler) http.Handler) http.Handler {
	for i := len(middleware) - 1; i >= 0; i-- {
		h = middleware[i](h)
	}
	return h
}

// handlerOptions returns the options of every connect-go handler, the
// greeter's and those of Config.Services alike: the limits of cfg, and the
// interceptors, outermost first. Validation checks the greeter's request
// messages only (package validation checks the types it is given). measured
// (nil with metrics off) names the methods of REST's calls.
func handlerOptions(cfg Config, d *drain, measured *metrics.Calls) connect.HandlerOption {
	validate, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		panic(err) // the rules are compiled in: a build defect that every test shows
	}
	// Innermost: validation, so that its errors are recorded as any other.
	interceptors := []connect.Interceptor{rpcOutcome{telemetry: cfg.Telemetry != nil, calls: measured}, d.interceptor(), validate}
	if cfg.Telemetry != nil {
		// Outermost: the span is in the context rpcOutcome records.
		interceptors = append([]connect.Interceptor{cfg.Telemetry.Interceptor()}, interceptors...)
	}
	return connect.WithHandlerOptions(
		connect.WithReadMaxBytes(cfg.MaxMessageBytes),
		connect.WithCompressMinBytes(cfg.CompressMinBytes),
		connect.WithInterceptors(chain(interceptors...)),
		connect.WithRecover(recoverPanic(cfg.Logger)),
	)
}

// recoverPanic turns a panic in an RPC handler into an internal error for
// that call alone, logged with its stack; the server keeps serving.
func recoverPanic(logger *slog.Logger) func(context.Context, connect.Spec, http.Header, any) error {
	return func(ctx context.Context, spec connect.Spec, _ http.Header, p any) error {
		logger.ErrorContext(ctx, "panic in handler", "procedure", spec.Procedure,
			"panic", p, "stack", string(debug.Stack()))
		return connect.NewError(connect.CodeInternal, errors.New("internal error"))
	}
}
