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
// (0: no server cap), and makes a client stream whose context ends early
// notice it. clientStreams holds the paths of client-streaming methods.
//
// connect-go already cancels the handler's context at the client's deadline,
// so for calls whose client sends one message this middleware adds only the
// server's cap. But a handler blocked reading the request body, as a client
// stream waiting for the next message is, does not notice a cancelled
// context. So for client streams it also sets the request's read deadline to
// the call's deadline, and to now when the call's context is cancelled first
// (the client went away, or the server is draining): either wakes such a
// read, and connect-go ends the call with deadline_exceeded.
func enforceDeadlines(maxDuration time.Duration, clientStreams map[string]bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			timeout, ok := clientTimeout(r.Header)
			capped := maxDuration > 0 && (!ok || timeout > maxDuration)
			if capped {
				timeout, ok = maxDuration, true
			}
			if !clientStreams[r.URL.Path] {
				if capped {
					ctx, cancel := context.WithTimeout(r.Context(), timeout)
					defer cancel()
					r = r.WithContext(ctx)
				}
				next.ServeHTTP(w, r)
				return
			}

			rc := http.NewResponseController(w)
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
