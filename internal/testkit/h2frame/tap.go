package h2frame

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"time"
)

// Tap is a net.Conn that keeps a copy of what it reads, so that a test can
// use a real client (an http.Transport dialing through it) and read again,
// frame by frame, what the server sent.
type Tap struct {
	net.Conn
	mu   sync.Mutex
	kept bytes.Buffer  // read by the client, not yet by Next
	more chan struct{} // a value when kept has grown
}

// NewTap returns conn, tapped.
func NewTap(conn net.Conn) *Tap {
	return &Tap{Conn: conn, more: make(chan struct{}, 1)}
}

func (t *Tap) Read(p []byte) (int, error) {
	n, err := t.Conn.Read(p)
	if n > 0 {
		t.mu.Lock()
		t.kept.Write(p[:n])
		t.mu.Unlock()
		select {
		case t.more <- struct{}{}:
		default:
		}
	}
	return n, err
}

// Next returns the next frame that the connection read, first the server's
// SETTINGS, waiting until deadline for the client to read it.
func (t *Tap) Next(deadline time.Time) (Frame, error) {
	return Read(replay{t, deadline})
}

// replay reads what a Tap has kept.
type replay struct {
	t        *Tap
	deadline time.Time
}

func (r replay) Read(p []byte) (int, error) {
	for {
		r.t.mu.Lock()
		n, _ := r.t.kept.Read(p)
		r.t.mu.Unlock()
		if n > 0 {
			return n, nil
		}
		select {
		case <-r.t.more:
		case <-time.After(time.Until(r.deadline)):
			return 0, errors.New("h2frame: no more bytes read from the connection")
		}
	}
}
