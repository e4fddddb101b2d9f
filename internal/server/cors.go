package server

import (
	"net/http"

	connectcors "connectrpc.com/cors"
	"github.com/rs/cors"
)

// corsMaxAge is how long, in seconds, browsers may cache a preflight answer.
const corsMaxAge = 2 * 60 * 60

// allowCORS returns middleware that answers CORS preflights and adds CORS
// headers for the given origins, with the methods and headers that the
// Connect, gRPC-Web and gRPC protocols need (from connectrpc.com/cors), and
// the W3C trace-context headers. With
// no origins it returns the handler unchanged: same-origin calls only. (rs/cors
// itself would read an empty list as "allow all".) The handler keeps the
// ResponseWriter it was given, so http.Flusher stays visible to streams.
func allowCORS(origins []string) func(http.Handler) http.Handler {
	if len(origins) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	c := cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: connectcors.AllowedMethods(),
		AllowedHeaders: append(connectcors.AllowedHeaders(), "Traceparent", "Tracestate"), // W3C trace context, which the page sends
		ExposedHeaders: connectcors.ExposedHeaders(),
		MaxAge:         corsMaxAge,
	})
	return c.Handler
}
