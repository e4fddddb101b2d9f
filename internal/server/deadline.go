package server

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// enforceDeadlines bounds every call by the sooner of the client's deadline
// (Connect-Timeout-Ms, or Grpc-Timeout for gRPC and gRPC-Web) and maxDuration
// (0: no server cap). connect-go already cancels the handler's context at the
// client's deadline, but a handler blocked reading the request body, as a
// stream waiting for the client's next message is, does not notice a
// cancelled context. So this middleware also sets the request's read
// deadline, which wakes such a read; connect-go then ends the call with
// deadline_exceeded. Requests without a deadline pass through untouched.
func enforceDeadlines(maxDuration time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			timeout, ok := clientTimeout(r.Header)
			if maxDuration > 0 && (!ok || timeout > maxDuration) {
				timeout, ok = maxDuration, true
			}
			if !ok {
				next.ServeHTTP(w, r)
				return
			}
			deadline := time.Now().Add(timeout)
			ctx, cancel := context.WithDeadline(r.Context(), deadline)
			defer cancel()
			// Not every ResponseWriter supports it; the context still bounds the call.
			_ = http.NewResponseController(w).SetReadDeadline(deadline)
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// clientTimeout reads the timeout a client asked for, if any and valid.
// Invalid values are left for connect-go to reject.
func clientTimeout(h http.Header) (time.Duration, bool) {
	if v := h.Get("Connect-Timeout-Ms"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || len(v) > 10 {
			return 0, false
		}
		return time.Duration(ms) * time.Millisecond, true
	}
	v := h.Get("Grpc-Timeout")
	if len(v) < 2 || len(v) > 9 {
		return 0, false
	}
	n, err := strconv.ParseInt(v[:len(v)-1], 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	unit, ok := map[byte]time.Duration{
		'H': time.Hour, 'M': time.Minute, 'S': time.Second,
		'm': time.Millisecond, 'u': time.Microsecond, 'n': time.Nanosecond,
	}[v[len(v)-1]]
	if !ok {
		return 0, false
	}
	if n > int64((1<<63-1)/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
