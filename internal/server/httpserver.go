package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/hellorpc/hellorpc/internal/lograte"
)

// NewHTTPServer returns the http.Server that a Server runs h on, for peers in
// benchmarks that must match its settings; zero fields of cfg take their
// defaults. A Server builds its own.
func NewHTTPServer(cfg Config, h http.Handler) *http.Server {
	cfg = cfg.WithDefaults()
	return httpServer(cfg, h, errorLog(cfg))
}

// errorLog returns the handler of net/http's own log lines: cfg.Logger's at
// WARN, at the rates of package lograte, since a client can cause one per
// failed TLS handshake, GOAWAY or connection error.
func errorLog(cfg Config) *lograte.Handler {
	return lograte.New(cfg.Logger.Handler(), lograte.Options{})
}

// httpServer returns the http.Server for h: HTTP/1.1 and unencrypted HTTP/2
// with prior knowledge (h2c) on one port, or with TLS configured HTTP/1.1
// and HTTP/2 over TLS, with the timeouts and limits of cfg, whose defaults
// are applied. No http.Server WriteTimeout is set, since it would cut long
// streams: calls are bounded by deadlines (deadlines.enforce) and connections
// by the progress-based write timeout of package coalesce. net/http's own
// log lines go to errorLog at WARN.
func httpServer(cfg Config, h http.Handler, errorLog slog.Handler) *http.Server {
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
			MaxConcurrentStreams:          cfg.MaxConcurrentStreams,
			MaxReadFrameSize:              1 << 20, // largest frame a client may send
			MaxReceiveBufferPerStream:     1 << 20, // flow-control window per stream
			MaxReceiveBufferPerConnection: 4 << 20, // and per connection
			MaxDecoderHeaderTableSize:     4 << 10,
			MaxEncoderHeaderTableSize:     4 << 10,
			SendPingTimeout:               time.Minute,      // ping a connection silent this long,
			PingTimeout:                   15 * time.Second, // and close it if the ping is not answered
			WriteByteTimeout:              30 * time.Second, // close a connection whose peer stops reading
		},
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(errorLog, slog.LevelWarn),
	}
}
