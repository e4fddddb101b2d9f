package server

import (
	"log/slog"
	"net/http"
)

// NewHTTPServer returns the http.Server for h: HTTP/1.1 and unencrypted
// HTTP/2 with prior knowledge (h2c) on one port, or with TLS configured
// HTTP/1.1 and HTTP/2 over TLS, with the timeouts and limits of cfg. No
// WriteTimeout is set, since it would cut long streams: calls are bounded by
// deadlines instead (see enforceDeadlines).
func NewHTTPServer(cfg Config, h http.Handler) *http.Server {
	cfg = cfg.WithDefaults()
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	if cfg.tls() {
		protocols.SetHTTP2(true)
	} else {
		protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Server{
		Addr:      cfg.Addr,
		Handler:   h,
		Protocols: protocols,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams: cfg.MaxConcurrentStreams,
		},
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
}
