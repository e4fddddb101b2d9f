package main

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/server"
)

// levers are the changes to a bare connect-go server that issue #16 asked to
// try from outside connect-go, each measured by bench/levers against the
// server without it.
var levers = map[string]string{
	"nogzip":         "connect.WithCompression(\"gzip\", nil, nil): no gzip offered (nor grpc-accept-encoding sent)",
	"sendmax":        "connect.WithSendMaxBytes(1 MiB): replies checked against a size limit",
	"nocompressmin":  "no connect.WithCompressMinBytes: every reply compressed when the client accepts it",
	"noreadmax":      "no connect.WithReadMaxBytes: request size unchecked",
	"codec":          "a proto codec that encodes HelloRequest and HelloReply with protowire by hand (the upper bound of generated fast-path code such as vtprotobuf)",
	"novalidate":     "no validation interceptor (what the proto's rules cost)",
	"stack":          "grow an HTTP/2 stream's stack once, up front (server.GrowStack, as hello-server does)",
	"nowritetimeout": "http.HTTP2Config.WriteByteTimeout 0: no write deadline set and cleared around each flush",
}

func leverNames() string {
	names := make([]string, 0, len(levers))
	for name := range levers {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func parseLevers(list string) (map[string]bool, error) {
	on := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		if name == "" {
			continue
		}
		if _, ok := levers[name]; !ok {
			return nil, fmt.Errorf("-levers: unknown lever %q (known: %s)", name, leverNames())
		}
		on[name] = true
	}
	return on, nil
}

// handlerLevers returns the connect-go handler options of the levers on.
func handlerLevers(on map[string]bool, cfg server.Config) []connect.HandlerOption {
	var opts []connect.HandlerOption
	if on["nogzip"] {
		opts = append(opts, connect.WithCompression("gzip", nil, nil))
	}
	if on["sendmax"] {
		opts = append(opts, connect.WithSendMaxBytes(cfg.MaxMessageBytes))
	}
	if on["nocompressmin"] {
		opts = append(opts, connect.WithCompressMinBytes(0))
	}
	if on["noreadmax"] {
		opts = append(opts, connect.WithReadMaxBytes(0))
	}
	if on["codec"] {
		opts = append(opts, connect.WithCodec(helloCodec{}))
	}
	return opts
}

// bloat adds hellorpc's whole server to mux, when built with -tags bloat
// (levers_bloat.go); a binary without the tag stays the bare peer.
var bloat func(*http.ServeMux)

// wrapLevers wraps h in the middleware levers on.
func wrapLevers(on map[string]bool, mux *http.ServeMux) http.Handler {
	if on["bloat"] {
		bloat(mux)
	}
	if !on["stack"] {
		return mux
	}
	return server.GrowStack(mux)
}

// serverLevers applies the http.Server levers on.
func serverLevers(on map[string]bool, srv *http.Server) {
	if on["nowritetimeout"] {
		srv.HTTP2.WriteByteTimeout = 0
	}
}

// helloCodec is the "proto" codec with HelloRequest and HelloReply encoded
// by hand; any other message goes through package proto.
type helloCodec struct{}

func (helloCodec) Name() string { return "proto" }

func (c helloCodec) Marshal(m any) ([]byte, error) { return c.MarshalAppend(nil, m) }

func (helloCodec) MarshalAppend(b []byte, m any) ([]byte, error) {
	if reply, ok := m.(*rpc.HelloReply); ok && len(reply.ProtoReflect().GetUnknown()) == 0 {
		if reply.Message != "" {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendString(b, reply.Message)
		}
		return b, nil
	}
	pm, ok := m.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("marshal %T: not a proto.Message", m)
	}
	return proto.MarshalOptions{}.MarshalAppend(b, pm)
}

func (helloCodec) Unmarshal(b []byte, m any) error {
	req, ok := m.(*rpc.HelloRequest)
	if !ok {
		pm, ok := m.(proto.Message)
		if !ok {
			return fmt.Errorf("unmarshal into %T: not a proto.Message", m)
		}
		return proto.Unmarshal(b, pm)
	}
	req.Reset()
	all := b
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b[n:])
			if m < 0 {
				return protowire.ParseError(m)
			}
			if !utf8.Valid(v) {
				return errors.New("HelloRequest.name: invalid UTF-8")
			}
			req.Name = string(v)
			b = b[n+m:]
			continue
		}
		// Anything else: the general path, which keeps unknown fields.
		return proto.Unmarshal(all, req)
	}
	return nil
}
