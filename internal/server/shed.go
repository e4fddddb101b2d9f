package server

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
)

// callLimit sheds load: it admits at most max calls at once; a call that
// finds them all taken waits in a short queue (admit.go: at most max calls,
// for at most 100 ms while the queue drains and 5 ms, newest first, while it
// stands), and when its wait is over, or the queue is full, is answered with
// resource_exhausted, before its body is read, so that overload costs the
// server little and the calls it admits stay fast. What
// counts as a call, and how a shed one is answered, it is told: the server
// counts the calls of its services, REST's among them, but never health
// checks (a load balancer must still see the server) or the page, and
// answers each in its own protocol (Connect: HTTP 429; gRPC: trailers-only;
// gRPC-Web: status in the headers; REST: HTTP 429 and a google.rpc.Status).
type callLimit struct {
	counts func(*http.Request) bool                        // whether r is a call that counts
	refuse func(http.ResponseWriter, *http.Request, error) // answers a shed call
	admit  *admission                                      // the slots, max of them, and the queue
	share  *connShare                                      // the most of them one client holds (fairshare.go)
	shed   atomic.Int64
	yield  atomic.Int64 // calls ended under pressure (pressure.go)
}

// newCallLimit admits max calls at once, at most perConn of them (in flight
// or queued) from one client: one connection, or one address named by the
// header ipHeader (when not ""); perConn <= 0, or at least max: no such
// bound, so that a client may queue for the slots it could hold.
func newCallLimit(max, perConn int, ipHeader string, counts func(*http.Request) bool, refuse func(http.ResponseWriter, *http.Request, error)) *callLimit {
	if perConn >= max {
		perConn = 0
	}
	return &callLimit{counts: counts, refuse: refuse, admit: newAdmission(max, max), share: newConnShare(perConn, ipHeader)}
}

// limit is the middleware that applies l.
func (l *callLimit) limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !l.counts(r) {
			next.ServeHTTP(w, r)
			return
		}
		c, r := callOf(w, r)
		client, ok := l.share.take(r)
		if !ok {
			l.shed.Add(1)
			w.Header().Set("Retry-After", "1")
			l.refuse(w, r, l.share.exceeded(client))
			return
		}
		defer l.share.give(client)
		if err := l.acquire(r, c.start); err != nil {
			if connect.CodeOf(err) == connect.CodeResourceExhausted {
				l.shed.Add(1)
				w.Header().Set("Retry-After", "1")
			}
			l.refuse(w, r, err)
			return
		}
		defer func() { l.admit.release(time.Now()) }()
		next.ServeHTTP(w, r)
	})
}

// acquire takes a slot for r, which arrived at start, waiting in the queue
// if it must, but not past the deadline its client gave (Connect-Timeout-Ms,
// Grpc-Timeout): a call whose deadline passes while it waits is answered
// deadline_exceeded without doing any of its work; one that finds no slot
// in its wait, or the queue full, resource_exhausted.
func (l *callLimit) acquire(r *http.Request, start time.Time) error {
	waiter, ok := l.admit.acquire(time.Now())
	if !ok {
		return l.overloaded()
	}
	if waiter == nil {
		return nil
	}
	wait, byDeadline := l.admit.wait(), false
	if timeout, ok := clientTimeout(r.Header); ok {
		if left := time.Until(start.Add(timeout)); left < wait {
			wait, byDeadline = max(left, 0), true
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-waiter.ready:
		return nil
	case <-timer.C:
	case <-r.Context().Done():
	}
	if l.admit.giveUp(waiter, time.Now()) {
		return nil
	}
	if byDeadline {
		return connect.NewError(connect.CodeDeadlineExceeded,
			fmt.Errorf("deadline passed while the call waited for one of the %d calls in flight to end", l.admit.max))
	}
	return l.overloaded()
}

func (l *callLimit) overloaded() error {
	msg := fmt.Sprintf("server overloaded: %d calls in flight, the most it takes at once; retry later", l.admit.max)
	return connect.NewError(connect.CodeResourceExhausted, errors.New(msg))
}
