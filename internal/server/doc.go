// Package server assembles hellorpc. New builds a Server from a Config once:
// the one http.Handler of every route (the greeting service in gRPC, gRPC-Web,
// Connect and REST, health, reflection and the web page) with its middleware,
// and Serve runs it on a listener over HTTP/1.1 and unencrypted HTTP/2 (h2c)
// on one port, or HTTPS, with connection limits, write coalescing and a
// graceful drain.
//
// Where a request goes: it enters the handler built in handler.go and passes
// the middleware listed there, outermost first; routes.go dispatches it to a
// service, or to package rest, which transcodes it to one; package
// validation checks each message against the proto's rules, and package
// greeter answers it.
//
// h2c comes from net/http itself (http.Server.Protocols and HTTP2Config), not
// from golang.org/x/net/http2, whose server and h2c packages are deprecated.
package server
