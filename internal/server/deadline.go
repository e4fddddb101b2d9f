package server

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// enforceDeadlines bounds every call by the sooner of the client's deadline
// (Connect-Timeout-Ms, or Grpc-Timeout for gRPC and gRPC-Web) and maxDuration
// (0: no server cap), and makes a call whose context ends early notice it.
//
// connect-go already cancels the handler's context at the client's deadline,
// but a handler blocked reading the request body, as a stream waiting for the
// client's next message is, does not notice a cancelled context. So this
// middleware sets the request's read deadline to the call's deadline, and to
// now when the call's context is cancelled first (the client went away, or
// the server is draining): either wakes such a read, and connect-go ends the
// call with deadline_exceeded.
func enforceDeadlines(maxDuration time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			timeout, ok := clientTimeout(r.Header)
			if maxDuration > 0 && (!ok || timeout > maxDuration) {
				timeout, ok = maxDuration, true
			}
			if ok {
				deadline := time.Now().Add(timeout)
				ctx, cancel := context.WithDeadline(r.Context(), deadline)
				defer cancel()
				r = r.WithContext(ctx)
				// Not every ResponseWriter supports it; the context still bounds the call.
				_ = rc.SetReadDeadline(deadline)
			}

			// The ResponseController may be used only while the handler runs.
			var mu sync.Mutex
			running := true
			stop := context.AfterFunc(r.Context(), func() {
				mu.Lock()
				defer mu.Unlock()
				if running {
					_ = rc.SetReadDeadline(time.Now())
				}
			})
			defer func() {
				stop()
				mu.Lock()
				running = false
				mu.Unlock()
			}()
			next.ServeHTTP(w, r)
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
	var unit time.Duration
	switch v[len(v)-1] {
	case 'H':
		unit = time.Hour
	case 'M':
		unit = time.Minute
	case 'S':
		unit = time.Second
	case 'm':
		unit = time.Millisecond
	case 'u':
		unit = time.Microsecond
	case 'n':
		unit = time.Nanosecond
	default:
		return 0, false
	}
	if n > int64((1<<63-1)/unit) {
		return 0, false
	}
	return time.Duration(n) * unit, true
}
