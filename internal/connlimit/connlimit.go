// Package connlimit caps the connections a server holds open at once.
//
// A Listener counts the connections it has accepted and not yet closed. When
// a new connection arrives at the limit, the connection that has been idle
// longest (no request in progress, as http.Server reports through its
// ConnState hook) is closed to make room, so that clients that hold idle
// connections, however many, cannot lock out new ones: a health checker or a
// new client still gets in. Only when every connection is busy is the new
// one closed at once. Without the ConnState hook every connection counts as
// idle from the time it was accepted, oldest first.
//
// A busy connection may be silent: its requests in progress wait for bytes
// the client never sends, or replies it never reads. With EvictSilent, such
// a connection counts as idle once nothing has moved on it for a while: at
// the limit, with no idle connection, the one silent longest is closed, so
// that clients that hold silent streams on every connection cannot lock out
// new ones either. The server reports what moves with Moved; a connection
// with no report is silent from the time it was accepted.
//
// Use it as:
//
//	l := connlimit.New(ln, 10_000)
//	srv := &http.Server{ConnState: l.ConnState}
//	srv.Serve(l)
//
// Under TLS, give the server the TLS listener on top of this one (or one
// that terminates TLS below it, package tlsterm); ConnState finds its
// connection below any that wraps it through a NetConn method. Wrap outside other connection wrappers (the server gets
// these connections): ReadFrom and CloseWrite of the connection below are
// kept.
package connlimit

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hellorpc/hellorpc/internal/netconn"
)

// Listener hands out connections up to a limit; see the package doc.
type Listener struct {
	net.Listener
	max         int
	silentAfter time.Duration // EvictSilent's; 0: busy connections are never closed

	mu    sync.Mutex
	conns map[*conn]struct{} // open connections
	idle  conn               // sentinel of a circular list of the idle ones, longest idle first

	evicted, refused atomic.Int64
}

// New wraps ln so that at most limit connections are open at once (limit < 1
// means 1).
func New(ln net.Listener, limit int) *Listener {
	l := &Listener{Listener: ln, max: max(1, limit), conns: make(map[*conn]struct{})}
	l.idle.prev, l.idle.next = &l.idle, &l.idle
	return l
}

// EvictSilent lets Accept, at the limit with no idle connection, close the
// busy connection on which nothing has moved (see Moved) for longest, once
// that is at least after (> 0). Call it before Accept.
func (l *Listener) EvictSilent(after time.Duration) { l.silentAfter = after }

// Moved notes that bytes of a request or a reply moved on c, a connection
// of a Listener (or one that wraps it), at t: c is not silent since then.
// It does nothing for other connections, or a t before one already noted.
func Moved(c net.Conn, t time.Time) {
	cc, ok := c.(*conn)
	if !ok {
		if cc, ok = netconn.Find[*conn](c); !ok {
			return
		}
	}
	ns := t.UnixNano()
	for old := cc.moved.Load(); old < ns && !cc.moved.CompareAndSwap(old, ns); old = cc.moved.Load() {
	}
}

// Accept returns the next connection, making room for it first if the limit
// is reached.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		cc := &conn{Conn: c, l: l, accepted: time.Now()}
		l.mu.Lock()
		var victim *conn
		if len(l.conns) >= l.max {
			if l.idle.next != &l.idle {
				victim = l.idle.next
			} else if l.silentAfter > 0 {
				victim = l.silentLocked(cc.accepted)
			}
			if victim != nil {
				l.forgetLocked(victim)
			}
		}
		full := len(l.conns) >= l.max
		if !full {
			l.conns[cc] = struct{}{}
			cc.open = true
			l.pushIdleLocked(cc) // idle until it sends a request
		}
		l.mu.Unlock()
		if victim != nil {
			l.evicted.Add(1)
			_ = victim.Conn.Close()
		}
		if full {
			l.refused.Add(1)
			_ = c.Close()
			continue
		}
		return cc, nil
	}
}

