// Package servertest starts hellorpc's real server, server.New as
// hello-server runs it, on 127.0.0.1 over HTTP/1.1 and h2c, and records what
// each request looked like on the wire (HTTP version, method, Content-Type),
// so that tests can assert the form a client actually used.
package servertest

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
)

// Request is what a test server saw of one request.
type Request struct {
	Proto       string // "HTTP/1.1" or "HTTP/2.0"
	Method      string
	Path        string
	ContentType string
}

// Server is a running test server.
type Server struct {
	URL      string       // "http://127.0.0.1:port"
	Listener net.Listener // the listener it serves, unwrapped

	mu       sync.Mutex
	requests []Request
	conns    atomic.Int64
	active   atomic.Int64 // requests whose handler has not returned
}

// Start serves server.New(cfg) on 127.0.0.1 with server.Server.Serve, and
// closes it when the test ends. Each of wrap, in order, wraps the handler
// (to serve test assets beside it, say): the last is outermost.
func Start(t testing.TB, cfg server.Config, wrap ...func(http.Handler) http.Handler) *Server {
	t.Helper()
	s := &Server{}
	middleware := []func(http.Handler) http.Handler{s.record}
	for i := len(wrap) - 1; i >= 0; i-- {
		middleware = append(middleware, wrap[i])
	}
	cfg.Middleware = append(middleware, cfg.Middleware...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	s.Listener = ln
	s.URL = "http://" + ln.Addr().String()
	srv := server.New(cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), countingListener{ln, &s.conns}) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s
}

// record notes each request; it passes the same ResponseWriter on, so
// http.Flusher stays visible.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, Request{r.Proto, r.Method, r.URL.Path, r.Header.Get("Content-Type")})
		s.mu.Unlock()
		s.active.Add(1)
		defer s.active.Add(-1)
		next.ServeHTTP(w, r)
	})
}

// WaitIdle waits until the handler of every request the server has begun
// has returned: a client can read a whole response before its handler has
// returned, so what the server does after answering (its access log line,
// its metrics, the end of its span) may not be done yet when a call
// returns. It fails t after 30 s (a test's call that never ends).
func (s *Server) WaitIdle(t testing.TB) {
	t.Helper()
	for start := time.Now(); s.active.Load() > 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%d requests still in their handlers after 30 s", s.active.Load())
		}
	}
}

// countingListener counts the connections it accepts.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// LastRequest returns the most recent request the server saw.
func (s *Server) LastRequest() Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}
	}
	return s.requests[len(s.requests)-1]
}

// LastRequestTo returns the most recent request the server saw for path.
func (s *Server) LastRequestTo(path string) Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.requests) - 1; i >= 0; i-- {
		if s.requests[i].Path == path {
			return s.requests[i]
		}
	}
	return Request{}
}

// RequestsTo returns how many requests the server saw for path.
func (s *Server) RequestsTo(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range s.requests {
		if r.Path == path {
			n++
		}
	}
	return n
}

// Connections returns how many connections the server has accepted.
func (s *Server) Connections() int64 {
	return s.conns.Load()
}

// HTTP1Client returns a client that speaks only HTTP/1.1.
func HTTP1Client(t testing.TB) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	return newClient(t, protocols)
}

// H2CClient returns a client that speaks only HTTP/2 with prior knowledge
// over plain TCP (h2c).
func H2CClient(t testing.TB) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return newClient(t, protocols)
}

func newClient(t testing.TB, protocols *http.Protocols) *http.Client {
	transport := &http.Transport{Protocols: protocols}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport}
}
