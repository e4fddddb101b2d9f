package coalesce_test

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/coalesce"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// pair returns a coalescing server-side connection and the client side of a
// loopback TCP connection.
func pair(t *testing.T, opts coalesce.Options) (server net.Conn, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	l := coalesce.NewListener(ln, opts)
	t.Cleanup(func() { l.Close() })
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	assert.NoError(t, err, "dial")
	t.Cleanup(func() { client.Close() })
	server = <-accepted
	t.Cleanup(func() { server.Close() })
	return server, client
}

// openHTTP2 sends the HTTP/2 preface and lets the server read it.
func openHTTP2(t *testing.T, server, client net.Conn) {
	t.Helper()
	_, err := io.WriteString(client, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	assert.NoError(t, err, "write preface")
	buf := make([]byte, 24)
	_, err = io.ReadFull(server, buf)
	assert.NoError(t, err, "read preface")
}

func TestWritesArriveInOrderAndCoalesce(t *testing.T) {
	t.Parallel()
	server, client := pair(t, coalesce.Options{})
	openHTTP2(t, server, client)
	var want bytes.Buffer
	var wg sync.WaitGroup
	var mu sync.Mutex // serializes writers, as net/http's HTTP/2 server does
	for i := range 50 {
		wg.Go(func() {
			mu.Lock()
			defer mu.Unlock()
			msg := bytes.Repeat([]byte{byte('a' + i%26)}, 100+i)
			want.Write(msg)
			_, err := server.Write(msg)
			assert.NoError(t, err, "write")
		})
	}
	wg.Wait()
	assert.NoError(t, server.Close(), "close")
	got, err := io.ReadAll(client)
	assert.NoError(t, err, "read all")
	assert.True(t, bytes.Equal(got, want.Bytes()), "every byte arrives, in order, before the close")
}

func TestHTTP1ConnectionsPassThrough(t *testing.T) {
	t.Parallel()
	server, client := pair(t, coalesce.Options{MaxBuffer: 1})
	_, err := io.WriteString(client, "GET / HTTP/1.1\r\n\r\n")
	assert.NoError(t, err, "request")
	buf := make([]byte, 64)
	_, err = server.Read(buf)
	assert.NoError(t, err, "read request")
	// A pass-through connection honours an expired deadline at once, as a
	// plain TCP connection does; a coalescing one would queue the write.
	assert.NoError(t, server.SetWriteDeadline(time.Now().Add(-time.Second)), "set deadline")
	_, err = server.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "write past the deadline")
	_, ok := server.(io.ReaderFrom)
	assert.True(t, ok, "ReadFrom is kept")
	_, ok = server.(interface{ CloseWrite() error })
	assert.True(t, ok, "CloseWrite is kept")
}

func TestDeadlineBoundsABlockedWrite(t *testing.T) {
	t.Parallel()
	server, client := pair(t, coalesce.Options{MaxBuffer: 64 << 10, CloseTimeout: 200 * time.Millisecond})
	openHTTP2(t, server, client)
	_ = client // never reads: the socket buffers fill, then the coalescing buffer
	chunk := make([]byte, 32<<10)
	assert.NoError(t, server.SetWriteDeadline(time.Now().Add(300*time.Millisecond)), "deadline")
	start := time.Now()
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		_, err = server.Write(chunk)
	}
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "a Write that waits past the deadline")
	var netErr net.Error
	assert.True(t, errors.As(err, &netErr) && netErr.Timeout(), "the error is a timeout")
	assert.True(t, time.Since(start) < 20*time.Second, "the deadline bounded the wait")

	// Close is bounded too, though the peer still reads nothing.
	start = time.Now()
	_ = server.Close()
	assert.True(t, time.Since(start) < 20*time.Second, "Close within its bound")
}

func TestFailedWriteIsSticky(t *testing.T) {
	t.Parallel()
	server, client := pair(t, coalesce.Options{})
	openHTTP2(t, server, client)
	client.(*net.TCPConn).SetLinger(0)
	client.Close() // the peer resets the connection
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for err == nil && time.Now().Before(deadline) {
		_, err = server.Write(make([]byte, 16<<10))
		time.Sleep(time.Millisecond)
	}
	assert.Error(t, err, "a write after the peer reset")
	_, again := server.Write([]byte("x"))
	assert.Error(t, again, "the error is sticky")
	assert.Error(t, server.Close(), "Close returns the write error")
}