// ConnState is the http.Server.ConnState hook that tells the listener which
// connections are idle. Chain it if the server needs the hook for more.
func (l *Listener) ConnState(c net.Conn, state http.ConnState) {
	cc, ok := Accepted(c).(*conn)
	if !ok {
		return
	}
	// It runs at every request of an HTTP/1.1 connection: it allocates
	// nothing and looks nothing up.
	l.mu.Lock()
	defer l.mu.Unlock()
	if !cc.open {
		return
	}
	switch state {
	case http.StateActive:
		l.unlinkLocked(cc)
	case http.StateIdle:
		l.unlinkLocked(cc)
		l.pushIdleLocked(cc)
	case http.StateHijacked, http.StateClosed:
		l.forgetLocked(cc)
	}
}

// Accepted returns the connection of a Listener, as its Accept returned it,
// that c is or wraps (through NetConn methods, as *tls.Conn has), or c if
// there is none: the connection Each reports for c.
func Accepted(c net.Conn) net.Conn {
	if cc, ok := netconn.Find[*conn](c); ok {
		return cc
	}
	return c
}

// silentLocked returns the busy connection on which nothing has moved for
// longest, if that is l.silentAfter or more at now, else nil; l.mu is held.
// It looks at every open connection: it runs only at the limit with none
// idle.
func (l *Listener) silentLocked(now time.Time) *conn {
	var victim *conn
	var since int64
	for c := range l.conns {
		if s := max(c.accepted.UnixNano(), c.moved.Load()); victim == nil || s < since {
			victim, since = c, s
		}
	}
	if victim == nil || now.Sub(time.Unix(0, since)) < l.silentAfter {
		return nil
	}
	return victim
}

// forgetLocked drops c from the count; l.mu is held.
func (l *Listener) forgetLocked(c *conn) {
	if c.open {
		c.open = false
		l.unlinkLocked(c)
		delete(l.conns, c)
	}
}

// pushIdleLocked puts c at the back of the idle list; l.mu is held.
func (l *Listener) pushIdleLocked(c *conn) {
	c.prev, c.next = l.idle.prev, &l.idle
	c.prev.next, l.idle.prev = c, c
}

// unlinkLocked takes c off the idle list if it is on it; l.mu is held.
func (l *Listener) unlinkLocked(c *conn) {
	if c.next != nil {
		c.prev.next, c.next.prev = c.next, c.prev
		c.prev, c.next = nil, nil
	}
}

// Stats reports the connections open now, those closed to make room for
// new ones, and new ones refused because every open one was busy.
func (l *Listener) Stats() (open int, evicted, refused int64) {
	l.mu.Lock()
	open = len(l.conns)
	l.mu.Unlock()
	return open, l.evicted.Load(), l.refused.Load()
}

// Info is what the listener knows of one open connection.
type Info struct {
	Conn     net.Conn  // as Accept returned it
	Accepted time.Time // when Accept returned it
	Idle     bool      // no request in progress (per ConnState)
}

// Each calls f with every open connection, outside the listener's lock.
func (l *Listener) Each(f func(Info)) {
	l.mu.Lock()
	conns := make([]Info, 0, len(l.conns))
	for c := range l.conns {
		conns = append(conns, Info{Conn: c, Accepted: c.accepted, Idle: c.next != nil})
	}
	l.mu.Unlock()
	for _, c := range conns {
		f(c)
	}
}

type conn struct {
	net.Conn
	l        *Listener
	accepted time.Time
	moved    atomic.Int64 // Unix nanoseconds of the last Moved; 0: none

	// Guarded by l.mu:
	open       bool  // counted in l.conns
	prev, next *conn // in l.idle, while idle
}

// NetConn returns the connection this one wraps.
func (c *conn) NetConn() net.Conn { return c.Conn }

func (c *conn) Close() error {
	c.l.mu.Lock()
	c.l.forgetLocked(c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// ReadFrom keeps the underlying connection's ReadFrom, which net/http uses.
func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

// CloseWrite keeps the underlying connection's CloseWrite, which net/http
// uses to end an HTTP/1.1 connection gracefully.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("connlimit: the underlying connection has no CloseWrite")
}
