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
	"sync/atomic"
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
	l    *Listener     // for its counters
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

	// armed is the socket's write deadline as writeSocket last set it
	// (UnixNano), or 0 when that was the caller's deadline.
	armed atomic.Int64
}

func newConn(c net.Conn, l *Listener) *conn {
	cc := &conn{Conn: c, opts: l.opts, l: l}
	cc.drained = sync.NewCond(&cc.mu)
	if l.always && !l.opts.PassThrough {
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
	var n int
	var err error
	if c.rbuf != nil {
		n, err = c.rbuf.Read(p)
	} else {
		n, err = c.Conn.Read(p)
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
		if c.opts.PassThrough {
			c.mode = direct
		}
	default:
		return // still a prefix of the preface: read on
	}
	c.seen = nil
}

func (c *conn) Write(p []byte) (int, error) {
	c.mu.Lock()
	if c.mode != coalescing && !c.flushing {
		deadline, closed := c.deadline, c.closed
		c.mu.Unlock()
		if closed {
			return 0, net.ErrClosed
		}
		return c.writeSocket(p, deadline)
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
	c.l.queued.Add(1)
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
				// After a failed write it may still hold bytes: a pooled
				// buffer must be empty, or another connection sends them.
				*c.buf = (*c.buf)[:0]
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

		c.l.flushes.Add(1)
		if _, err := c.writeSocket(*out, time.Time{}); err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = err
			}
			c.mu.Unlock()
		}
	}
}

// writeSocket writes p to the socket. The write fails once nothing has gone
// out for Options.WriteTimeout: neither bytes moved by the write nor, as the
// kernel reports, bytes of its send queue taken by the peer. So a slow reader
// is served and a stalled one is not held. A deadline, when set and sooner,
// ends the write too.
func (c *conn) writeSocket(p []byte, deadline time.Time) (int, error) {
	if c.opts.WriteTimeout < 0 {
		if err := c.Conn.SetWriteDeadline(deadline); err != nil {
			return 0, err
		}
		return c.Conn.Write(p)
	}
	var total int
	now := time.Now()
	lastProgress, queued := now, -1
	for {
		// Look for progress 4 times a timeout. The socket's deadline is
		// set again only when the one armed by an earlier write (and not the
		// caller's) is less than an eighth of a timeout away (or has passed:
		// a write that timed out): a write that does not block (nearly all)
		// then costs no deadline of its own.
		d := now.Add(c.opts.WriteTimeout / 4)
		callers := !deadline.IsZero() && deadline.Before(d)
		if callers {
			d = deadline
		}
		if callers || c.armed.Load()-now.UnixNano() < int64(c.opts.WriteTimeout/8) {
			if err := c.Conn.SetWriteDeadline(d); err != nil {
				return total, err
			}
			if callers {
				c.armed.Store(0)
			} else {
				c.armed.Store(d.UnixNano())
			}
		}
		n, err := c.Conn.Write(p)
		total += n
		p = p[n:]
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) ||
			(!deadline.IsZero() && !time.Now().Before(deadline)) {
			return total, err
		}
		now = time.Now()
		q, ok := unsent(c.Conn)
		if n > 0 || (ok && queued >= 0 && q < queued) {
			lastProgress = now
		}
		if ok {
			queued = q
		}
		if now.Sub(lastProgress) >= c.opts.WriteTimeout {
			return total, err
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
		// Let the flusher write what is pending, but past CloseTimeout close
		// the socket under it, whatever deadline anyone set meanwhile: a peer
		// that reads nothing must not hold the connection.
		force := time.AfterFunc(c.opts.CloseTimeout, func() { _ = c.Conn.Close() })
		for c.flushing {
			c.drained.Wait()
		}
		force.Stop()
	}
	err := c.err
	c.mu.Unlock()
	cerr := c.Conn.Close()
	if err != nil {
		return err // the sticky write error
	}
	return cerr
}

// SetWriteDeadline bounds the Writes of a pass-through connection and, on a
// coalescing one, Writes that wait for room in the buffer. It is not applied
// to the flusher's writes, so that it never drops queued bytes: the
// flusher's progress timeout (Options.WriteTimeout) and Close bound those.
// Each Write sets the socket's deadline itself, so nothing set here, before
// or after Close, can clear the bounds of Close.
func (c *conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	c.deadline = t
	c.drained.Broadcast()
	return nil
}

// SetDeadline sets the read deadline and, as SetWriteDeadline, the write one.
func (c *conn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// ReadFrom keeps the underlying connection's ReadFrom (sendfile) for
// connections that do not coalesce and have no write timeout; otherwise it
// copies through Write, which applies the timeout.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	c.mu.Lock()
	passThrough := c.mode != coalescing && !c.flushing && c.opts.WriteTimeout < 0
	c.mu.Unlock()
	if rf, ok := c.Conn.(io.ReaderFrom); ok && passThrough {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c}, r)
}

// CloseWrite writes what is pending, within Options.CloseTimeout as Close
// does, then shuts down the writing side.
func (c *conn) CloseWrite() error {
	c.mu.Lock()
	if c.flushing {
		force := time.AfterFunc(c.opts.CloseTimeout, func() { _ = c.Conn.Close() })
		for c.flushing && c.err == nil {
			c.drained.Wait()
		}
		force.Stop()
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
