// Package coalesce wraps a net.Listener so that the writes of a connection
// are gathered and go out in fewer system calls.
//
// net/http's HTTP/2 server writes and flushes the connection after about
// every response, so under many concurrent streams it makes one write system
// call per response, where grpc-go batches the frames of many streams into
// one. A coalescing connection copies each Write into a per-connection buffer
// and hands the buffer to a flusher goroutine, which runs after the handler
// goroutines that are ready to run and so finds the frames of many streams
// waiting; it writes them in one call and exits when the buffer is drained.
// There is no timer: an idle connection's first Write goes out as soon as the
// flusher runs, and an idle connection holds no write buffer and no
// goroutine. Reads of a coalescing connection go through a small buffer
// (Options.ReadBuffer), since net/http reads each HTTP/2 frame in two calls.
//
// Only connections that open with the HTTP/2 client preface coalesce (under
// TLS, where the preface cannot be seen, every connection does); HTTP/1.1
// connections pass every call straight through, since coalescing them only
// added latency. Semantics:
//
//   - A failed write makes the error sticky: the next Write and Close return it.
//   - The buffer is bounded (Options.MaxBuffer): a Write that does not fit
//     waits for the flusher, and SetWriteDeadline/SetDeadline bound that wait.
//     A Write that returned has only been queued: a stalled peer is noticed
//     when the buffer fills, at Close, or by HTTP/2's ping and idle timeouts.
//     A deadline never drops queued bytes.
//   - Every write to the socket fails once it has made no progress for
//     Options.WriteTimeout, so a peer that stops reading cannot hold a
//     connection, HTTP/1.1 or HTTP/2.
//   - Close writes what is pending, then closes; after Options.CloseTimeout
//     it closes the socket under a flusher that is still blocked, whatever
//     deadline was set meanwhile; readers blocked on the connection see it
//     closed.
//   - ReadFrom and CloseWrite of the underlying *net.TCPConn are kept.
//
// Wrap the listener under TLS (give the wrapped listener to ServeTLS or
// tls.NewListener), never a TLS listener: net/http must see *tls.Conn to
// negotiate HTTP/2.
package coalesce

import (
	"net"
	"sync/atomic"
	"time"
)

// DefaultWriteTimeout is Options.WriteTimeout's default.
const DefaultWriteTimeout = 30 * time.Second

// Options configure a Listener. The zero value is valid.
type Options struct {
	// MaxBuffer caps the bytes a connection queues before a Write waits for
	// the flusher. Default 256 KiB.
	MaxBuffer int
	// CloseTimeout bounds how long Close spends writing what is pending.
	// Default 5s.
	CloseTimeout time.Duration
	// ReadBuffer is the size of the read buffer of a coalescing connection;
	// a negative value turns read buffering off. Default 8 KiB.
	ReadBuffer int
	// WriteTimeout fails a write to the socket, and so the connection, once
	// no byte of it has gone out for this long; it is extended whenever some
	// bytes do, so a slow reader that still reads is served and a peer that
	// stopped reading is not held. It applies to every connection, coalescing
	// or not. A negative value turns it off. Default 30s, as net/http's
	// HTTP/2 WriteByteTimeout here.
	WriteTimeout time.Duration
	// PassThrough turns coalescing off: every connection writes straight
	// through, but keeps WriteTimeout and the bounded Close. Default false.
	PassThrough bool
}

// Listener hands out coalescing connections.
type Listener struct {
	net.Listener
	opts   Options
	always bool // coalesce every connection (NewTLSListener)

	queued, flushes atomic.Int64 // see Stats
}

// NewListener wraps ln.
func NewListener(ln net.Listener, opts Options) *Listener {
	if opts.MaxBuffer <= 0 {
		opts.MaxBuffer = 256 << 10
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = 5 * time.Second
	}
	if opts.ReadBuffer == 0 {
		opts.ReadBuffer = 8 << 10
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	return &Listener{Listener: ln, opts: opts}
}

// NewTLSListener is NewListener for a listener that will be wrapped in TLS:
// its connections coalesce from the start, since their HTTP/2 preface is
// encrypted.
func NewTLSListener(ln net.Listener, opts Options) *Listener {
	l := NewListener(ln, opts)
	l.always = true
	return l
}

// Accept returns the next connection, wrapped.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newConn(c, l), nil
}

// Stats returns how many Writes the listener's coalescing connections have
// queued and in how many socket writes they went out: their ratio is the
// coalescing.
func (l *Listener) Stats() (writes, socketWrites int64) {
	return l.queued.Load(), l.flushes.Load()
}
