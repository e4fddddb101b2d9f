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
// calls of one connection hold at once, so that a single client cannot take
// every slot of -max-inflight: 3 connections of 200 streams that send
// HEADERS and no body used to hold all 256 and lock every other caller out
// (issue #23, finding 2). A call past its connection's share is answered
// resource_exhausted at once, as a shed one is, while other connections
// still get slots. Requests that carry no connection (the handler used
// without Serve, in tests) are not bounded.
type connShare struct {
	max int // calls one connection may have in flight or queued; <= 0: no bound

	mu    sync.Mutex
	calls map[net.Conn]int // calls in flight or queued, by connection; absent: none
}

func newConnShare(max int) *connShare {
	return &connShare{max: max, calls: map[net.Conn]int{}}
}

// take counts a call of r's connection; it reports false, counting nothing,
// when the connection already has its share. A call that took must give.
func (s *connShare) take(r *http.Request) bool {
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	if !ok || s.max <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[c] >= s.max {
		return false
	}
	s.calls[c]++
	return true
}

// give uncounts a call of r's connection that take counted.
func (s *connShare) give(r *http.Request) {
	c, ok := r.Context().Value(connKey{}).(net.Conn)
	if !ok || s.max <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.calls[c]--; s.calls[c] <= 0 {
		delete(s.calls, c)
	}
}

// exceeded is the error of a call past its connection's share.
func (s *connShare) exceeded() error {
	msg := fmt.Sprintf("server overloaded: this connection has %d calls in flight, its most at once (-max-inflight-per-conn); retry later or on another connection", s.max)
	return connect.NewError(connect.CodeResourceExhausted, errors.New(msg))
}
