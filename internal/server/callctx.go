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

// end ends the call with err: its context is done, and a Read waiting on
// the connection is woken.
func (c *callState) end(err error) {
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

// finish notes that the call's handler has returned, after which w may no
// longer be used.
func (c *callState) finish() {
	c.mu.Lock()
	c.over = true
	c.mu.Unlock()
}

func (c *callState) Read(p []byte) (int, error) {
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
	c.eof = c.eof || err == io.EOF
	ended := c.err
	c.mu.Unlock()
	if err != nil && err != io.EOF && ended != nil {
		return n, ended // woken by end: report why
	}
	return n, err
}

func (c *callState) Close() error { return c.body.Close() }
