package server

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// callState is what the server keeps of one request while it serves it, in
// one allocation: the call's context, which is also its request body
// (callctx.go), the copy of the request that carries them, the recorder of
// the answer, the writer that holds a single reply's flushes (holdflush.go),
// and the RPC's outcome as connect-go reports it (outcome.go).
// trackCalls makes it, outermost; the access log and the deadlines read it
// (callOf) and know nothing of each other; the metrics and the access log
// share the recorder (recorder).
type callState struct {
	context.Context                     // the request's: values, and its end, which the sweeper passes on
	start           time.Time           // when the request arrived
	deadline        time.Time           // zero: none but the request's own
	bodyDeadline    time.Time           // the body must be read whole by then; zero: no bound
	bodyLength      int64               // its declared length, when bodyDeadline is set; -1: unknown
	body            io.ReadCloser       // the request's body, as it came
	w               http.ResponseWriter // the connection's, to wake a blocked read
	read            atomic.Int64        // bytes read from body
	prev, next      *callState          // in the list of deadlines, while listed
	conn            net.Conn            // the connection it came on (connlimit's), nil without Serve
	counted         bool                // the in-flight limit counts it: under pressure it yields its slot when silent (pressure.go)

	// Of a stream, for the stream idle timeout (idle.go):
	idle    bool         // it ends when no byte moves for the timeout
	quiet   bool         // once answered, it waits by design (health Watch): see waitsByDesign
	written atomic.Int64 // bytes of replies written, and flushes done
	sent    sentWriter   // the ResponseWriter that counts them

	// Kept by the sweeper alone, under the deadlines' lock:
	moved   int64     // read+written as it last saw them
	yielded bool      // it ended under pressure (pressure.go)
	movedAt time.Time // when it saw them change; the call's start at first

	mu      sync.Mutex
	done    chan struct{} // made when first asked for
	err     error         // why the call ended, once it has: context.DeadlineExceeded or Canceled
	cause   error         // what a woken Read or Write reports: err, said in full
	after   []func()      // AfterFunc's functions, run when it ends
	reading bool          // a Read is waiting on the connection
	writing bool          // a Write or Flush of sent is waiting on the connection
	eof     bool          // a Read returned io.EOF: the body was read to its end
	over    bool          // the handler returned: w may no longer be used

	req     http.Request     // the request that carries the call, a copy of the one that came
	rec     responseRecorder // the metrics' and the access log's, when either reads it
	held    heldWriter       // holdFlushes', for a call that answers one message
	kept    bool             // the metrics or the access log read this call's outcome: it is recorded
	outcome outcome
}

// trackCalls is middleware that gives every request its callState, which
// the middleware after it and the handler find in the request's context.
// An HTTP/1.1 body that the handler leaves unread cannot hold the
// connection (unread.go).
func trackCalls(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, r := callOf(w, r)
		if !declaresBody(r) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			c.body = http.NoBody // no route reads one
			stopReading(w)
		}
		next.ServeHTTP(w, r)
		if r.Method == http.MethodPost && c.read.Load() == 0 && !c.bodyRead(r.ContentLength) {
			stopReading(w)
		}
	})
}

// callOf returns the callState of r and the request that carries it: the
// one trackCalls made, or, for middleware used without it (alone, in a
// test), a new one. w is the ResponseWriter r is answered on.
func callOf(w http.ResponseWriter, r *http.Request) (*callState, *http.Request) {
	if c, ok := r.Context().(*callState); ok {
		return c, r
	}
	c := new(callState) // the one allocation
	c.start = time.Now()
	return c, c.carry(w, r)
}

// carry makes c the context and the body of c.req, a copy of r, and returns
// it. Request.WithContext is inlined here, so its own copy of r stays on the
// stack: the copy in c is the only one (TestMiddlewareAllocatesOneObjectACall).
func (c *callState) carry(w http.ResponseWriter, r *http.Request) *http.Request {
	c.Context, c.body, c.w = r.Context(), r.Body, w
	c.req = *r.WithContext(c)
	c.req.Body = c
	return &c.req
}

// recorder returns the recorder of the call's answer, set to record what
// goes to w the first time it is asked for; then the outcome is recorded.
// Middleware inside the first asker passes that recorder as w.
func (c *callState) recorder(w http.ResponseWriter) *responseRecorder {
	if c.rec.ResponseWriter == nil {
		c.rec.ResponseWriter = w
	}
	c.kept = true
	return &c.rec
}
