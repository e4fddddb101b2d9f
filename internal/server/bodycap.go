package server

import "net/http"

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
