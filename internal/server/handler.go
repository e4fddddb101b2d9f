package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/grpcwebtext"
	"github.com/hellorpc/hellorpc/internal/validation"
)

// newHandler returns the http.Handler that serves every route of hellorpc.
// A request enters here and passes the middleware, outermost first: the
// stack growth of HTTP/2 streams (stack.go), the call's state (call.go), access log, Connection: close on retired connections and while draining, CORS, the in-flight call limit, gRPC-Web text mode, the HTTP/2 check
// for gRPC, the Connect GET check, the body cap, deadlines. It is then
// routed (routes.go: RPC paths, REST, the page); the interceptors record its
// outcome, and validate each message against the proto's rules
// (internal/validation); greeter answers it.
func (s *Server) newHandler() http.Handler {
	cfg := s.cfg
	validate, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		panic(err) // the rules are compiled in: a build defect that every test shows
	}
	// Innermost: validation, so that its errors are recorded as any other.
	interceptors := []connect.Interceptor{rpcOutcome{telemetry: cfg.Telemetry != nil}, s.drain.interceptor(), validate}
	if cfg.Telemetry != nil {
		// Outermost: the span is in the context rpcOutcome records.
		interceptors = append([]connect.Interceptor{cfg.Telemetry.Interceptor()}, interceptors...)
	}
	opts := connect.WithHandlerOptions(
		connect.WithReadMaxBytes(cfg.MaxMessageBytes),
		connect.WithCompressMinBytes(cfg.CompressMinBytes),
		connect.WithInterceptors(chain(interceptors...)),
		connect.WithRecover(recoverPanic(cfg.Logger)),
	)
	streams := clientStreamPaths(services)
	var h http.Handler = s.routes(opts)
	h = newDeadlines(cfg.MaxCallDuration).enforce(h)
	h = capUnaryBodies(cfg.MaxMessageBytes, streams)(h)
	h = checkConnectGET(h)
	h = requireHTTP2ForGRPC(h)
	h = grpcwebtext.Handler(h)
	h = s.calls.limit(h)
	h = allowCORS(cfg.CORSOrigins)(h)
	h = s.drain.closeHTTP1(h)
	if s.age != nil {
		h = s.age.closeRetiredHTTP1(h)
	}
	h = accessLog(cfg.Logger)(h)
	h = trackCalls(h) // the call's state, which the access log and the deadlines read
	h = GrowStack(h)
	return h
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
