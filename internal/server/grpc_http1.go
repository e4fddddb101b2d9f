package server

import (
	"net/http"
	"strings"
)

// requireHTTP2ForGRPC answers gRPC requests (Content-Type application/grpc,
// not gRPC-Web) that arrive over HTTP/1.x with 505 HTTP Version Not Supported
// and a plain explanation, instead of letting a call that the gRPC protocol
// does not define go ahead. Everything else passes through untouched.
func requireHTTP2ForGRPC(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 2 && isGRPC(headerValue(r.Header, "Content-Type")) {
			w.Header().Set("Connection", "close")
			http.Error(w, "gRPC requires HTTP/2: connect with h2c prior knowledge "+
				"(curl --http2-prior-knowledge), or use gRPC-Web or Connect over HTTP/1.1",
				http.StatusHTTPVersionNotSupported)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isGRPC reports whether contentType names the gRPC protocol
// ("application/grpc" or "application/grpc+codec"), not gRPC-Web.
func isGRPC(contentType string) bool {
	const grpc = "application/grpc"
	if len(contentType) < len(grpc) || !strings.EqualFold(contentType[:len(grpc)], grpc) {
		return false
	}
	rest := contentType[len(grpc):]
	return rest == "" || rest[0] == '+' || rest[0] == ';'
}
