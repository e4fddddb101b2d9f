// Package grpcwebtext lets a gRPC-Web server that speaks only the binary form
// (application/grpc-web, as connect-go does) answer the text form too:
// application/grpc-web-text and application/grpc-web-text+proto, the default
// mode of Google's grpc-web JavaScript client and the only one it documents
// for server streaming.
//
// Handler is HTTP middleware. For a text-mode request it decodes the base64
// request body as a stream, hands the next handler a binary gRPC-Web request,
// and base64-encodes the response stream back, with the response Content-Type
// in text form. It implements these parts of the gRPC-Web protocol
// (grpc/grpc doc/PROTOCOL-WEB.md):
//
//   - "Protocol differences vs gRPC over HTTP2", Content-Type:
//     application/grpc-web-text is a text-encoded stream of
//     application/grpc-web; "+proto" carries over.
//   - "Text-encoded (response) streams", item 2: the encoding is base64, and
//     because of in-stream padding the body need not be one valid base64
//     entity. The request decoder therefore accepts a sequence of
//     independently padded chunks, split anywhere; the response encoder
//     emits, at every flush, the bytes written since the last one as one
//     whole, padded base64 chunk, so a streamed message reaches the client
//     when it is sent, not at the end. The trailer frame (flag 0x80, section
//     "Message framing") is encoded the same way.
//   - Item 3: binary trailers are not base64-encoded a second time (the
//     wrapped handler writes them as gRPC-Web does; this package only adds
//     the outer text encoding).
//
// Invalid base64 ends the call with gRPC status INVALID_ARGUMENT
// ("invalid base64 in grpc-web-text request body at byte N"), which grpc-web
// clients surface as an RpcError with code 3 and that message. Message size
// limits of the wrapped handler apply to the decoded bytes. Requests of any
// other Content-Type pass through untouched, without allocating.
package grpcwebtext

import (
	"net/http"
	"strings"
)

// Handler returns middleware that serves gRPC-Web text mode in front of next,
// which must serve binary gRPC-Web.
func Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		binaryType, ok := binaryContentType(contentType(r.Header))
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r = r.Clone(r.Context())
		r.Header.Set("Content-Type", binaryType)
		r.Header.Del("Content-Length")
		r.ContentLength = -1
		r.Body = newDecoder(r.Body)
		tw := &responseWriter{ResponseWriter: w}
		defer tw.finish()
		next.ServeHTTP(tw, r)
	})
}

// textPrefix starts every text-mode Content-Type.
const textPrefix = "application/grpc-web-text"

// binaryContentType maps a text-mode Content-Type to its binary form.
// It reports false, without allocating, for every other Content-Type.
func binaryContentType(contentType string) (string, bool) {
	if len(contentType) < len(textPrefix) || !strings.EqualFold(contentType[:len(textPrefix)], textPrefix) {
		return "", false
	}
	rest := contentType[len(textPrefix):]
	if i := strings.IndexByte(rest, ';'); i >= 0 {
		rest = rest[:i]
	}
	switch strings.ToLower(strings.TrimSpace(rest)) {
	case "", "+proto":
		return "application/grpc-web+proto", true
	}
	return "", false // e.g. +json in text form: not defined, left to the next handler (415)
}

// contentType is h.Get("Content-Type") without canonicalizing the key on
// every request (net/http has canonicalized the keys of the request it read).
func contentType(h http.Header) string {
	if v := h["Content-Type"]; len(v) > 0 {
		return v[0]
	}
	return ""
}
