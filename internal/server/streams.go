package server

import (
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
)

// side is the side of a call that sends a stream of messages.
type side int

const (
	clientSide side = iota // client-streaming and bidirectional methods
	serverSide             // server-streaming and bidirectional methods
)

// streamPaths returns the paths ("/package.Service/Method") of the methods
// of the named services in which s sends a stream, as the global protobuf
// registry describes them, with those of the services that keep their
// descriptors out of it: reflection (bidirectional) and health (Watch
// streams replies; every other method is unary).
func streamPaths(serviceNames []string, s side) map[string]bool {
	paths := map[string]bool{
		"/" + grpcreflect.ReflectV1ServiceName + "/ServerReflectionInfo":      true,
		"/" + grpcreflect.ReflectV1AlphaServiceName + "/ServerReflectionInfo": true,
	}
	if s == serverSide {
		paths["/"+grpchealth.HealthV1ServiceName+"/Watch"] = true
	}
	for _, name := range serviceNames {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		service, ok := d.(protoreflect.ServiceDescriptor)
		if err != nil || !ok {
			continue // not registered: listed above
		}
		methods := service.Methods()
		for i := range methods.Len() {
			m := methods.Get(i)
			if s == clientSide && m.IsStreamingClient() || s == serverSide && m.IsStreamingServer() {
				paths["/"+name+"/"+string(m.Name())] = true
			}
		}
	}
	return paths
}
