package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/h2guard"
)

// Serve serves on ln until ctx is done, then drains gracefully: health turns
// NOT_SERVING at once (grpc.health.v1, and /readyz answers 503) while the
// server goes on serving for Config.DrainDelay, so that load balancers take
// it out of rotation; then the listener closes, so new connections are refused;
// HTTP/2 clients get GOAWAY; in-flight calls complete; open streams get
// Config.DrainGrace, then are cancelled and end with unavailable; after
// Config.ShutdownTimeout what is left is closed. It returns nil after a drain
// or Close, and an error only when serving itself fails. With TLSCertFile and
// TLSKeyFile it serves HTTPS (HTTP/2 by ALPN, and HTTP/1.1) instead of
// HTTP/1.1 and h2c. The listener is wrapped (Config.listener): at most
// MaxConnections at once, the flood guard and GOAWAY of HTTP/2 connections
// (over TLS too: TLS is terminated below the guard), the write timeout, and
// coalesced HTTP/2 writes.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	cfg := s.cfg
	srv := s.http
	// Requests' contexts start from an empty one, not from ctx: every lookup
	// of a context value that is not there (connect-go, the interceptors)
	// walks the whole chain, and ctx's (signal handling, the caller's) made
	// it a third longer, for values no handler reads.
	streamsCtx, cancelStreams := context.WithCancel(context.Background())
	defer cancelStreams()
	defer context.AfterFunc(s.streamsCtx, cancelStreams)() // Close ends streams too
	srv.BaseContext = func(net.Listener) context.Context { return streamsCtx }

	wrapped, err := cfg.listener(ln)
	if err != nil {
		_ = ln.Close() // as Serve closes it when it returns
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	s.conns.Store(wrapped)
	srv.ConnState = wrapped.ConnState
	if s.age != nil {
		ageCtx, stopAging := context.WithCancel(ctx)
		defer stopAging()
		go s.age.run(ageCtx, wrapped.Listener)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(wrapped.served) }()
	select {
	case err := <-served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil // Close
		}
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger := cfg.Logger
	s.drain.begin()
	if cfg.DrainDelay > 0 {
		// Out of rotation, still serving: load balancers follow health.
		// RFC 9113 §6.8's first GOAWAY: HTTP/2 clients, proxies among them,
		// open no new stream on these connections but finish their calls,
		// and open new connections, served until the delay ends; HTTP/1.1
		// replies say Connection: close (drain.closeHTTP1).
		notified := 0
		wrapped.Each(func(c connlimit.Info) {
			if h2guard.GoAway(c.Conn) {
				notified++
			}
		})
		logger.Info("draining: health says NOT_SERVING; serving on until the delay ends",
			"delay", cfg.DrainDelay, "http2_connections_sent_goaway", notified)
		select {
		case <-time.After(cfg.DrainDelay):
		case err := <-served:
			if errors.Is(err, http.ErrServerClosed) {
				return nil
			}
			return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
		}
	}
	logger.Info("draining", "grace_for_streams", cfg.DrainGrace, "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(shutdownCtx) }()

	select {
	case err = <-shutdown:
	case <-time.After(cfg.DrainGrace):
		logger.Info("cancelling open streams")
		cancelStreams()
		err = <-shutdown
	}
	if err != nil {
		logger.Warn("drain timed out; closing the remaining connections", "error", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	logger.Info("stopped")
	return nil
}
