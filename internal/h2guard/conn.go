package h2guard

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hellorpc/hellorpc/internal/netconn"
)

// ErrEnhanceYourCalm is what a guarded connection's Read returns once its
// peer has gone over its budget; the connection then closes with GOAWAY
// ENHANCE_YOUR_CALM.
var ErrEnhanceYourCalm = errors.New("h2guard: HTTP/2 peer flooded the connection with cheap frames or resets (ENHANCE_YOUR_CALM)")

// tripWait bounds how long the Read that trips the budget waits for the
// GOAWAY to be written before it returns ErrEnhanceYourCalm.
const tripWait = time.Second

type conn struct {
	net.Conn
	l *Listener

	// Used by the reading goroutine only.
	seen   int     // bytes of the preface matched so far; -1: not HTTP/2
	budget *budget // nil: no flood budget

	sent sent // what net/http wrote that the budget weighs

	h2 atomic.Bool // the peer sent the whole client preface

	// wmu is held around every write to Conn, net/http's and the guard's
	// own, so that the guard's frames go between two of net/http's.
	wmu    sync.Mutex
	out    scanner // the frames written so far
	broken bool    // a write failed: the guard writes nothing more

	waiting atomic.Bool // a GOAWAY of the guard's waits for a place in out

	noticeRead atomic.Bool // the peer acknowledged the PING sent after the notice

	mu          sync.Mutex
	notice      bool          // GoAway asked for the first GOAWAY of a graceful shutdown
	noticeDone  bool          // and it was written, or is not needed
	calm        string        // why the budget tripped, once it has
	calmLast    uint32        // the last stream id of the GOAWAY ENHANCE_YOUR_CALM
	finalSent   bool          // that GOAWAY is written; written with wmu and mu held
	finalDone   chan struct{} // closed once it is written or the connection closed
	finalClosed bool
	closed      bool
}

func newConn(c net.Conn, l *Listener) *conn {
	cc := &conn{Conn: c, l: l}
	if l.max >= 0 {
		cc.budget = newBudget(l.max, &cc.sent)
	}
	return cc
}

// Read reads from the connection, tells HTTP/2 from the rest by the first
// bytes, and feeds the budget what an HTTP/2 peer sends; once the budget
// trips, it returns ErrEnhanceYourCalm after the GOAWAY is on its way.
func (c *conn) Read(p []byte) (int, error) {
	if c.budget != nil && c.budget.tripped != "" {
		return 0, c.trip()
	}
	n, err := c.Conn.Read(p)
	if n == 0 {
		return n, err
	}
	if c.seen >= 0 && c.seen < len(preface) {
		c.decide(p[:n])
	}
	if c.budget != nil {
		tripped := c.budget.feed(p[:n], time.Now())
		if c.budget.noticeAcked && !c.noticeRead.Load() {
			c.noticeRead.Store(true)
		}
		if tripped {
			return 0, c.trip()
		}
	}
	return n, err
}

// decide matches the first bytes read against the client preface.
func (c *conn) decide(p []byte) {
	k := min(len(p), len(preface)-c.seen)
	if string(p[:k]) != preface[c.seen:c.seen+k] {
		c.seen, c.budget = -1, nil // HTTP/1.x, or not a peer worth guarding
		return
	}
	c.seen += k
	if c.seen == len(preface) {
		c.h2.Store(true)
	}
}

// trip queues the GOAWAY ENHANCE_YOUR_CALM and waits, within tripWait, for
// it to be written: net/http, still writing, finishes the frame or header
// block it is in, after which the GOAWAY goes out. Reading then stops, and
// net/http closes the connection (Close lingers so that the peer reads it).
func (c *conn) trip() error {
	c.mu.Lock()
	if c.calm == "" {
		c.calm, c.calmLast = c.budget.tripped, c.budget.lastStream
		c.finalDone = make(chan struct{})
		if c.closed {
			c.endFinalLocked()
		}
		c.waiting.Store(true)
		c.l.floods.Add(1)
	}
	done := c.finalDone
	c.mu.Unlock()
	go c.kick()
	t := time.NewTimer(tripWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	return ErrEnhanceYourCalm
}

// Write writes p, net/http's, after any GOAWAY of the guard's that waits and
// may go first; nothing follows a GOAWAY ENHANCE_YOUR_CALM.
func (c *conn) Write(p []byte) (int, error) {
	if !c.h2.Load() {
		return c.Conn.Write(p)
	}
	c.wmu.Lock()
	if c.waiting.Load() {
		c.sendWaitingLocked()
	}
	if c.finalSent {
		c.wmu.Unlock()
		return 0, ErrEnhanceYourCalm
	}
	n, err := c.writeLocked(p)
	c.wmu.Unlock()
	c.kick()
	return n, err
}

// writeLocked writes p, following its frames; c.wmu is held.
func (c *conn) writeLocked(p []byte) (int, error) {
	c.out.feed(p, c.sent.frame)
	n, err := c.Conn.Write(p)
	if err != nil {
		c.broken = true
	}
	return n, err
}

// kick writes the GOAWAY that waits, if it can go now and no write is in
// progress. Whoever holds wmu kicks after releasing it, so a GOAWAY queued
// meanwhile does not wait for net/http's next write.
func (c *conn) kick() {
	if c.waiting.Load() && c.wmu.TryLock() {
		c.sendWaitingLocked()
		c.wmu.Unlock()
	}
}

// sendWaitingLocked writes the GOAWAY that waits, if the frames written so
// far end where a frame may go: after net/http's first frame (its SETTINGS,
// which must come first), between two frames, and outside a header block
// (RFC 9113 §6.10: between HEADERS or PUSH_PROMISE without END_HEADERS and
// its last CONTINUATION, no other frame may go). Else it keeps waiting for
// a later write to get there. c.wmu is held.
func (c *conn) sendWaitingLocked() {
	if c.broken || c.finalSent || c.out.frames == 0 || !c.out.between() {
		return
	}
	c.mu.Lock()
	var f []byte
	switch {
	case c.calm != "":
		last := c.calmLast
		if c.out.goAways > 0 {
			last = min(last, c.out.goAwayLast) // a GOAWAY never raises the last stream id
		}
		f = goAwayFrame(last, codeEnhanceYourCalm, c.calm)
		c.finalSent = true
	case c.notice && !c.noticeDone:
		c.noticeDone = true
		// After net/http's own GOAWAY, which carries the real last stream
		// id, the notice (2^31-1) would raise it: it has nothing to add.
		// A PING follows it, as grpc-go's graceful close sends one: its
		// acknowledgement tells that the peer has read the GOAWAY
		// (NoticeRead).
		if c.out.goAways == 0 {
			f = append(goAwayFrame(maxStream, codeNoError, "draining"), pingFrame(noticePing)...)
			c.l.notices.Add(1)
		}
	}
	c.waiting.Store(false)
	c.mu.Unlock()
	if f != nil {
		_, _ = c.writeLocked(f)
	}
	if c.finalSent {
		c.mu.Lock()
		c.endFinalLocked()
		c.mu.Unlock()
	}
}

// endFinalLocked lets the Read that tripped the budget return; c.mu is held.
func (c *conn) endFinalLocked() {
	if c.finalDone != nil && !c.finalClosed {
		c.finalClosed = true
		close(c.finalDone)
	}
}

// Close writes the GOAWAY that waits, if it can go (a GOAWAY
// ENHANCE_YOUR_CALM behind a write in progress gets up to tripWait), then
// closes; after a GOAWAY ENHANCE_YOUR_CALM it closes as a lingering close
// does (lingerClose).
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.Conn.Close()
	}
	c.closed = true
	final := c.calm != "" && !c.finalSent
	c.mu.Unlock()
	c.kick()
	if final {
		c.awaitFinal()
	}
	c.mu.Lock()
	linger := c.finalSent
	c.endFinalLocked()
	c.mu.Unlock()
	if linger {
		lingerClose(c.Conn)
	}
	return c.Conn.Close()
}

