package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// enforceDeadlines bounds every call by the sooner of the client's deadline
// (Connect-Timeout-Ms, or Grpc-Timeout for gRPC and gRPC-Web) and maxDuration
// (0: no server cap), and makes a call whose context ends while it waits for
// its request body notice it.
//
// connect-go cancels the handler's context at the client's deadline, but a
// handler blocked reading the request body (a unary body that trickles or
// never arrives, a client stream waiting for its next message) does not
// notice a cancelled context. So the body is read through deadlineBody: when
// the call's context ends (its deadline, the client went away, or the server
// is draining) while a read waits, the request's read deadline is set to now,
// which wakes the read on HTTP/1.1 and HTTP/2 alike, and the read returns the
// context's error, which connect-go reports as deadline_exceeded (or
// canceled). A body that has been read to its end is left alone: on HTTP/1.1
// net/http then watches the connection with a background read that a read
// deadline would break for the next request on it.
func enforceDeadlines(maxDuration time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			timeout, ok := clientTimeout(r.Header)
			if maxDuration > 0 && (!ok || timeout > maxDuration) {
				timeout, ok = maxDuration, true
			}
			ctx := r.Context()
			if ok {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			body := &deadlineBody{ReadCloser: r.Body, ctx: ctx, rc: http.NewResponseController(w)}
			stop := context.AfterFunc(ctx, body.wake)
			defer body.done(stop) // before cancel: the ResponseController is valid only while the handler runs
			r = r.WithContext(ctx)
			r.Body = body
			next.ServeHTTP(w, r)
		})
	}
}

// deadlineBody is a request body whose blocked reads end when ctx does.
type deadlineBody struct {
	io.ReadCloser
	ctx context.Context
	rc  *http.ResponseController

	mu      sync.Mutex
	reading bool // a Read is waiting on the connection
	over    bool // the handler returned: rc may no longer be used
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	if err := b.ctx.Err(); err != nil {
		b.mu.Unlock()
		return 0, err
	}
	b.reading = true
	b.mu.Unlock()

	n, err := b.ReadCloser.Read(p)

	b.mu.Lock()
	b.reading = false
	b.mu.Unlock()
	if err != nil && err != io.EOF {
		if ctxErr := b.ctx.Err(); ctxErr != nil {
			return n, ctxErr // woken by wake: report why
		}
	}
	return n, err
}

// wake runs when the call's context ends: it ends a Read that waits.
func (b *deadlineBody) wake() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.reading && !b.over {
		// Not every ResponseWriter supports it; the context still ends the call.
		_ = b.rc.SetReadDeadline(time.Now())
	}
}

// done stops wake for good once the handler has returned.
func (b *deadlineBody) done(stop func() bool) {
	stop()
	b.mu.Lock()
	b.over = true
	b.mu.Unlock()
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
