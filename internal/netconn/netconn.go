// Package netconn finds a connection of a given type among the layers of a
// net.Conn whose wrappers give what they wrap through a NetConn method, as
// *tls.Conn does.
package netconn

import "net"

// Find returns the first connection of type T in c or below it, following
// NetConn methods; ok is false if there is none.
func Find[T net.Conn](c net.Conn) (found T, ok bool) {
	for {
		if t, ok := c.(T); ok {
			return t, true
		}
		w, ok := c.(interface{ NetConn() net.Conn })
		if !ok {
			return found, false
		}
		c = w.NetConn()
	}
}
