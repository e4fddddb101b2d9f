package server

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sweepInterval is how often the sweeper of deadlines looks at the calls in
// flight: a call ends at most this long after its deadline, or after its
// request's context ended (the client went away, the server is draining).
const sweepInterval = 50 * time.Millisecond

// enforceDeadlines bounds every call by the sooner of the client's deadline
// (Connect-Timeout-Ms, or Grpc-Timeout for gRPC and gRPC-Web) and the
// server's cap (d.maxDuration; 0: none), and makes a call whose context ends
// while it waits for its request body notice it.
//
// One mechanism serves every call, with no timer per call: the call's
// context is a callCtx that carries its deadline, listed in d, and one
// sweeper goroutine (running only while calls are in flight) ends the calls
// whose deadline has passed, or whose request's context has ended, every
// sweepInterval. connect-go still applies a client's deadline to the
// handler's context itself, to the millisecond.
//
// A handler blocked reading the request body (a unary body that trickles or
// never arrives, a client stream waiting for its next message) does not
// notice a cancelled context. So the body is read through the callCtx: when
// the call ends while a read waits, the request's read deadline is set to
// now, which wakes the read on HTTP/1.1 and HTTP/2 alike, and the read
// returns the context's error, which connect-go reports as
// deadline_exceeded (or canceled). A body that has been read to its end is
// left alone: on HTTP/1.1 net/http then watches the connection with a
// background read that a read deadline would break for the next request.
//
// When the access log has made the call's callCtx already (it is then the
// request's context), that one is used: one allocation per call for both.
func (d *deadlines) enforce(next http.Handler) http.Handler {
	return &enforcer{d, next}
}

// enforcer is enforce's handler: a method, not a closure, so that it is
// compiled on its own, where ctxRequest.carry's copy of the request stays on
// the stack (in a closure inlined into newHandler, Request.WithContext was
// called, not inlined, and allocated).
type enforcer struct {
	d    *deadlines
	next http.Handler
}

func (e *enforcer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := e.d
	c, made := r.Context().(*callCtx)
	if !made {
		cr := new(ctxRequest) // one allocation for the context and its request
		r = cr.carry(w, r)
		c = &cr.ctx
	}
	timeout, ok := clientTimeout(r.Header)
	if d.maxDuration > 0 && (!ok || timeout > d.maxDuration) {
		timeout, ok = d.maxDuration, true
	}
	if ok {
		start := c.start
		if start.IsZero() {
			start = time.Now()
		}
		c.deadline = start.Add(timeout)
	}
	d.add(c)
	defer d.remove(c) // before the handler returns: w is valid only while it runs
	e.next.ServeHTTP(w, r)
}

// deadlines lists the calls in flight, for the sweeper.
type deadlines struct {
	maxDuration time.Duration

	mu       sync.Mutex
	head     callCtx // sentinel of a circular list of the calls in flight
	sweeping bool    // the sweeper goroutine runs
}

func newDeadlines(maxDuration time.Duration) *deadlines {
	d := &deadlines{maxDuration: maxDuration}
	d.head.prev, d.head.next = &d.head, &d.head
	return d
}

