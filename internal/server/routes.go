package server

import (
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/rest"
	"github.com/hellorpc/hellorpc/web"
)

// newRoutes returns every route of hellorpc, in one place: the services,
// each with the handler options opts, and those of svc; REST under
// rest.Prefix (package rest), which may read at most maxBytes of a body; the
// plain HTTP health checks of h; and the page, with /openapi.yaml, for any
// other path. Health (h) and reflection report every service of svc.
func newRoutes(opts connect.HandlerOption, greet greeter.Options, maxBytes int, h *health, svc *services) *routes {
	reflector := grpcreflect.NewStaticReflector(svc.names...)
	// /healthz and /readyz for HTTP checkers, else the page at "/" and its files.
	rt := &routes{fallback: h.probes(web.Handler())}
	prefix, hello := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(greet), opts)
	rt.handle(prefix, hello)
	restHandler, err := rest.New(prefix, hello, rest.Limits{MaxBodyBytes: int64(maxBytes)})
	if err != nil {
		// The bindings are compiled in: a transcoder that cannot be built is a
		// build defect, which every test of the server shows.
		panic(err)
	}
	rt.rest = restHandler
	rt.handle(h.handler(opts))
	rt.handle(grpcreflect.NewHandlerV1(reflector, opts))
	rt.handle(grpcreflect.NewHandlerV1Alpha(reflector, opts))
	for prefix, mounted := range svc.mounted {
		rt.handle(prefix, mounted)
	}
	return rt
}

// routes dispatches a request on the first segment of its path: an RPC path
// "/package.Service/Method" goes to the handler of that service, a path
// under rest.Prefix to REST, anything else to the fallback (the page). An
// RPC path must arrive as it is, with no percent-encoding: encoded forms are
// answered unimplemented. It replaces http.ServeMux, whose pattern matching
// took about 8 % of the server's CPU under gRPC load, for a fixed set of
// exact service prefixes.
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

// writeError answers r with err in the protocol of its route: REST's, or
// that of its RPC.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	if isREST(r) {
		rest.WriteError(w, err)
		return
	}
	_ = rpcErrors.Write(w, r, err)
}

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
