package server

import (
	"io"
	"net/http"
	"time"
)

// A callState is the context of its call and the body of its request (the
// request's copy carries it as both): the request's context with the call's
// deadline, ended by the sweeper of deadlines (deadline.go), and the
// request's body, read so that a read that waits when the call ends is
// woken. It counts the bytes read, and answers outcomeKey{} with the record
// of the RPC's outcome.

// Value answers outcomeKey{} with the record of the call's outcome while
// the metrics or the access log keep one, else nil (nothing else reads it, so nothing is
// recorded): no other context holds one, so the lookup ends here either way.
func (c *callState) Value(key any) any {
	if _, ok := key.(outcomeKey); ok {
		if !c.kept {
			return nil
		}
		return &c.outcome
	}
	return c.Context.Value(key)
}

func (c *callState) Deadline() (time.Time, bool) {
	if d, ok := c.Context.Deadline(); ok && (c.deadline.IsZero() || d.Before(c.deadline)) {
		return d, true
	}
	return c.deadline, !c.deadline.IsZero()
}

func (c *callState) Done() <-chan struct{} {
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

func (c *callState) Err() error {
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
func (c *callState) AfterFunc(f func()) (stop func() bool) {
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

// end ends the call with err, which its context reports, and cause (nil:
// err), which a woken Read reports: its context is done, and a Read waiting
// on the connection is woken, and with stalled (no byte moved since the
// sweeper last looked) a Write too. A Write woken so cuts the reply: over
// HTTP/2 net/http resets the stream, over HTTP/1.1 the connection is closed
// once the handler returns; a Write that moves is left to end, so that the
// handler can still answer with the call's error.
func (c *callState) end(err, cause error, stalled bool) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err, c.cause = err, cause
	if cause == nil {
		c.cause = err
	}
	if c.done != nil {
		close(c.done)
	}
	after := c.after
	if (c.reading || c.writing && stalled) && !c.over {
		// Not every ResponseWriter supports it; the context still ends the call.
		rc := http.NewResponseController(c.w)
		if c.reading {
			_ = rc.SetReadDeadline(time.Now())
		}
		if c.writing && stalled {
			_ = rc.SetWriteDeadline(time.Now())
		}
	}
	c.mu.Unlock()
	for _, f := range after {
		if f != nil {
			go f()
		}
	}
}

// finish notes that the call's handler has returned, after which w may no
// longer be used, and reports whether the call ended by itself (the server
// did not end it, nor did its client go away).
func (c *callState) finish() (ok bool) {
	c.mu.Lock()
	c.over = true
	ok = c.err == nil
	c.mu.Unlock()
	return ok && c.Context.Err() == nil
}

func (c *callState) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return 0, c.cause
	}
	c.reading = true
	c.mu.Unlock()

	n, err := c.body.Read(p)
	c.read.Add(int64(n))

	c.mu.Lock()
	c.reading = false
	c.eof = c.eof || err == io.EOF
	ended := c.cause
	c.mu.Unlock()
	if err != nil && err != io.EOF && ended != nil {
		return n, ended // woken by end: report why
	}
	return n, err
}

func (c *callState) Close() error { return c.body.Close() }
