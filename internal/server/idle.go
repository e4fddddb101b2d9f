package server

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// The stream idle timeout (Config.StreamIdleTimeout, as Envoy's
// stream_idle_timeout) ends a stream on which no byte of a message has moved
// either way for that long: a client that opens a stream and sends nothing
// (HEADERS, then silence), or that stops reading the server's replies, so
// that the server's writes wait on flow control. The sweeper of deadlines
// (deadline.go) watches it: every sweepInterval it compares the bytes the
// call has read (callState.Read) and written (sentWriter) with what it saw
// last, and ends the call when they have not changed for the timeout. The
// read or write that waits is woken (callState.end): a client that sends
// nothing gets deadline_exceeded, one that does not read has its stream
// reset, as nothing else can reach it.
//
// It knows the streams by their RPC paths ("/package.Service/Method"), and
// REST's stream of replies by its route (rest.Streams): that stream is
// served by a call of LotsOfReplies in process, which never passes this
// middleware, so the REST request is what it watches, its writes through
// sentWriter: a stream that goes on sending replies is moving. A health
// Watch that has been answered is silent by design and is not ended
// (waitsByDesign).

// errStreamIdle is what a stream ended by the idle timeout reports.
func errStreamIdle(timeout time.Duration) error {
	return fmt.Errorf("stream idle: no message moved either way for %v (-stream-idle-timeout): %w", timeout, context.DeadlineExceeded)
}

// sentWriter is the ResponseWriter of a stream the idle timeout watches: it
// counts the bytes its writes take and its flushes, and marks the call as
// writing while one waits, so that ending the call wakes it. It keeps
// http.Flusher.
type sentWriter struct {
	http.ResponseWriter
	c *callState
}

func (w *sentWriter) Write(p []byte) (int, error) {
	w.c.startWrite()
	n, err := w.ResponseWriter.Write(p)
	w.c.endWrite(int64(n))
	return n, err
}

// Flush flushes, as FlushError does, for callers that know only
// http.Flusher (connect-go).
func (w *sentWriter) Flush() { _ = w.FlushError() }

// FlushError flushes the writer below, which over HTTP/2 waits until the
// bytes are sent, within the client's flow-control window.
func (w *sentWriter) FlushError() error {
	w.c.startWrite()
	err := http.NewResponseController(w.ResponseWriter).Flush()
	if err == nil {
		w.c.endWrite(1) // a flush that returned sent its bytes: they moved
	} else {
		w.c.endWrite(0)
	}
	return err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *sentWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (c *callState) startWrite() {
	c.mu.Lock()
	c.writing = true
	c.mu.Unlock()
}

// endWrite notes that a write that took n bytes has returned.
func (c *callState) endWrite(n int64) {
	c.written.Add(n)
	c.mu.Lock()
	c.writing = false
	c.mu.Unlock()
}

// sawMoved notes, at now, whether bytes of c's messages have moved since
// the sweeper last looked, and reports it; only the sweeper calls it, under
// the deadlines' lock. Before any has moved, the call counts as moved at
// its start.
func (c *callState) sawMoved(now time.Time) bool {
	moved := c.read.Load() + c.written.Load()
	switch {
	case c.movedAt.IsZero() && moved == 0:
		c.movedAt = c.start
		return false
	case c.movedAt.IsZero() || moved != c.moved:
		c.movedAt, c.moved = now, moved
		return true
	}
	return false
}

// idleFor reports whether c is a stream the idle timeout watches that has
// moved no byte for timeout (> 0) at now, as sawMoved last noted. A stream
// that waits by design counts as moving: should a write of it then wait on
// a client that does not read, it is idle from the last sweep before.
// Only the sweeper calls it, under the deadlines' lock.
func (c *callState) idleFor(timeout time.Duration, now time.Time) bool {
	if !c.idle || timeout <= 0 {
		return false
	}
	if c.waitsByDesign() {
		c.movedAt = now
		return false
	}
	return now.Sub(c.movedAt) >= timeout
}

// waitsByDesign reports whether c is a quiet stream (a health Watch) that
// has its request and has answered it, and has no write waiting: it sends
// again only when a status changes, which may take hours, so the idle
// timeout leaves it alone; the Watch budget (healthbudget.go) bounds how
// many there are, and Config.MaxCallDuration how long each lasts. A Watch
// whose request has not arrived is ended by the idle timeout, or the body
// timeout, as any stream.
func (c *callState) waitsByDesign() bool {
	if !c.quiet || c.written.Load() == 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eof && !c.writing
}
