package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"

	"connectrpc.com/connect"
)

// connShare bounds the in-flight slots (and places in their queue) that the
// calls of one client hold at once, so that a single client cannot take
// every slot of -max-inflight: 3 connections of 200 streams that send
// HEADERS and no body used to hold all 256 and lock every other caller out
// (issue #23, finding 2). A client is a connection, or, behind a trusted
// proxy that names each call's client in a header (-client-ip-header), the
// address there (clientip.go): a proxy carries many clients over few
// connections, and one of them must not take the share of all. A call past
// its client's share is answered resource_exhausted at once, as a shed one
// is, while other clients still get slots. Requests that carry no
// connection (the handler used without Serve, in tests) are not bounded.
type connShare struct {
	max      int    // calls one client may have in flight or queued; <= 0: no bound
	ipHeader string // the header that names the client's address; "": the connection is the client

	mu    sync.Mutex
	calls map[any]int // calls in flight or queued, by client (net.Conn or netip.Prefix); absent: none
}

func newConnShare(max int, ipHeader string) *connShare {
	return &connShare{max: max, ipHeader: http.CanonicalHeaderKey(ipHeader), calls: map[any]int{}}
}

// client returns the key of r's client: its address from the header, when
// one is configured and holds an address, else its connection; false for a
// request without a connection.
func (s *connShare) client(r *http.Request) (any, bool) {
	if s.ipHeader != "" {
		if p, ok := clientPrefix(r.Header.Values(s.ipHeader)); ok {
			return p, true
		}
	}
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	return c, ok
}

// take counts a call of r's client and returns the client, for give; it
// reports false, counting nothing, when the client already has its share.
// A call that took must give.
func (s *connShare) take(r *http.Request) (any, bool) {
	if s.max <= 0 {
		return nil, true
	}
	k, ok := s.client(r)
	if !ok {
		return nil, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[k] >= s.max {
		return k, false
	}
	s.calls[k]++
	return k, true
}

// give uncounts a call of client k that take counted (nil: none was).
func (s *connShare) give(k any) {
	if k == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[k]--; s.calls[k] <= 0 {
		delete(s.calls, k)
	}
}

// exceeded is the error of a call of client k past its share.
func (s *connShare) exceeded(k any) error {
	who, retry := "this connection has", "retry later or on another connection"
	if _, ok := k.(net.Conn); !ok {
		who, retry = fmt.Sprintf("client address %v (%s) has", k, s.ipHeader), "retry later"
	}
	msg := fmt.Sprintf("server overloaded: %s %d calls in flight, its most at once (-max-inflight-per-conn); %s", who, s.max, retry)
	return connect.NewError(connect.CodeResourceExhausted, errors.New(msg))
}
