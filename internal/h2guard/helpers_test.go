package h2guard_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// serve serves srv with HTTP/1.1 and h2c, as hellorpc does, on a 127.0.0.1
// listener that wrap wraps, and returns the server's address.
func serve(t *testing.T, srv *http.Server, wrap func(net.Listener) net.Listener) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	wrapped := wrap(ln)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(wrapped) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-served; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// handler returns a server of h, for serve.
func handler(h http.HandlerFunc) *http.Server { return &http.Server{Handler: h} }

// plain wraps nothing.
func plain(ln net.Listener) net.Listener { return ln }

// h2cClient returns an HTTP client that speaks h2c with prior knowledge.
func h2cClient(t *testing.T) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protocols}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 20 * time.Second}
}

// dial opens a raw h2c connection to addr, sends the preface and an empty
// SETTINGS frame, and returns it with a reader of the server's frames. Every
// read is bounded by a generous deadline.
func dial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	t.Cleanup(func() { c.Close() })
	assert.NoError(t, c.SetDeadline(time.Now().Add(20*time.Second)), "deadline")
	_, err = io.WriteString(c, h2frame.Preface)
	assert.NoError(t, err, "preface")
	assert.NoError(t, h2frame.Write(c, h2frame.Settings, 0, 0, nil), "SETTINGS")
	return c, bufio.NewReader(c)
}

// getBlock returns the header block of GET / to addr.
func getBlock(addr string) []byte {
	block := []byte{0x82, 0x86, 0x84} // :method GET, :scheme http, :path /
	return append(block, h2frame.Literal(":authority", addr)...)
}

// bigHeaders answers with about 20 KB of headers, more than fits in one
// frame of the default SETTINGS_MAX_FRAME_SIZE (16 KiB), and a short body.
func bigHeaders(w http.ResponseWriter, _ *http.Request) {
	value := strings.Repeat("v", 1000)
	for i := range 20 {
		w.Header().Set(fmt.Sprintf("X-Big-%02d", i), value)
	}
	_, _ = io.WriteString(w, "hello")
}

// headerBlockError returns an error for the first frame that sits inside a
// header block (RFC 9113 §6.10) when open says a block is open, and the
// block state after f.
func headerBlockError(f h2frame.Frame, open bool) (bool, error) {
	if open && f.Type != h2frame.Continuation {
		return open, fmt.Errorf("frame %v inside a header block", f)
	}
	if f.Type == h2frame.Headers || f.Type == h2frame.PushPromise || f.Type == h2frame.Continuation {
		open = f.Flags&h2frame.EndHeaders == 0
	}
	return open, nil
}

// recordingListener records what its connections read and write.
type recordingListener struct {
	net.Listener
	conns chan *recordingConn
	// failRead, when set, is the error a connection's Read returns once
	// the connection has read this many bytes.
	failRead      error
	failReadAfter int64
}

func newRecordingListener(ln net.Listener) *recordingListener {
	return &recordingListener{Listener: ln, conns: make(chan *recordingConn, 100)}
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	rc := &recordingConn{Conn: c, l: l, firstWriteAt: -1, closed: make(chan struct{})}
	l.conns <- rc
	return rc, nil
}

type recordingConn struct {
	net.Conn
	l *recordingListener

	read         atomic.Int64
	readsAfter   atomic.Int64 // Reads after the failure
	inWrite      atomic.Int32
	maxInWrite   atomic.Int32
	mu           sync.Mutex
	written      bytes.Buffer
	firstWriteAt int64 // bytes read at the first Write
	closeOnce    sync.Once
	closed       chan struct{}
}

func (c *recordingConn) Read(p []byte) (int, error) {
	if c.l.failRead != nil && c.read.Load() >= c.l.failReadAfter {
		c.readsAfter.Add(1)
		return 0, c.l.failRead
	}
	if c.l.failRead != nil {
		p = p[:min(int64(len(p)), c.l.failReadAfter-c.read.Load())]
	}
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *recordingConn) Write(p []byte) (int, error) {
	in := c.inWrite.Add(1)
	defer c.inWrite.Add(-1)
	for {
		m := c.maxInWrite.Load()
		if in <= m || c.maxInWrite.CompareAndSwap(m, in) {
			break
		}
	}
	c.mu.Lock()
	if c.firstWriteAt < 0 {
		c.firstWriteAt = c.read.Load()
	}
	c.written.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

func (c *recordingConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// writtenFrames parses what the connection has written as HTTP/2 frames.
func (c *recordingConn) writtenFrames() ([]h2frame.Frame, error) {
	c.mu.Lock()
	r := bytes.NewReader(bytes.Clone(c.written.Bytes()))
	c.mu.Unlock()
	var frames []h2frame.Frame
	for r.Len() > 0 {
		f, err := h2frame.Read(r)
		if err != nil {
			return frames, err
		}
		frames = append(frames, f)
	}
	return frames, nil
}
