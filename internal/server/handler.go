package server

import (
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/web"
)

// NewHandler returns the http.Handler that serves every route of hellorpc.
// A request enters here, passes the middleware (outermost first: CORS, then
// the HTTP/2 check for gRPC, then deadlines), and is routed below; greeter validates and
// answers it.
func NewHandler(cfg Config) http.Handler {
	cfg = cfg.WithDefaults()
	opts := connect.WithHandlerOptions(
		connect.WithReadMaxBytes(cfg.MaxMessageBytes),
		connect.WithCompressMinBytes(cfg.CompressMinBytes),
	)
	services := []string{
		rpc_packageconnect.HelloWorldServiceName,
		grpchealth.HealthV1ServiceName,
		grpcreflect.ReflectV1ServiceName,
		grpcreflect.ReflectV1AlphaServiceName,
	}
	reflector := grpcreflect.NewStaticReflector(services...)

	// All routes, in one place.
	mux := http.NewServeMux()
	mux.Handle(rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(cfg.Greeter), opts))
	mux.Handle(grpchealth.NewHandler(grpchealth.NewStaticChecker(services...), opts))
	mux.Handle(grpcreflect.NewHandlerV1(reflector, opts))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector, opts))
	mux.Handle("/", web.Handler())

	var h http.Handler = mux
	h = enforceDeadlines(cfg.MaxCallDuration)(h)
	h = requireHTTP2ForGRPC(h)
	h = allowCORS(cfg.CORSOrigins)(h)
	return h
}
