package server

import "net/http"

// headerValue is h.Get(key) for a key already in canonical form
// ("Content-Type", "Grpc-Timeout"): net/http canonicalizes the keys of every
// request it reads, HTTP/1.1 and HTTP/2, so the map can be read directly.
// Header.Get canonicalizes its key on every call, which was about 460
// instructions a lookup, four lookups a call in the middleware.
func headerValue(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
