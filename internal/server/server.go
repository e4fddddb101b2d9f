package server

import (
	"context"
	"net/http"
	"sync/atomic"

	"github.com/hellorpc/hellorpc/internal/metrics"
)

// Server is hellorpc, built once by New. It is the http.Handler of every
// route (for httptest and for embedding), and Serve runs it on a listener.
// A Server serves one listener, once.
type Server struct {
	cfg     Config
	handler http.Handler
	drain   *drain
	calls   *callLimit
	health  *healthBudget             // grpc.health.v1's own (healthbudget.go)
	age     *connAge                  // nil: connections live on
	conns   atomic.Pointer[listeners] // Serve's, for the metrics
	http    *http.Server

	streamsCtx    context.Context    // ended by Close, which then ends Serve's open streams
	cancelStreams context.CancelFunc // ends streamsCtx
}

// New returns the Server that cfg describes; zero fields of cfg take their
// defaults (see Config). It panics when a service of cfg.Services cannot be
// mounted (see Service).
func New(cfg Config) *Server {
	cfg = cfg.WithDefaults()
	d := &drain{}
	var measured *metrics.Calls // the RPCs' metrics, nil with metrics off
	if cfg.Metrics != nil {
		measured = cfg.Metrics.Calls(procedures)
	}
	opts := handlerOptions(cfg, d, measured)
	svc := newServices(cfg.Services, opts)
	d.health = newHealth(svc.names)
	s := &Server{
		cfg:    cfg,
		drain:  d,
		calls:  newCallLimit(cfg.MaxInflight, cfg.MaxInflightPerConn, cfg.ClientIPHeader, svc.isCall, writeError),
		health: newHealthBudget(cfg.MaxHealthChecks, cfg.MaxHealthWatches),
	}
	if cfg.MaxConnectionAge > 0 {
		s.age = newConnAge(cfg.MaxConnectionAge, cfg.MaxConnectionAgeGrace)
	}
	logs := errorLog(cfg)
	if cfg.Metrics != nil {
		if err := registerMetrics(cfg.Metrics, s.calls, s.health, s.drain, &s.conns, logs); err != nil {
			cfg.Logger.Error("metrics of the server not registered", "error", err)
		}
	}
	s.handler = newHandler(cfg, s.drain, s.calls, s.health, s.age, opts, svc, measured)
	s.streamsCtx, s.cancelStreams = context.WithCancel(context.Background())
	s.http = httpServer(cfg, s.handler, logs)
	s.http.ConnContext = connContext // the connection age and the per-connection share find it
	return s
}

// ServeHTTP serves one request through every route and middleware.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Close closes the listener and every connection at once, without a drain;
// Serve then returns. Cancel Serve's context instead for a graceful drain.
func (s *Server) Close() error {
	s.cancelStreams()
	return s.http.Close()
}
