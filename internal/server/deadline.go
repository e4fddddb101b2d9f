package server

import (
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/rest"
)

// sweepInterval is how often the sweeper of deadlines looks at the calls in
// flight: a call ends at most this long after its deadline, or after its
// request's context ended (the client went away, the server is draining).
const sweepInterval = 50 * time.Millisecond

// enforce is middleware that bounds every call by the sooner of the client's
// deadline (Connect-Timeout-Ms, or Grpc-Timeout for gRPC and gRPC-Web) and
// the server's cap (d.maxDuration; 0: none), and makes a call whose context
// ends while it waits for its request body notice it.
//
// One mechanism serves every call, with no timer per call: the call's
// context is its callState (call.go), which carries its deadline and is
// listed in d, and one sweeper goroutine (running only while calls are in
// flight) ends the calls whose deadline has passed, or whose request's
// context has ended, every sweepInterval. connect-go still applies a
// client's deadline to the handler's context itself, to the millisecond.
//
// A handler blocked reading the request body (a unary body that trickles or
// never arrives, a client stream waiting for its next message) does not
// notice a cancelled context. So the body is read through the callState: when
// the call ends while a read waits, the request's read deadline is set to
// now, which wakes the read on HTTP/1.1 and HTTP/2 alike, and the read
// returns the context's error, which connect-go reports as
// deadline_exceeded (or canceled). A body that has been read to its end is
// left alone: on HTTP/1.1 net/http then watches the connection with a
// background read that a read deadline would break for the next request.
func (d *deadlines) enforce(next http.Handler) http.Handler {
	return &enforcer{d, next}
}

// enforcer is enforce's handler.
type enforcer struct {
	d    *deadlines
	next http.Handler
}

func (e *enforcer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := e.d
	c, r := callOf(w, r)
	timeout, ok := clientTimeout(r.Header)
	if d.maxDuration > 0 && (!ok || timeout > d.maxDuration) {
		timeout, ok = d.maxDuration, true
	}
	if ok {
		c.deadline = c.start.Add(timeout)
	}
	if d.bodyTimeout > 0 && r.Method == http.MethodPost && r.ContentLength != 0 && !d.clientStreams[r.URL.Path] {
		c.bodyDeadline, c.bodyLength = c.start.Add(d.bodyTimeout), r.ContentLength
	}
	c.conn, _ = r.Context().Value(connKey{}).(net.Conn)
	c.counted = d.counts != nil && d.counts(r)
	if d.idleTimeout > 0 && (d.clientStreams[r.URL.Path] || d.replyStreams[r.URL.Path] || rest.Streams(r)) {
		c.idle, c.quiet = true, r.URL.Path == watchPath
		c.sent = sentWriter{ResponseWriter: w, c: c}
		w = &c.sent
	}
	d.add(c)
	defer d.remove(c) // before the handler returns: w is valid only while it runs
	e.next.ServeHTTP(w, r)
}

// deadlines lists the calls in flight, for the sweeper.
type deadlines struct {
	maxDuration   time.Duration
	bodyTimeout   time.Duration            // 0: none
	idleTimeout   time.Duration            // of streams (idle.go); <= 0: none
	counts        func(*http.Request) bool // the calls the in-flight limit counts; nil: none
	pressure      func() bool              // every in-flight slot is taken; nil: never
	yielded       *atomic.Int64            // counts the calls ended under pressure, when pressure is set
	clientStreams map[string]bool          // paths whose bodies bodyTimeout does not bound
	replyStreams  map[string]bool          // paths whose replies are streams

	mu       sync.Mutex
	head     callState // sentinel of a circular list of the calls in flight
	sweeping bool      // the sweeper goroutine runs
}

