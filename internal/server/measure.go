package server

import (
	"net/http"
	"strings"
	"time"

	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/metrics"
)

// procedures are the RPCs measured by name; calls of any other path are
// measured as "_OTHER".
var procedures = []string{
	rpc_packageconnect.HelloWorldServiceSayHelloProcedure,
	rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure,
	rpc_packageconnect.HelloWorldServiceLotsOfGreetingsProcedure,
	rpc_packageconnect.HelloWorldServiceBidiHelloProcedure,
	"/" + grpchealth.HealthV1ServiceName + "/Check",
	"/" + grpchealth.HealthV1ServiceName + "/Watch",
	"/" + grpcreflect.ReflectV1ServiceName + "/ServerReflectionInfo",
	"/" + grpcreflect.ReflectV1AlphaServiceName + "/ServerReflectionInfo",
}

// measureCalls returns middleware that measures every RPC with calls once
// it is answered, whoever answered it: connect-go, REST, or the middleware
// inside it (shed, refused, malformed, oversized). A request is an RPC when
// its path is a served method or under REST's prefix, or its Content-Type
// is gRPC's, gRPC-Web's or Connect streaming's (a method the server does not
// serve: "_OTHER"); the page and the probes are not. Nil calls: none.
func measureCalls(calls *metrics.Calls) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if calls == nil {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			method, known := calls.Method(r.URL.Path)
			rest := !known && isREST(r)
			if !known && !rest && !rpcContentType(r) {
				next.ServeHTTP(w, r)
				return
			}
			c, r := callOf(w, r)
			rec := c.recorder(w)
			if rest {
				c.outcome.wantMethod.Store(true)
			}
			next.ServeHTTP(rec, r)
			if rest {
				method = c.outcome.methodOr(method)
			}
			traceID, _ := c.outcome.traceIDs()
			calls.Observe(method, callProtocol(r, &c.outcome, rest), callCode(&c.outcome, rec), time.Since(c.start), traceID)
		})
	}
}

// rpcContentType reports whether r's Content-Type is one that only RPCs
// send: gRPC's, gRPC-Web's or Connect streaming's.
func rpcContentType(r *http.Request) bool {
	ct := strings.ToLower(headerValue(r.Header, "Content-Type"))
	return strings.HasPrefix(ct, "application/grpc") || strings.HasPrefix(ct, "application/connect+")
}

// outcomeProtocols are the protocols of outcome.protocol's values.
var outcomeProtocols = [1 + len(rpcProtocols)]metrics.Protocol{
	metrics.ProtocolOther, metrics.ProtocolConnect, metrics.ProtocolGRPC, metrics.ProtocolGRPCWeb,
}

// callProtocol returns the protocol of the call r: REST, connect-go's
// when the call reached it, else what r's headers say.
func callProtocol(r *http.Request, o *outcome, rest bool) metrics.Protocol {
	if rest {
		return metrics.ProtocolREST
	}
	if p := o.protocol.Load(); p > 0 && int(p) < len(outcomeProtocols) {
		return outcomeProtocols[p]
	}
	switch guessProtocol(r) {
	case "grpc":
		return metrics.ProtocolGRPC
	case "grpcweb":
		return metrics.ProtocolGRPCWeb
	case "connect":
		return metrics.ProtocolConnect
	}
	return metrics.ProtocolOther
}
