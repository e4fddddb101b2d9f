package server_test

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestUnreadBodyIsAnsweredAndClosed sends, on every route that answers
// without reading the body, an HTTP/1.1 request that declares a body
// (Content-Length or chunked) and never sends it, in cleartext and over TLS:
// each is answered, and its connection closed, long before the client's 10 s
// patience ends, instead of waiting for a body that never comes.
func TestUnreadBodyIsAnsweredAndClosed(t *testing.T) {
	t.Parallel()
	plain := servertest.Start(t, server.Config{})
	certFile, keyFile := servertest.WriteCert(t)
	secure := servertest.Start(t, server.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	routes := []struct{ name, method, path, header, want string }{
		{"healthz", "GET", "/healthz", "", " 200 "},
		{"readyz", "GET", "/readyz", "", " 200 "},
		{"page", "GET", "/", "", " 200 "},
		{"not found", "POST", "/nothing-here", "", " 404 "},
		{"health, wrong method", "POST", "/healthz", "", " 405 "},
		{"unsupported media type", "POST", sayHello, "Content-Type: text/plain\r\n", " 415 "},
		{"REST GET", "GET", "/v1/hello/eric", "", " 200 "},
		{"OPTIONS", "OPTIONS", sayHello, "", " "},
		{"encoded RPC path", "POST", "/rpc_package.HelloWorldService/%53ayHello", "Content-Type: application/json\r\n", " "},
	}
	for _, srv := range []struct {
		name string
		s    *servertest.Server
		tls  bool
	}{{"cleartext", plain, false}, {"TLS", secure, true}} {
		for _, rt := range routes {
			for _, framing := range []string{"Content-Length: 100\r\n", "Transfer-Encoding: chunked\r\n"} {
				t.Run(srv.name+"/"+rt.name+"/"+strings.Fields(framing)[0], func(t *testing.T) {
					t.Parallel()
					status, closed := unreadBody(t, srv.s.Listener.Addr().String(), srv.tls,
						rt.method+" "+rt.path+" HTTP/1.1\r\nHost: x\r\n"+rt.header+framing+"\r\n")
					assert.True(t, strings.Contains(status, rt.want), "answered with"+rt.want+"before the client gave up, got "+status)
					assert.True(t, closed, "connection closed after the answer")
				})
			}
		}
	}
	t.Run("shed", func(t *testing.T) {
		t.Parallel()
		srv := servertest.Start(t, server.Config{MaxInflight: 1})
		addr := srv.Listener.Addr().String()
		// One call holds the only slot: its body is declared and half sent.
		holder := dialRaw(t, addr, false)
		_, err := io.WriteString(holder, "POST "+sayHello+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		assert.NoError(t, err, "write the holder")
		const call = "POST " + sayHello + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		shed := false
		for range 1000 { // until the holder is admitted: whole calls are shed
			status, _ := unreadBody(t, addr, false, call+"Connection: close\r\nContent-Length: 15\r\n\r\n{\"name\":\"eric\"}")
			if shed = strings.Contains(status, " 429 "); shed {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		assert.True(t, shed, "the holder was admitted")
		status, closed := unreadBody(t, addr, false, call+"Content-Length: 100\r\n\r\n")
		assert.True(t, strings.Contains(status, " 429 "), "a shed call is answered 429, got "+status)
		assert.True(t, closed, "connection closed after the answer")
	})
}

// dialRaw opens a connection to addr, over TLS when secure, closed when the
// test ends.
func dialRaw(t *testing.T, addr string, secure bool) net.Conn {
	t.Helper()
	var conn net.Conn
	var err error
	if secure {
		conn, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}})
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	assert.NoError(t, err, "dial "+addr)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// unreadBody sends request (headers that declare a body, and no body) and
// returns the status line of the answer and whether the server closed the
// connection after it, within 10 s.
func unreadBody(t *testing.T, addr string, secure bool, request string) (status string, closed bool) {
	t.Helper()
	conn := dialRaw(t, addr, secure)
	_, err := io.WriteString(conn, request)
	assert.NoError(t, err, "write the request")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, err := io.ReadAll(conn)
	status, _, _ = strings.Cut(string(all), "\r\n")
	return status, err == nil
}
