package rest

import (
	"net/http"
	"strings"
)

// streamPattern is the route of the stream of replies (streamReplies).
const streamPattern = "GET /v1/hello/{name}/replies"

// streamRoutes matches streamPattern alone, for Streams.
var streamRoutes = func() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(streamPattern, http.NotFoundHandler()) // matched, never served
	return mux
}()

// Streams reports whether r is answered with a stream of replies (GET or
// HEAD /v1/hello/{name}/replies), as New routes it: the server watches such
// a call as it watches the RPC streams (a stream idle timeout), which it
// knows by their paths alone.
func Streams(r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, Prefix) || r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	_, pattern := streamRoutes.Handler(r)
	return pattern == streamPattern
}