func TestCloseUnblocksReaders(t *testing.T) {
	t.Parallel()
	server, client := pair(t, coalesce.Options{})
	openHTTP2(t, server, client)
	readErr := make(chan error, 1)
	go func() {
		_, err := server.Read(make([]byte, 10))
		readErr <- err
	}()
	_, err := server.Write([]byte("pending"))
	assert.NoError(t, err, "write")
	assert.NoError(t, server.Close(), "close")
	select {
	case err := <-readErr:
		assert.ErrorIs(t, err, net.ErrClosed, "the blocked reader sees the connection closed")
	case <-time.After(5 * time.Second):
		t.Fatal("a reader stayed blocked after Close")
	}
	got, _ := io.ReadAll(client)
	assert.Equal(t, string(got), "pending", "pending bytes were written before the close")
}

// countingListener counts the Write calls that reach its connections, and
// their SetWriteDeadline calls (in deadlines, when not nil).
type countingListener struct {
	net.Listener
	writes    *int64
	mu        *sync.Mutex
	deadlines *int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, l.writes, l.mu, l.deadlines}, nil
}

type countingConn struct {
	net.Conn
	writes    *int64
	mu        *sync.Mutex
	deadlines *int64
}

func (c countingConn) SetWriteDeadline(t time.Time) error {
	if c.deadlines != nil {
		c.mu.Lock()
		*c.deadlines++
		c.mu.Unlock()
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	*c.writes++
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// countedConn returns the server side of a loopback connection accepted by
// a coalescing listener with opts over counting (whose Listener it sets),
// whose client sends first and then reads everything.
func countedConn(t *testing.T, opts coalesce.Options, first string, counting countingListener) net.Conn {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	counting.Listener = ln
	l := coalesce.NewListener(counting, opts)
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			_, _ = io.WriteString(c, first)
			_, _ = io.Copy(io.Discard, c)
		}
	}()
	server, err := l.Accept()
	assert.NoError(t, err, "accept")
	return server
}

func TestManySmallWritesTakeFewerSystemCalls(t *testing.T) {
	var writes int64
	var mu sync.Mutex
	preface := "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
	server := countedConn(t, coalesce.Options{}, preface, countingListener{writes: &writes, mu: &mu})
	_, err := io.ReadFull(server, make([]byte, len(preface)))
	assert.NoError(t, err, "read preface")
	const frames = 200
	var wg sync.WaitGroup
	var serial sync.Mutex
	for range frames { // as many handlers, each writing one small frame
		wg.Go(func() {
			serial.Lock()
			defer serial.Unlock()
			_, _ = server.Write(make([]byte, 30))
		})
	}
	wg.Wait()
	assert.NoError(t, server.Close(), "close")
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d frames went out in %d write calls", frames, writes)
	assert.True(t, writes < frames/2, "writes were coalesced")
}

// TestWritesThatDoNotBlockSetNoDeadlineEach checks that the write timeout
// costs a write that goes out at once no deadline of its own: the socket's
// deadline, armed by one write, serves the next ones while it is far enough
// away (an HTTP/1.1 connection writes once per response).
func TestWritesThatDoNotBlockSetNoDeadlineEach(t *testing.T) {
	var writes, deadlines int64
	var mu sync.Mutex
	server := countedConn(t, coalesce.Options{WriteTimeout: time.Minute}, "GET / HTTP/1.1\r\n\r\n",
		countingListener{writes: &writes, mu: &mu, deadlines: &deadlines})
	_, err := server.Read(make([]byte, 64))
	assert.NoError(t, err, "read request")
	const responses = 100
	for range responses {
		_, err := server.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
		assert.NoError(t, err, "write")
	}
	assert.NoError(t, server.Close(), "close")
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d writes set the socket's write deadline %d times", writes, deadlines)
	assert.Equal(t, writes, int64(responses), "writes that reached the socket")
	assert.True(t, deadlines <= 2, "one deadline serves writes that do not block")
}

