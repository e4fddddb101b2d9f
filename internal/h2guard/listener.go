package h2guard

import (
	"net"
	"sync/atomic"
)

// DefaultMaxCheapFrames is Options.MaxCheapFrames' default.
const DefaultMaxCheapFrames = 1000

// Options configure a Listener. The zero value is valid.
type Options struct {
	// MaxCheapFrames is the flood budget of a connection: its peer may send,
	// per 10 s, this many frames that carry no work (SETTINGS, PING and
	// their ACKs, WINDOW_UPDATE, PRIORITY, GOAWAY, DATA without data; a DATA
	// frame with under 64 bytes of data counts as a fraction of one) plus
	// ten per frame of work (HEADERS, a DATA frame net/http sent, and a
	// DATA frame of the peer's per 64 bytes of its data, up to 640), and
	// MaxCheapFrames/10 stream resets (its own of streams younger than
	// 10 ms that net/http had not answered, and those its errors made
	// net/http send) plus one per two
	// HEADERS, and 8 GOAWAY frames; past
	// any of these, the connection gets GOAWAY ENHANCE_YOUR_CALM and is
	// closed. A negative value turns the budget off (GoAway and IsHTTP2
	// still work). Default 1000 (DefaultMaxCheapFrames).
	MaxCheapFrames int
}

// Stats are a Listener's counters, over all the connections it accepted.
type Stats struct {
	// Floods counts connections whose peer went over its budget.
	Floods int64
	// Notices counts the GOAWAY frames of a graceful shutdown that GoAway
	// made its connections send.
	Notices int64
}

// Listener hands out guarded connections. Give it a listener of cleartext
// connections, or of connections whose TLS is terminated below it (package
// tlsterm): over ciphertext it would see no frames.
type Listener struct {
	net.Listener
	max             int
	floods, notices atomic.Int64
}

// NewListener wraps ln.
func NewListener(ln net.Listener, opts Options) *Listener {
	if opts.MaxCheapFrames == 0 {
		opts.MaxCheapFrames = DefaultMaxCheapFrames
	}
	return &Listener{Listener: ln, max: opts.MaxCheapFrames}
}

// Accept returns the next connection, wrapped.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return newConn(c, l), nil
}

// Stats returns the listener's counters.
func (l *Listener) Stats() Stats {
	return Stats{Floods: l.floods.Load(), Notices: l.notices.Load()}
}
