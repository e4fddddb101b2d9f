package server

import "net/http"

// holdFlushes returns middleware for the calls of the services served (their
// path prefixes, "/package.Service/") whose server answers with one message
// (every method but those in replyStreams):
// the ResponseWriter it passes on keeps http.Flusher, but its Flush does
// nothing. The reply then stays in net/http's buffer until the handler
// returns, and goes out with the end of the response: over HTTP/2 with
// END_STREAM on its last DATA frame (gRPC: on its trailers' HEADERS), over
// HTTP/1.1 as one body with its Content-Length.
//
// connect-go flushes after each message it sends and after gRPC-Web's
// trailers, unary calls included. Such a flush sends the reply before the
// handler returns, and net/http's HTTP/2 server then ends the stream with a
// separate empty DATA frame, which a proxy may wait for before it passes the
// reply on (HAProxy did: a p99 of 200 ms). Streams of replies flush as
// before.
func holdFlushes(served, replyStreams map[string]bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !served[servicePrefix(r.URL.Path)] || replyStreams[r.URL.Path] {
				next.ServeHTTP(w, r)
				return
			}
			c, r := callOf(w, r)
			c.held.ResponseWriter = w
			next.ServeHTTP(&c.held, r)
		})
	}
}

// heldWriter is the ResponseWriter of a call that answers with one message:
// its Flush does nothing (holdFlushes).
type heldWriter struct{ http.ResponseWriter }

// Flush does nothing: the reply is sent when the handler returns.
func (*heldWriter) Flush() {}

// Unwrap lets http.ResponseController reach the connection's writer for
// everything but flushing, which it finds here first.
func (w *heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
