package server

import (
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// A Service is a connect service that the server mounts beside
// HelloWorldService (Config.Services). It builds the service's handler with
// the options it is given, the server's (message limits, compression,
// interceptors, panic recovery), and returns the handler's path prefix,
// "/package.Service/": the signature of connect-go's generated
// New<Service>Handler functions once the implementation is bound, as in
//
//	func(opts ...connect.HandlerOption) (string, http.Handler) {
//		return fooconnect.NewFooServiceHandler(impl, opts...)
//	}
type Service func(opts ...connect.HandlerOption) (prefix string, h http.Handler)

// builtIn are the names of the services every Server serves.
var builtIn = []string{
	rpc_packageconnect.HelloWorldServiceName,
	grpchealth.HealthV1ServiceName,
	grpcreflect.ReflectV1ServiceName,
	grpcreflect.ReflectV1AlphaServiceName,
}

// services are the connect services of one Server: those of
// Config.Services, built with the server's handler options, and the names
// of all of them, built-in ones first, which health and reflection report
// and the in-flight limit counts.
type services struct {
	mounted map[string]http.Handler // Config.Services' handlers, by path prefix
	names   []string
	served  map[string]bool // the path prefixes ("/package.Service/") of every service of names
}

// newServices builds the handlers of mounted with opts. It panics, as
// http.ServeMux.Handle does on a duplicate pattern, when a service's prefix
// is not "/package.Service/" or is already taken: a defect of the program
// that configures the server, which its first test shows.
func newServices(mounted []Service, opts connect.HandlerOption) *services {
	s := &services{mounted: make(map[string]http.Handler), names: builtIn, served: make(map[string]bool)}
	for _, name := range builtIn {
		s.served["/"+name+"/"] = true
	}
	for i, build := range mounted {
		prefix, h := build(opts)
		name := strings.Trim(prefix, "/")
		if prefix != "/"+name+"/" || strings.Contains(name, "/") || h == nil {
			panic(fmt.Sprintf("server: Config.Services[%d] returned path prefix %q (and a handler: %t), want \"/package.Service/\" and a handler", i, prefix, h != nil))
		}
		if s.served[prefix] {
			panic(fmt.Sprintf("server: Config.Services[%d] mounts %s, which is already served", i, name))
		}
		s.served[prefix] = true
		s.mounted[prefix] = h
		s.names = append(s.names[:len(s.names):len(s.names)], name)
	}
	return s
}

// healthPrefix is the path prefix of the health service's methods.
const healthPrefix = "/" + grpchealth.HealthV1ServiceName + "/"

// isCall reports whether r is a call that the in-flight limit counts: a
// REST call, or a call of a service other than health (a load balancer must
// still reach the health checks).
func (s *services) isCall(r *http.Request) bool {
	if isREST(r) {
		return true
	}
	p := servicePrefix(r.URL.Path)
	return p != healthPrefix && s.served[p]
}
