package server

import (
	"context"
	"net/http"
	"time"

	"github.com/hellorpc/hellorpc/internal/rest"
)

// An HTTP/1.1 request that declares a body (Content-Length or chunked) and
// is answered without reading it (health checks, the page, 404, 405, 415, a
// shed call, REST GET, OPTIONS, an encoded RPC path) would hold its
// connection for as long as the client sends nothing: net/http discards up
// to 256 KiB of an unread body before it writes the reply, and no read
// deadline bounds that read. So the connection's read deadline is set to
// unreadBodyGrace from now before any reply of such a request can go out:
// a client that is sending its body (an upload in flight, a chunked body)
// has it discarded as before and reads its reply on a connection that stays
// open, while for one that sends nothing the discard fails once the grace
// has passed, and net/http then sends the reply with Connection: close and
// closes the connection. (A deadline of now would close connections whose
// body was still arriving: their clients, still writing, see the reset
// rather than the reply.) HTTP/2 needs none of it: an
// unread stream is reset, not read.
//
// A request whose method carries no body here (every one but POST) is handed
// to its handler with an empty body and gets the deadline before the handler
// runs, since that handler may flush a stream before it returns; a POST gets
// it once its handler has returned without reading any of the body. A body
// read in part (one past the message cap, say) is left to net/http as
// before: the read error that the deadline would cause there cancels the
// connection's context, which later requests on it would inherit.

// declaresBody reports whether r is an HTTP/1.x request that declares a body.
func declaresBody(r *http.Request) bool {
	return r.ProtoMajor == 1 && (r.ContentLength > 0 || len(r.TransferEncoding) > 0)
}

// unreadBodyGrace bounds net/http's discard of a body that its handler left
// unread: long enough for a body on its way, short against a silent client.
const unreadBodyGrace = 2 * time.Second

// stopReading bounds the read of the connection that w answers on to
// unreadBodyGrace from now, so that net/http's discard of an unread body
// cannot wait longer.
func stopReading(w http.ResponseWriter) {
	// Not every ResponseWriter supports it; then the discard stays unbounded.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(unreadBodyGrace))
}

// bodyRead reports whether the handler read c's body, of the declared
// length (-1: unknown), to its end.
func (c *callState) bodyRead(length int64) bool {
	c.mu.Lock()
	eof := c.eof
	c.mu.Unlock()
	return eof || length > 0 && c.read.Load() >= length
}

// bodyLate reports whether c's body has a deadline (deadlines.bodyTimeout),
// which has passed at now, and has not been read to its end.
func (c *callState) bodyLate(now time.Time) bool {
	if c.bodyDeadline.IsZero() || now.Before(c.bodyDeadline) {
		return false
	}
	return !c.bodyRead(c.bodyLength)
}

// bodyLateError is what the read of a body that bodyLate ended reports: a
// deadline exceeded (connect-go answers deadline_exceeded) that is the
// body's, not the caller's (REST answers it 408, rest.ErrBodyTimeout).
type bodyLateError struct{ timeout time.Duration }

// errBodyLate is the error of a body not read whole within timeout
// (-body-timeout).
func errBodyLate(timeout time.Duration) error { return bodyLateError{timeout} }

func (e bodyLateError) Error() string {
	return "request body not received whole within " + e.timeout.String() + " (-body-timeout)"
}

func (bodyLateError) Is(target error) bool {
	return target == context.DeadlineExceeded || target == rest.ErrBodyTimeout
}
