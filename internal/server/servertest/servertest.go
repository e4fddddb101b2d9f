// Package servertest starts hellorpc's real handler stack on an httptest
// server that speaks HTTP/1.1 and h2c, as hello-server does, and records what
// each request looked like on the wire (HTTP version, method, Content-Type),
// so that tests can assert the form a client actually used.
package servertest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

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
	*httptest.Server

	mu       sync.Mutex
	requests []Request
	conns    atomic.Int64
}

// Start serves server.NewHandler(cfg) on 127.0.0.1 with the http.Server
// settings of server.NewHTTPServer, and closes it when the test ends. Each of
// wrap, in order, wraps the handler (to serve test assets beside it, say).
func Start(t testing.TB, cfg server.Config, wrap ...func(http.Handler) http.Handler) *Server {
	t.Helper()
	s := &Server{}
	record := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.requests = append(s.requests, Request{r.Proto, r.Method, r.URL.Path, r.Header.Get("Content-Type")})
			s.mu.Unlock()
			next.ServeHTTP(w, r) // the same w: Flusher stays visible
		})
	}
	h := server.NewHandler(cfg)
	for _, w := range wrap {
		h = w(h)
	}
	s.Server = httptest.NewUnstartedServer(nil)
	s.Listener = cfg.Listener(s.Listener) // write coalescing, as server.Serve does
	s.Config = server.NewHTTPServer(cfg, record(h))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
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
