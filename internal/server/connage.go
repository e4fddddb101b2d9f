package server

import (
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/h2guard"
)

// connAge retires connections older than Config.MaxConnectionAge (give or
// take a tenth, at random, so that connections opened together do not all
// leave together), as grpc-go's MaxConnectionAge does, so that long-lived
// HTTP/2 connections re-spread over the instances behind a connection-level
// balancer. A retired HTTP/2 connection gets the first GOAWAY (no new
// streams; the client opens a new connection); a retired HTTP/1.1 one
// answers its next request with Connection: close, after which net/http
// closes it. An HTTP/2 one is closed once it is idle and its client has read
// the GOAWAY (h2guard.NoticeRead: closing it before, a request the client
// sent meanwhile fails, since the GOAWAY promised to serve it); any retired
// connection is closed after Config.MaxConnectionAgeGrace. An idle HTTP/1.1
// one is not closed before that: a client may be sending a request on it as
// it closes, and clients do not retry a POST that met a closed connection.
type connAge struct {
	max, grace time.Duration

	mu      sync.Mutex
	retire  map[net.Conn]time.Time // when each connection is due
	retired map[net.Conn]time.Time // when each was told to go
}

func newConnAge(max, grace time.Duration) *connAge {
	return &connAge{max: max, grace: grace, retire: map[net.Conn]time.Time{}, retired: map[net.Conn]time.Time{}}
}

// run checks the connections of l until ctx ends.
func (a *connAge) run(ctx context.Context, l *connlimit.Listener) {
	tick := time.NewTicker(min(a.max/4, time.Second))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			a.check(now, l)
		}
	}
}

func (a *connAge) check(now time.Time, l *connlimit.Listener) {
	seen := map[net.Conn]bool{}
	var toClose []net.Conn
	l.Each(func(in connlimit.Info) {
		seen[in.Conn] = true
		a.mu.Lock()
		defer a.mu.Unlock()
		due, ok := a.retire[in.Conn]
		if !ok {
			jitter := time.Duration((rand.Float64()*0.2 - 0.1) * float64(a.max))
			due = in.Accepted.Add(a.max + jitter)
			a.retire[in.Conn] = due
		}
		if now.Before(due) {
			return
		}
		told, ok := a.retired[in.Conn]
		switch {
		case !ok:
			a.retired[in.Conn] = now
			h2guard.GoAway(in.Conn) // HTTP/2; HTTP/1.1 sees a.isRetired
		case now.Sub(told) > a.grace || in.Idle && h2guard.NoticeRead(in.Conn):
			toClose = append(toClose, in.Conn)
		}
	})
	for _, c := range toClose {
		_ = c.Close()
	}
	a.mu.Lock()
	for c := range a.retire {
		if !seen[c] {
			delete(a.retire, c)
			delete(a.retired, c)
		}
	}
	a.mu.Unlock()
}

// isRetired reports whether c has been told to go.
func (a *connAge) isRetired(c net.Conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.retired[c]
	return ok
}

type connKey struct{}

// connContext is the http.Server.ConnContext that lets a request find its
// connection, as the connection limit's Each reports it.
func connContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, connlimit.Accepted(c))
}

// closeRetiredHTTP1 is middleware: a request on a retired HTTP/1.1
// connection is answered with Connection: close. A nil a retires none, and
// returns next.
func (a *connAge) closeRetiredHTTP1(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, ok := r.Context().Value(connKey{}).(net.Conn); ok && r.ProtoMajor == 1 && a.isRetired(c) {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}