func (d *deadlines) add(c *callCtx) {
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
func (d *deadlines) remove(c *callCtx) {
	d.mu.Lock()
	if c.next != nil {
		c.prev.next, c.next.prev = c.next, c.prev
		c.prev, c.next = nil, nil
	}
	d.mu.Unlock()
	c.mu.Lock()
	c.over = true
	c.mu.Unlock()
}

// sweep ends, every sweepInterval, the calls whose deadline has passed or
// whose request's context ended; it returns when no call is in flight.
func (d *deadlines) sweep() {
	tick := time.NewTicker(sweepInterval)
	defer tick.Stop()
	var ended []*callCtx
	for now := range tick.C {
		d.mu.Lock()
		if d.head.next == &d.head {
			d.sweeping = false
			d.mu.Unlock()
			return
		}
		ended = ended[:0]
		for c := d.head.next; c != &d.head; c = c.next {
			if !c.deadline.IsZero() && !now.Before(c.deadline) || c.Context.Err() != nil {
				ended = append(ended, c)
			}
		}
		for _, c := range ended { // off the list: each call ends once
			c.prev.next, c.next.prev = c.next, c.prev
			c.prev, c.next = nil, nil
		}
		d.mu.Unlock()
		for _, c := range ended {
			err := c.Context.Err()
			if err == nil {
				err = context.DeadlineExceeded
			}
			c.end(err)
		}
	}
}

// ctxRequest is a callCtx and the request that carries it, allocated
// together.
type ctxRequest struct {
	ctx callCtx
	req http.Request
}

// carry makes cr.ctx the context and the body of cr.req, a copy of r, and
// returns it; w is the ResponseWriter r is answered on. Request.WithContext is
// inlined here, so its own copy of r stays on the stack.
func (cr *ctxRequest) carry(w http.ResponseWriter, r *http.Request) *http.Request {
	cr.ctx.Context, cr.ctx.body, cr.ctx.w = r.Context(), r.Body, w
	cr.req = *r.WithContext(&cr.ctx)
	cr.req.Body = &cr.ctx
	return &cr.req
}

// callCtx is the context of one call and its request body: the request's
// context with the call's deadline, ended by the sweeper (see enforce). It
// counts the bytes read from the body, and, made by the access log, holds
// what the log learns of the call from inside connect-go (Value(callKey{})).
type callCtx struct {
	context.Context           // the request's: values, and its end, which the sweeper passes on
	start           time.Time // when the access log took the request, if it did
	deadline        time.Time
	body            io.ReadCloser       // the request's body, as it came
	w               http.ResponseWriter // the connection's, to wake a blocked read
	read            atomic.Int64        // bytes read from body
	call            *call               // the access log's record of the call, or nil
	prev, next      *callCtx            // in the list of deadlines, while listed

	mu      sync.Mutex
	done    chan struct{} // made when first asked for
	err     error         // why the call ended, once it has
	after   []func()      // AfterFunc's functions, run when it ends
	reading bool          // a Read is waiting on the connection
	over    bool          // the handler returned: w may no longer be used
}

// Value answers callKey{} with the access log's record of the call, or
// nil: no other context holds one, so the lookup ends here either way.
func (c *callCtx) Value(key any) any {
	if _, ok := key.(callKey); ok {
		if c.call == nil {
			return nil
		}
		return c.call
	}
	return c.Context.Value(key)
}

func (c *callCtx) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && (c.deadline.IsZero() || d.Before(c.deadline)) {
		return d, true
	}
	return c.deadline, !c.deadline.IsZero()
}

func (c *callCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		}
	}
	return c.done
}

func (c *callCtx) Err() error {
	c.mu.Lock()
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.Context.Err()
}

// AfterFunc lets contexts derived from c (context.WithTimeout and the like)
// hear of its end without a goroutine each: see context.AfterFunc.
func (c *callCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		go f()
		return func() bool { return false }
	}
	c.after = append(c.after, f)
	i := len(c.after) - 1
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.err != nil || c.after[i] == nil {
			return false
		}
		c.after[i] = nil
		return true
	}
}

// end ends the call with err: its context is done, and a Read waiting on
// the connection is woken.
func (c *callCtx) end(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	after := c.after
	if c.reading && !c.over {
		// Not every ResponseWriter supports it; the context still ends the call.
		_ = http.NewResponseController(c.w).SetReadDeadline(time.Now())
	}
	c.mu.Unlock()
	for _, f := range after {
		if f != nil {
			go f()
		}
	}
}

func (c *callCtx) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return 0, c.err
	}
	c.reading = true
	c.mu.Unlock()

	n, err := c.body.Read(p)
	c.read.Add(int64(n))

	c.mu.Lock()
	c.reading = false
	ended := c.err
	c.mu.Unlock()
	if err != nil && err != io.EOF && ended != nil {
		return n, ended // woken by end: report why
	}
	return n, err
}

func (c *callCtx) Close() error { return c.body.Close() }

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