// TestCloseIsBoundedWhatever deadlines come after it reproduces a hang: a
// peer that reads nothing, the flusher blocked in the socket's Write, Close
// waiting for it, and then net/http's HTTP/2 writer clearing the write
// deadline (SetWriteDeadline(time.Time{})) as it does after each write.
func TestCloseIsBoundedWhateverDeadlinesComeAfter(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"h2c", "tls-style"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := coalesce.Options{CloseTimeout: 300 * time.Millisecond, WriteTimeout: time.Hour}
			server, client := pair(t, opts)
			if name == "h2c" {
				openHTTP2(t, server, client)
			}
			client.(*net.TCPConn).CloseWrite() // the peer half-closes and never reads
			chunk := make([]byte, 64<<10)
			assert.NoError(t, server.SetWriteDeadline(time.Now().Add(200*time.Millisecond)), "deadline")
			for i := 0; i < 1000; i++ {
				if _, err := server.Write(chunk); err != nil {
					break
				}
			}
			closed := make(chan error, 1)
			go func() { closed <- server.Close() }()
			time.Sleep(50 * time.Millisecond)
			_ = server.SetWriteDeadline(time.Time{}) // what net/http does after a write
			_ = server.SetDeadline(time.Time{})
			select {
			case <-closed:
			case <-time.After(5 * time.Second):
				t.Fatal("Close still waits for a flusher blocked on a peer that reads nothing")
			}
			// The socket is closed for real: the peer sees the end.
			_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := io.Copy(io.Discard, client)
			var netErr net.Error
			assert.True(t, !errors.As(err, &netErr) || !netErr.Timeout(), "the peer sees the connection closed")
		})
	}
}

// openHTTP1 returns a pass-through (HTTP/1.1) connection pair whose server
// side has read a request.
func openHTTP1(t *testing.T, opts coalesce.Options) (server, client net.Conn) {
	t.Helper()
	server, client = pair(t, opts)
	_, err := io.WriteString(client, "GET / HTTP/1.1\r\n\r\n")
	assert.NoError(t, err, "request")
	_, err = server.Read(make([]byte, 64))
	assert.NoError(t, err, "read request")
	return server, client
}

// TestWriteTimeoutCutsAStalledReaderButNotASlowOne checks the progress
// timeout on a pass-through (HTTP/1.1) connection.
func TestWriteTimeoutCutsAStalledReaderButNotASlowOne(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		server, _ := openHTTP1(t, coalesce.Options{WriteTimeout: timeout}) // the client never reads
		var err error
		start := time.Now()
		for i := 0; i < 10_000 && err == nil; i++ {
			_, err = server.Write(make([]byte, 64<<10))
		}
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "a write to a peer that stopped reading")
		assert.True(t, time.Since(start) < 5*time.Second, "cut within a few timeouts")
	})
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		server, client := openHTTP1(t, coalesce.Options{WriteTimeout: timeout})
		var err error
		// A client with a 4 KB receive buffer that reads 4 KB at a time, with
		// pauses: the transfer takes several timeouts, but never stalls.
		client.(*net.TCPConn).SetReadBuffer(4 << 10)
		const total = 4 << 20
		go func() {
			buf := make([]byte, 4<<10)
			for {
				if _, err := client.Read(buf); err != nil {
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()
		start := time.Now()
		_, err = server.Write(make([]byte, total))
		took := time.Since(start)
		assert.NoError(t, err, "a write to a slow but steady reader")
		t.Logf("the kernel took %d bytes in %v", total, took)
		assert.True(t, took > timeout, "the write outlasted one timeout, so it was extended")
		client.Close()
	})
}

// TestStatsArePerListener checks that each listener counts the writes of
// its own connections only.
func TestStatsArePerListener(t *testing.T) {
	t.Parallel()
	var listeners [2]*coalesce.Listener
	for i := range listeners {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		assert.NoError(t, err, "listen")
		listeners[i] = coalesce.NewListener(ln, coalesce.Options{})
		t.Cleanup(func() { listeners[i].Close() })
	}
	client, err := net.Dial("tcp", listeners[0].Addr().String())
	assert.NoError(t, err, "dial")
	defer client.Close()
	server, err := listeners[0].Accept()
	assert.NoError(t, err, "accept")
	openHTTP2(t, server, client)
	const writes = 10
	for range writes {
		_, err := server.Write([]byte("frame"))
		assert.NoError(t, err, "write")
	}
	assert.NoError(t, server.Close(), "close")
	queued, flushes := listeners[0].Stats()
	t.Logf("%d writes went out in %d socket writes", queued, flushes)
	assert.True(t, queued == writes && flushes >= 1 && flushes <= writes, "the first listener's counters")
	queued, flushes = listeners[1].Stats()
	assert.Equal(t, [2]int64{queued, flushes}, [2]int64{0, 0}, "the second listener's counters")
}