// awaitFinal gives a GOAWAY ENHANCE_YOUR_CALM that still waits, behind a
// write in progress (one that waits for room in a coalescing buffer, say),
// up to tripWait to go out.
func (c *conn) awaitFinal() {
	deadline := time.Now().Add(tripWait)
	for c.waiting.Load() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
		c.kick()
	}
}

// lingerClose ends a connection that got GOAWAY ENHANCE_YOUR_CALM as a
// lingering close does: it shuts down the writing side and reads (and
// drops) what the peer still sends, for up to half a second, so that
// closing with unread input does not reset the connection and destroy the
// GOAWAY before the peer reads it.
func lingerClose(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.Copy(io.Discard, c)
}

// ReadFrom keeps the underlying connection's ReadFrom (sendfile) for
// connections that are not HTTP/2; an HTTP/2 one copies through Write.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok && !c.h2.Load() {
		return rf.ReadFrom(r)
	}
	return io.Copy(writerOnly{c}, r)
}

type writerOnly struct{ io.Writer }

// NetConn returns the connection this one wraps.
func (c *conn) NetConn() net.Conn { return c.Conn }

// CloseWrite shuts down the writing side of the underlying connection.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("h2guard: the underlying connection has no CloseWrite")
}

// GoAway sends the first GOAWAY of a graceful shutdown (RFC 9113 §6.8: last
// stream 2^31-1, NO_ERROR) on c, if c is or wraps (through NetConn methods)
// an HTTP/2 connection of a Listener: the client then opens no new stream
// on it but finishes the ones it has, while net/http, which knows nothing of
// it, serves on until its own GOAWAY at shutdown. The frame goes out at the
// next place a frame may go; not at all once net/http has sent its own
// GOAWAY. It reports whether c is such a connection, open and not closing
// for a flood.
func GoAway(c net.Conn) bool {
	cc := unwrap(c)
	if cc == nil || !cc.h2.Load() {
		return false
	}
	cc.mu.Lock()
	ok := !cc.closed && cc.calm == ""
	if ok && !cc.notice {
		cc.notice = true
		cc.waiting.Store(true)
	}
	cc.mu.Unlock()
	if ok {
		go cc.kick() // not in the caller's goroutine: a write may block
	}
	return ok
}

// NoticeRead reports whether the peer of c, a connection GoAway was called
// on, has read that GOAWAY: it acknowledged the PING sent right after it
// (frames are read in order, RFC 9113 §6.7). From then on it opens no new
// stream on c, so c may be closed as soon as its streams are done without
// failing a request the peer was sending meanwhile (a client that has not
// read the GOAWAY yet may still open streams, which the GOAWAY's last stream
// id, 2^31-1, promised to serve). Always false without a flood budget
// (Options.MaxCheapFrames < 0), which is what reads the peer's frames.
func NoticeRead(c net.Conn) bool {
	cc := unwrap(c)
	return cc != nil && cc.noticeRead.Load()
}

// IsHTTP2 reports whether c is or wraps (through NetConn methods) a
// connection of a Listener whose peer opened HTTP/2 with prior knowledge.
func IsHTTP2(c net.Conn) bool {
	cc := unwrap(c)
	return cc != nil && cc.h2.Load()
}

// unwrap finds the connection of a Listener in c or below it, following
// NetConn methods; nil if there is none.
func unwrap(c net.Conn) *conn {
	cc, _ := netconn.Find[*conn](c)
	return cc
}
