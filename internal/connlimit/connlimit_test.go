package connlimit_test

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// closedByServer reports whether the server closed c within wait (a read
// ends then). A close the test expects gets a generous wait: the listener's
// accept loop may run late on a loaded machine, and a read ends at the close.
func closedByServer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	netErr, ok := err.(net.Error)
	return err == io.EOF || (err != nil && !(ok && netErr.Timeout()))
}

// acceptAndDial accepts l's connections into accepted, and returns it with
// a dial that opens a client connection to l (closed at the test's end).
func acceptAndDial(t *testing.T, l *connlimit.Listener) (<-chan net.Conn, func() net.Conn) {
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	return accepted, func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		assert.NoError(t, err, "dial")
		t.Cleanup(func() { c.Close() })
		return c
	}
}

func TestEvictsLongestIdleThenRefusesWhenAllBusy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	l := connlimit.New(ln, 2)
	defer l.Close()
	accepted, dial := acceptAndDial(t, l)

	a, b := dial(), dial()
	sa, sb := <-accepted, <-accepted
	l.ConnState(sa, http.StateActive) // a is busy, b idle
	c := dial()
	sc := <-accepted
	assert.True(t, closedByServer(b, 10*time.Second), "the idle connection made room")
	assert.True(t, !closedByServer(a, 300*time.Millisecond), "the busy one stays")
	open, evicted, refused := l.Stats()
	assert.Equal(t, [3]int64{int64(open), evicted, refused}, [3]int64{2, 1, 0}, "open, evicted, refused")

	l.ConnState(sc, http.StateActive) // now both busy
	d := dial()
	assert.True(t, closedByServer(d, 10*time.Second), "a new connection when all are busy is refused")
	open, evicted, refused = l.Stats()
	assert.Equal(t, [3]int64{int64(open), evicted, refused}, [3]int64{2, 1, 1}, "open, evicted, refused")

	l.ConnState(sa, http.StateIdle)
	_ = sb.Close() // an evicted connection is closed already
	assert.NoError(t, sa.Close(), "close")
	open, _, _ = l.Stats()
	assert.Equal(t, open, 1, "a closed connection is no longer counted")
	_ = c
}

// TestEvictsTheSilentBusyConnection: with EvictSilent, at the limit with
// every connection busy, the one on which nothing has moved for the silence
// given is closed for the new one, not one that reported bytes moving.
func TestEvictsTheSilentBusyConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	l := connlimit.New(ln, 2)
	const silence = 200 * time.Millisecond
	l.EvictSilent(silence)
	defer l.Close()
	accepted, dial := acceptAndDial(t, l)

	moving, silent := dial(), dial()
	sMoving, sSilent := <-accepted, <-accepted
	l.ConnState(sMoving, http.StateActive)
	l.ConnState(sSilent, http.StateActive)
	connlimit.Moved(sMoving, time.Now().Add(time.Hour)) // it moves, as far as the listener will look
	// Until the silence has passed a new connection is refused (at
	// once, unless the machine stalls past it): the listener waits.
	time.Sleep(2 * silence)
	dial()
	<-accepted
	assert.True(t, closedByServer(silent, 10*time.Second), "the silent busy connection made room")
	assert.True(t, !closedByServer(moving, 300*time.Millisecond), "the moving one stays")
	_, evicted, _ := l.Stats()
	assert.Equal(t, evicted, int64(1), "evicted")
}
