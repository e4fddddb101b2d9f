package server

import (
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/rest"
	"github.com/hellorpc/hellorpc/web"
)

// services are the names that health and reflection report.
var services = []string{
	rpc_packageconnect.HelloWorldServiceName,
	grpchealth.HealthV1ServiceName,
	grpcreflect.ReflectV1ServiceName,
	grpcreflect.ReflectV1AlphaServiceName,
}

// routes returns every route of hellorpc, in one place: the services, each
// with the handler options opts; REST under rest.Prefix (package rest); the plain HTTP
// health checks; and the page, with /openapi.yaml, for any other path.
func (s *Server) routes(opts connect.HandlerOption) *routes {
	reflector := grpcreflect.NewStaticReflector(services...)
	// /healthz and /readyz for HTTP checkers, else the page at "/" and its files.
	rt := &routes{fallback: s.drain.probes(web.Handler())}
	prefix, hello := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(s.cfg.Greeter), opts)
	rt.handle(prefix, hello)
	restHandler, err := rest.New(prefix, hello, rest.Limits{MaxBodyBytes: int64(s.cfg.MaxMessageBytes)})
	if err != nil {
		// The bindings are compiled in: a transcoder that cannot be built is a
		// build defect, which every test of the server shows.
		panic(err)
	}
	rt.rest = restHandler
	rt.handle(grpchealth.NewHandler(quietChecker{s.drain.health}, opts))
	rt.handle(grpcreflect.NewHandlerV1(reflector, opts))
	rt.handle(grpcreflect.NewHandlerV1Alpha(reflector, opts))
	return rt
}

// routes dispatches a request on the first segment of its path: an RPC path
// "/package.Service/Method" goes to the handler of that service, a path
// under /v1/ to REST, anything else to the fallback (the page). An RPC path must arrive as it is, with no
// percent-encoding: encoded forms are answered unimplemented. It replaces http.ServeMux, whose pattern
// matching took about 8 % of the server's CPU under gRPC load, for a fixed
// set of exact service prefixes.
type routes struct {
	services map[string]http.Handler // by "/package.Service/"
	rest     http.Handler            // paths under rest.Prefix
	fallback http.Handler
}

// handle adds a service handler as connect-go returns it: its path prefix
// and the handler.
func (rt *routes) handle(prefix string, h http.Handler) {
	if rt.services == nil {
		rt.services = make(map[string]http.Handler)
	}
	rt.services[prefix] = h
}

func (rt *routes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if prefix := servicePrefix(r.URL.Path); prefix != "" {
		if h, ok := rt.services[prefix]; ok {
			if r.URL.RawPath != "" {
				// Percent-encoded forms of an RPC path ("%2F", "%53ayHello")
				// are not that RPC, as in grpc-go: a proxy's path rules see
				// the path as sent, so it must not reach the RPC decoded.
				refuseEncodedPath(w, r)
				return
			}
			h.ServeHTTP(w, r)
			return
		}
	}
	if isREST(r) {
		rt.rest.ServeHTTP(w, r)
		return
	}
	rt.fallback.ServeHTTP(w, r)
}

// servicePrefix returns the first segment of path with its slashes,
// "/package.Service/", or "" when path has one segment only.
func servicePrefix(path string) string {
	if i := strings.IndexByte(path[min(1, len(path)):], '/'); i >= 0 {
		return path[:i+2]
	}
	return ""
}

// isREST reports whether r is a REST call (a path under rest.Prefix).
func isREST(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, rest.Prefix) }

// refuseEncodedPath answers an RPC path sent percent-encoded as an unknown
// path is answered: 404 for Connect and the page, unimplemented for gRPC and
// gRPC-Web (whose errors travel with HTTP status 200).
func refuseEncodedPath(w http.ResponseWriter, r *http.Request) {
	msg := "no RPC at percent-encoded path " + r.URL.RawPath + ": send the path unencoded"
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		writeRPCError(w, r, connect.CodeUnimplemented, msg)
		return
	}
	http.Error(w, msg, http.StatusNotFound)
}
