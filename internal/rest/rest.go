// Package rest serves the REST bindings of HelloWorldService (the proto's
// google.api.http options) in front of its connect-go handler: unary
// bindings are transcoded by vanguard into Connect calls of that handler, so
// that they pass the same interceptors as every other call, and
// LotsOfReplies streams as newline-delimited JSON or server-sent events.
// Errors are answered as an HTTP status and a google.rpc.Status in JSON.
//
// It needs the handler and the path prefix that connect-go gave it, and the
// limits of a request; it knows nothing of the server around it.
package rest

import (
	"fmt"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// Prefix starts every REST path; the bindings are the proto's
// google.api.http options.
const Prefix = "/v1/"

// Limits bound what a REST request may send.
type Limits struct {
	// MaxBodyBytes bounds a request's body after decompression. Default
	// 1 MiB.
	MaxBodyBytes int64
}

// DefaultMaxBodyBytes is Limits.MaxBodyBytes' default.
const DefaultMaxBodyBytes = 1 << 20

// New returns the handler of the REST paths of HelloWorldService, which is
// served by svc at the path prefix that connect-go gave it: unary bindings
// are transcoded by vanguard into Connect calls of svc; LotsOfReplies, a
// server stream that vanguard serves over REST only for google.api.HttpBody
// replies, is answered by streamReplies.
func New(prefix string, svc http.Handler, limits Limits) (http.Handler, error) {
	if limits.MaxBodyBytes <= 0 {
		limits.MaxBodyBytes = DefaultMaxBodyBytes
	}
	transcoder, err := vanguard.NewTranscoder([]*vanguard.Service{
		vanguard.NewService(prefix, svc,
			vanguard.WithTargetProtocols(vanguard.ProtocolConnect),
			vanguard.WithTargetCodecs(vanguard.CodecProto)),
	}, vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
		return clientJSON{vanguard.NewJSONCodec(res)}
	}))
	if err != nil {
		return nil, fmt.Errorf("REST transcoder for %s: %w", prefix, err)
	}
	client := connect.NewClient[rpc.HelloRequest, rpc.HelloReply](inProcess{svc},
		"http://in-process"+rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure)
	request := (&rpc.HelloRequest{}).ProtoReflect().Descriptor() // every binding's input
	mux := http.NewServeMux()
	mux.Handle(streamPattern, streamReplies(client))
	// vanguard rewrites the request it transcodes (path, headers); it gets a
	// copy, so that the access log still sees the request as it came. It
	// matches the path segment by segment and decodes each itself, so it
	// gets the path as sent: a name may hold "/" as %2F, and "%" as %25.
	mux.Handle(Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path, r.URL.RawPath = r.URL.EscapedPath(), ""
		if r.Method == http.MethodHead {
			// HEAD is GET without the body (RFC 9110), which net/http drops
			// from the answer to a HEAD request by itself.
			r.Method = http.MethodGet
		}
		if err := checkQuery(r.URL.Query(), request); err != nil {
			WriteError(w, err)
			return
		}
		body, err := clientBody(r, limits.MaxBodyBytes)
		if err != nil {
			WriteError(w, err)
			return
		}
		transcoder.ServeHTTP(&jsonContentType{ResponseWriter: &lateBody{w, body, r.ProtoMajor == 1}}, r)
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkUTF8(r.URL); err != nil {
			WriteError(w, err)
			return
		}
		statusErrors(mux).ServeHTTP(w, r)
	}), nil
}
