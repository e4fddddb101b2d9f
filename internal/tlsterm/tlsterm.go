// Package tlsterm terminates TLS in a listener, below the connection
// wrappers that must see what net/http reads and writes (the HTTP/2 flood
// guard, package h2guard), and shows net/http, above them, the TLS of each
// connection, so that it still serves HTTPS and chooses HTTP/2 by ALPN.
//
// Wrapping a TLS listener would hide *tls.Conn, and with it TLS, from
// net/http; wrapping below one leaves the wrappers ciphertext. What net/http
// (Go 1.27) asks of a connection to serve it as HTTPS is a ConnectionState
// method: it calls HandshakeContext when there is one, reads the state, and
// serves HTTP/2 over any such connection whose ALPN protocol is "h2"; it
// needs a *tls.Conn only for handlers registered in
// http.Server.TLSNextProto, which hellorpc has none of. The connections
// NewListener hands out have both methods, and so does no cleartext one.
package tlsterm

import (
	"context"
	"crypto/tls"
	"errors"
	"net"

	"github.com/hellorpc/hellorpc/internal/netconn"
)

// NewListener terminates TLS, with cfg, on ln's connections: wrap is given
// a listener of them as *tls.Conn (their handshakes not started) and returns
// the listener of the connections it wraps them in, which must wrap the
// *tls.Conn through NetConn methods; NewListener returns that listener, its
// connections showing the TLS of the *tls.Conn below (Conn).
func NewListener(ln net.Listener, cfg *tls.Config, wrap func(net.Listener) net.Listener) net.Listener {
	return exposing{wrap(terminating{ln, cfg})}
}

// terminating hands out the TLS server side of each connection.
type terminating struct {
	net.Listener
	cfg *tls.Config
}

func (l terminating) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return tls.Server(c, l.cfg), nil
}

// exposing hands out its connections as Conns.
type exposing struct{ net.Listener }

// errNoTLS is what Accept returns for a connection with no *tls.Conn below
// it: a wrap function that loses it is a bug, and serving the connection as
// cleartext would be another.
var errNoTLS = errors.New("tlsterm: a connection wrapper hid the *tls.Conn below it (no NetConn method)")

func (l exposing) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc, ok := netconn.Find[*tls.Conn](c)
	if !ok {
		_ = c.Close()
		return nil, errNoTLS
	}
	return &Conn{Conn: c, tls: tc}, nil
}

// Conn is a connection whose TLS was terminated below it: net/http serves
// it as HTTPS.
type Conn struct {
	net.Conn
	tls *tls.Conn
}

// ConnectionState returns the state of the TLS connection below.
func (c *Conn) ConnectionState() tls.ConnectionState { return c.tls.ConnectionState() }

// HandshakeContext runs the TLS handshake of the connection below, if it
// has not run yet; its reads and writes bypass the wrappers in between.
func (c *Conn) HandshakeContext(ctx context.Context) error { return c.tls.HandshakeContext(ctx) }

// NetConn returns the connection this one wraps.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// CloseWrite ends the writing side of the connection it wraps, which
// net/http uses to end an HTTP/1.1 connection gracefully.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("tlsterm: the wrapped connection has no CloseWrite")
}
