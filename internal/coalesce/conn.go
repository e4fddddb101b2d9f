package coalesce

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"time"
)

// preface is the start of the HTTP/2 client connection preface.
var preface = []byte("PRI * HTTP/2.0\r\n")

// mode says whether a connection coalesces.
type mode int32

const (
	undecided mode = iota // nothing read yet
	direct                // HTTP/1.x: every call passes straight through
	coalescing
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

type conn struct {
	net.Conn
	opts Options
	rbuf *bufio.Reader // reads of a coalescing connection, see Read

	mu       sync.Mutex
	mode     mode
	seen     []byte // the first bytes read, while the mode is undecided
	buf      *[]byte
	flushing bool // a flusher goroutine runs
	drained  *sync.Cond
	err      error // sticky write error
	closed   bool
	deadline time.Time // the write deadline, for Writes waiting for room
}

func newConn(c net.Conn, opts Options, always bool) *conn {
	cc := &conn{Conn: c, opts: opts}
	cc.drained = sync.NewCond(&cc.mu)
	if always {
		cc.mode = coalescing
	}
	return cc
}

// Read reads from the connection and, on the first bytes, decides whether it
// coalesces. A coalescing connection reads through a buffer: net/http's
// HTTP/2 server reads each frame's 9-byte header and then its payload, two
// system calls per frame without one. Only the connection's reading
// goroutine calls Read, so rbuf needs no lock.
func (c *conn) Read(p []byte) (int, error) {
	if c.rbuf != nil {
		return c.rbuf.Read(p)
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		if c.mode == undecided {
			c.decide(p[:n])
		}
		if c.mode == coalescing && c.opts.ReadBuffer > 0 {
			c.rbuf = bufio.NewReaderSize(c.Conn, c.opts.ReadBuffer)
		}
		c.mu.Unlock()
	}
	return n, err
}

// decide looks at the first bytes read; c.mu is held.
func (c *conn) decide(p []byte) {
	c.seen = append(c.seen, p[:min(len(p), len(preface)-len(c.seen))]...)
	switch {
	case !bytes.HasPrefix(preface, c.seen):
		c.mode = direct
	case len(c.seen) == len(preface):
		c.mode = coalescing
	default:
		return // still a prefix of the preface: read on
	}
	c.seen = nil
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.mode != coalescing && !c.flushing {
		c.mu.Unlock()
		return c.Conn.Write(p)
	}
	for {
		switch {
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return 0, err
		case c.closed:
			c.mu.Unlock()
			return 0, net.ErrClosed
		}
		if c.buf == nil || len(*c.buf) == 0 || len(*c.buf)+len(p) <= c.opts.MaxBuffer {
			break
		}
		// No room: wait for the flusher, within the write deadline.
		if err := c.waitLocked(); err != nil {
			c.mu.Unlock()
			return 0, err
		}
	}
	if c.buf == nil {
		c.buf = bufPool.Get().(*[]byte)
	}
	*c.buf = append(*c.buf, p...)
	if !c.flushing {
		c.flushing = true
		go c.flush()
	}
	c.mu.Unlock()
	return len(p), nil
}

// waitLocked waits until the flusher drains the buffer or the write deadline
// passes; c.mu is held.
func (c *conn) waitLocked() error {
	if !c.deadline.IsZero() {
		d := time.Until(c.deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.AfterFunc(d, func() {
			c.mu.Lock()
			c.drained.Broadcast()
			c.mu.Unlock()
		})
		defer t.Stop()
	}
	c.drained.Wait()
	if !c.deadline.IsZero() && !time.Now().Before(c.deadline) && c.flushing {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// flush writes the buffer until it is empty, then releases it and exits.
func (c *conn) flush() {
	var out *[]byte
	for {
		// Let the goroutines that are ready to run add their frames first.
		runtime.Gosched()
		c.mu.Lock()
		if out != nil {
			*out = (*out)[:0]
			bufPool.Put(out)
			out = nil
		}
		if c.err != nil || c.buf == nil || len(*c.buf) == 0 {
			if c.buf != nil {
				bufPool.Put(c.buf)
				c.buf = nil
			}
			c.flushing = false
			c.drained.Broadcast()
			c.mu.Unlock()
			return
		}
		out, c.buf = c.buf, nil
		c.drained.Broadcast() // room again for waiting Writes
		c.mu.Unlock()

		if _, err := c.Conn.Write(*out); err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
		}
	}
}

// Close writes what is pending, within Options.CloseTimeout, then closes.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	if c.flushing {
		// Bound the flusher's writes, then wait for it to finish.
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.opts.CloseTimeout))
		for c.flushing {
			c.drained.Wait()
		}
	}
	err := c.err
	c.mu.Unlock()
	cerr := c.Conn.Close()
	if err != nil {
		return err // the sticky write error
	}
	return cerr
}

// SetWriteDeadline bounds Writes that wait for room in the buffer. The
// deadline is not applied to the flusher's writes, so that it never drops
// queued bytes: Close and HTTP/2's timeouts bound those.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.deadline = t
	c.drained.Broadcast()
	co := c.mode == coalescing || c.flushing
	c.mu.Unlock()
	if co && !t.IsZero() {
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

// SetDeadline sets the read deadline and, as SetWriteDeadline, the write one.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// ReadFrom keeps the underlying connection's ReadFrom (sendfile) for
// connections that do not coalesce.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	passThrough := c.mode != coalescing && !c.flushing
	c.mu.Unlock()
	if rf, ok := c.Conn.(io.ReaderFrom); ok && passThrough {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c}, r)
}

// CloseWrite writes what is pending, then shuts down the writing side.
func (c *conn) CloseWrite() error {
	c.mu.Lock()
	for c.flushing && c.err == nil {
		c.drained.Wait()
	}
	err := c.err
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("coalesce: the underlying connection has no CloseWrite")
}

type writerOnly struct{ io.Writer }