// newDeadlines bounds calls by maxDuration (0: none), the bodies of those
// whose client sends one message by bodyTimeout (0: none), and streams, the
// paths of clientStreams and replyStreams, by idleTimeout (<= 0: none).
func newDeadlines(maxDuration, bodyTimeout, idleTimeout time.Duration, clientStreams, replyStreams map[string]bool) *deadlines {
	d := &deadlines{maxDuration: maxDuration, bodyTimeout: bodyTimeout, idleTimeout: idleTimeout,
		clientStreams: clientStreams, replyStreams: replyStreams}
	d.head.prev, d.head.next = &d.head, &d.head
	return d
}

func (d *deadlines) add(c *callState) {
	d.mu.Lock()
	c.prev, c.next = d.head.prev, &d.head
	c.prev.next, d.head.prev = c, c
	start := !d.sweeping
	d.sweeping = true
	d.mu.Unlock()
	if start {
		go d.sweep()
	}
}

// remove takes c off the list once its handler has returned, after which
// its ResponseWriter may no longer be used.
func (d *deadlines) remove(c *callState) {
	d.mu.Lock()
	if c.next != nil {
		c.prev.next, c.next.prev = c.next, c.prev
		c.prev, c.next = nil, nil
	}
	d.mu.Unlock()
	if c.finish() && c.conn != nil {
		// A call that ended by itself moved its messages: its connection
		// is not silent (connlimit evicts silent ones at the limit).
		connlimit.Moved(c.conn, c.start)
	}
}

// sweep ends, every sweepInterval, the calls whose deadline has passed,
// whose request's context ended, whose body is late, or, streams, that have
// been idle for the idle timeout; it tells connlimit of the connections on
// which bytes moved. It returns when no call is in flight.
func (d *deadlines) sweep() {
	tick := time.NewTicker(sweepInterval)
	defer tick.Stop()
	type ending struct {
		c       *callState
		cause   error // nil: the context's error, else deadline exceeded
		stalled bool  // no byte moved since the last sweep
	}
	var ended []ending
	for now := range tick.C {
		d.mu.Lock()
		if d.head.next == &d.head {
			d.sweeping = false
			d.mu.Unlock()
			return
		}
		ended = ended[:0]
		pressed := d.pressure != nil && d.pressure()
		for c := d.head.next; c != &d.head; c = c.next {
			moved := c.sawMoved(now)
			if moved && c.conn != nil {
				connlimit.Moved(c.conn, now)
			}
			switch {
			case !c.deadline.IsZero() && !now.Before(c.deadline) || c.Context.Err() != nil:
				ended = append(ended, ending{c, nil, !moved})
			case c.bodyLate(now):
				ended = append(ended, ending{c, errBodyLate(d.bodyTimeout), !moved})
			case c.idleFor(d.idleTimeout, now):
				ended = append(ended, ending{c, errStreamIdle(d.idleTimeout), true})
			case pressed && c.yieldsUnderPressure(now):
				ended = append(ended, ending{c, errYielded(now.Sub(c.movedAt)), true})
				c.yielded = true
				d.yielded.Add(1)
				pressed = false // one a sweep, the oldest first: the next sweep sees the slot it frees
			}
		}
		for _, e := range ended { // off the list: each call ends once
			e.c.prev.next, e.c.next.prev = e.c.next, e.c.prev
			e.c.prev, e.c.next = nil, nil
		}
		d.mu.Unlock()
		for _, e := range ended {
			err := e.c.Context.Err()
			if err == nil {
				err = context.DeadlineExceeded
				if e.c.yielded {
					err = pressureEnd
				}
			}
			e.c.end(err, e.cause, e.stalled)
		}
	}
}

// clientTimeout reads the timeout a client asked for, if any and valid.
// Invalid values are left for connect-go to reject.
func clientTimeout(h http.Header) (time.Duration, bool) {
	if v := headerValue(h, "Connect-Timeout-Ms"); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil || ms < 0 || len(v) > 10 {
			return 0, false
		}
		return time.Duration(ms) * time.Millisecond, true
	}
	v := headerValue(h, "Grpc-Timeout")
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
