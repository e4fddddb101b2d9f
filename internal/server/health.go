package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// Paths of the plain HTTP health checks, for checkers that speak no gRPC.
const (
	livenessPath  = "/healthz" // 200 while the process serves at all
	readinessPath = "/readyz"  // 200 while it takes calls, 503 once it stops
)

// health answers health checks: grpc.health.v1 for the server ("") and
// each of its services, and GET /healthz and /readyz for checkers that speak
// no gRPC. Every check says serving until stopServing.
type health struct {
	names   []string // of the services
	checker *grpchealth.StaticChecker
	stopped atomic.Bool // readiness fails
}

func newHealth(names []string) *health {
	return &health{names: names, checker: grpchealth.NewStaticChecker(names...)}
}

// stopServing makes every check but liveness fail at once: grpc.health.v1
// answers NOT_SERVING for the server and every service, /readyz 503.
func (h *health) stopServing() {
	h.stopped.Store(true)
	h.checker.SetStatus("", grpchealth.StatusNotServing)
	for _, name := range h.names {
		h.checker.SetStatus(name, grpchealth.StatusNotServing)
	}
}

// handler returns the grpc.health.v1 service as connect-go serves it: its
// path prefix and its handler.
func (h *health) handler(opts ...connect.HandlerOption) (string, http.Handler) {
	return grpchealth.NewHandler(quietChecker{h.checker}, opts...)
}

// quietChecker is the health checker that grpchealth serves: it answers an
// unknown service as grpc-go does, never echoing the requested name (which
// a client may make as large as its message limit) into grpc-message. A
// Check of one gets not_found "unknown service"; a Watch of one gets
// SERVICE_UNKNOWN and stays open, as the health protocol asks (the service
// may be added later; here none is, so nothing more is sent). It keeps
// StaticChecker's Watch, without which grpchealth answers every Watch
// unimplemented: watchers (grpc-go's client-side health checking, Envoy)
// would never see the drain's NOT_SERVING.
type quietChecker struct{ *grpchealth.StaticChecker }

// statusServiceUnknown is grpc.health.v1's SERVICE_UNKNOWN, which
// grpchealth does not name: a Watch of a service the server does not know.
const statusServiceUnknown grpchealth.Status = 3

func (c quietChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	res, err := c.StaticChecker.Check(ctx, req)
	if connect.CodeOf(err) != connect.CodeNotFound {
		return res, err
	}
	if watching(ctx) {
		return &grpchealth.CheckResponse{Status: statusServiceUnknown}, nil
	}
	return nil, connect.NewError(connect.CodeNotFound, errors.New("unknown service"))
}

// Watch watches req.Service as StaticChecker does, or, for a service it does
// not know, nothing: the Watch then stays open on SERVICE_UNKNOWN (Check).
func (c quietChecker) Watch(ctx context.Context, req *grpchealth.CheckRequest, onChange func()) (func(), error) {
	stop, err := c.StaticChecker.Watch(ctx, req, onChange)
	if connect.CodeOf(err) == connect.CodeNotFound {
		return func() {}, nil
	}
	return stop, err
}

// watching reports whether ctx is the context of a Watch stream: grpchealth
// answers a Watch with the Check of the checker, in the Watch's context.
func watching(ctx context.Context) bool {
	info, ok := connect.CallInfoForHandlerContext(ctx)
	return ok && info.Spec().Procedure == watchPath
}

// probes answers the plain HTTP health checks, GET or HEAD, with a one-word
// body; anything else goes to next.
func (h *health) probes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != livenessPath && r.URL.Path != readinessPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method "+r.Method+" not allowed: health is read with GET", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case r.URL.Path == livenessPath:
			_, _ = io.WriteString(w, "ok\n")
		case h.stopped.Load():
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "draining\n")
		default:
			_, _ = io.WriteString(w, "ready\n")
		}
	})
}
