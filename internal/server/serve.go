package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// drain is the shutdown state that the handler consults.
type drain struct {
	health   *grpchealth.StaticChecker
	draining atomic.Bool
}

// begin marks the server as draining: health answers NOT_SERVING for the
// server and every service at once.
func (d *drain) begin() {
	d.draining.Store(true)
	d.health.SetStatus("", grpchealth.StatusNotServing)
	for _, name := range services {
		d.health.SetStatus(name, grpchealth.StatusNotServing)
	}
}

// drainAware is a connect interceptor: a stream that ends because the server
// cancelled it while draining reports unavailable, which clients may retry
// elsewhere, instead of canceled.
func (d *drain) interceptor() connect.Interceptor { return drainAware{d} }

type drainAware struct{ d *drain }

func (a drainAware) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc { return next }

func (a drainAware) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (a drainAware) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		if err != nil && a.d.draining.Load() && ctx.Err() != nil {
			return connect.NewError(connect.CodeUnavailable, errors.New("server is shutting down: retry"))
		}
		return err
	}
}

// Serve serves hellorpc on ln until ctx is done, then drains gracefully:
// health turns NOT_SERVING at once; the listener closes, so new connections
// are refused; HTTP/2 clients get GOAWAY; in-flight calls complete; open
// streams get cfg.DrainGrace, then are cancelled and end with unavailable;
// after cfg.ShutdownTimeout what is left is closed. It returns nil after a
// drain, and an error only when serving itself fails. With cfg.TLSCertFile and
// cfg.TLSKeyFile it serves HTTPS (HTTP/2 by ALPN, and HTTP/1.1) instead of
// HTTP/1.1 and h2c. The listener coalesces HTTP/2 writes unless
// cfg.DisableWriteCoalescing (see Config.Listener).
func Serve(ctx context.Context, ln net.Listener, cfg Config) error {
	cfg = cfg.WithDefaults()
	d := &drain{health: grpchealth.NewStaticChecker(services...)}
	srv := NewHTTPServer(cfg, newHandler(cfg, d))
	streamsCtx, cancelStreams := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelStreams()
	srv.BaseContext = func(net.Listener) context.Context { return streamsCtx }

	ln = cfg.Listener(ln)
	served := make(chan error, 1)
	go func() {
		if cfg.tls() {
			served <- srv.ServeTLS(ln, cfg.TLSCertFile, cfg.TLSKeyFile)
		} else {
			served <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger := cfg.Logger
	logger.Info("draining", "grace_for_streams", cfg.DrainGrace, "timeout", cfg.ShutdownTimeout)
	d.begin()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	shutdown := make(chan error, 1)
	go func() { shutdown <- srv.Shutdown(shutdownCtx) }()

	var err error
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
