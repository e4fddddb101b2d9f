package rest

import (
	"errors"
	"net/http"
)

// ErrBodyTimeout is what the read of a request body reports (wrapped, with
// context.DeadlineExceeded) when the body did not arrive whole within the
// time the server gives it: the client's fault, which REST answers 408
// Request Timeout, where a call past its caller's own deadline is 504
// Gateway Timeout. The server that bounds bodies wraps it in its read error.
var ErrBodyTimeout = errors.New("request body timeout")

// lateBody is the ResponseWriter of a REST call whose body vanguard reads
// through body: once a read of it has failed with ErrBodyTimeout, the
// deadline_exceeded answer (504) is sent as 408 Request Timeout, and over
// HTTP/1.x with Connection: close, as the rest of the body is abandoned.
type lateBody struct {
	http.ResponseWriter
	body  *boundedBody
	http1 bool
}

func (w *lateBody) WriteHeader(code int) {
	if code == http.StatusGatewayTimeout && w.body.late.Load() {
		code = http.StatusRequestTimeout
		if w.http1 {
			w.Header().Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// Flush keeps streaming through the wrapper.
func (w *lateBody) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *lateBody) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// timedOut notes whether err, a read error of the body, is ErrBodyTimeout.
func (b *boundedBody) timedOut(err error) bool {
	if errors.Is(err, ErrBodyTimeout) {
		b.late.Store(true)
		return true
	}
	return false
}
