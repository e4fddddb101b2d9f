package server

import (
	"net/http"

	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// envelopeAllowance is what a unary body may hold beyond its one message:
// the 5-byte envelope prefix of gRPC and gRPC-Web, with room to spare.
const envelopeAllowance = 1 << 10

// capUnaryBodies caps the request body of every call whose client sends one
// message (unary and server-streaming RPCs) at maxMessageBytes plus
// envelopeAllowance, so that no such body is read past what one message may
// be. connect-go's read limit (connect.WithReadMaxBytes) still bounds each
// message after decompression. Client streams are not capped here: their
// messages are bounded one by one, and their count by the greeter.
func capUnaryBodies(maxMessageBytes int, clientStreams map[string]bool) func(http.Handler) http.Handler {
	limit := int64(maxMessageBytes) + envelopeAllowance
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// A declared Content-Length within the limit already bounds the body.
			if r.Method == http.MethodPost && (r.ContentLength < 0 || r.ContentLength > limit) && !clientStreams[r.URL.Path] {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// clientStreamPaths returns the paths ("/package.Service/Method") of the
// methods of the named services whose client sends a stream, as the global
// protobuf registry describes them.
func clientStreamPaths(serviceNames []string) map[string]bool {
	// grpcreflect keeps its descriptors out of the global registry.
	paths := map[string]bool{
		"/" + grpcreflect.ReflectV1ServiceName + "/ServerReflectionInfo":      true,
		"/" + grpcreflect.ReflectV1AlphaServiceName + "/ServerReflectionInfo": true,
	}
	for _, name := range serviceNames {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		service, ok := d.(protoreflect.ServiceDescriptor)
		if err != nil || !ok {
			continue // not registered (grpchealth keeps its own; all but Watch are unary)
		}
		methods := service.Methods()
		for i := range methods.Len() {
			if m := methods.Get(i); m.IsStreamingClient() {
				paths["/"+name+"/"+string(m.Name())] = true
			}
		}
	}
	return paths
}
