package server

import (
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/hellorpc/hellorpc/internal/coalesce"
	"github.com/hellorpc/hellorpc/internal/connlimit"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/h2guard"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/telemetry"
)

// Config holds the settings of the handler and the HTTP server. The zero value
// is valid: every field documents the default it stands for.
type Config struct {
	// Addr is the TCP address to listen on. Default ":50000", the tutorial's port.
	Addr string

	// CORSOrigins lists the origins that browsers may call from, such as
	// "https://app.example.com". "*" allows any origin and is honoured only
	// when given explicitly. Default none: same-origin calls only.
	CORSOrigins []string

	// ReadHeaderTimeout bounds the time to read a request's headers.
	// Default 10s.
	ReadHeaderTimeout time.Duration

	// IdleTimeout closes HTTP/1.1 keep-alive connections, and HTTP/2
	// connections with no open stream (with GOAWAY), idle this long.
	// Default 30s.
	IdleTimeout time.Duration

	// MaxHeaderBytes caps the size of request headers. Default 64 KiB.
	MaxHeaderBytes int

	// MaxMessageBytes caps the size of one request message after
	// decompression. Default 1 MiB.
	MaxMessageBytes int

	// CompressMinBytes is the smallest reply that is compressed when the
	// client accepts it. Default 1 KiB: tiny replies are never gzipped.
	CompressMinBytes int

	// MaxConcurrentStreams caps the HTTP/2 streams open at once on one
	// connection. Default 250.
	MaxConcurrentStreams int

	// MaxCallDuration caps the duration of every call, unary or streaming,
	// whatever deadline the client asked for; past it the call ends with
	// deadline_exceeded. Default 10m.
	MaxCallDuration time.Duration

	// Greeter configures the service: the pause between streamed replies and
	// the cap on messages per client stream. Default: greeter.Options{}, no
	// pause and greeter.DefaultMaxStreamMessages.
	Greeter greeter.Options

	// DrainDelay is how long the server goes on accepting and serving once a
	// drain starts, with health (grpc.health.v1 and /readyz) already saying
	// NOT_SERVING, so that load balancers see it leave rotation before it
	// closes its listener and sends GOAWAY: long enough for a health-check
	// interval or two of the balancer in front (deploy/ checks every second).
	// Default 5s; negative: no delay.
	DrainDelay time.Duration

	// DrainGrace is how long open streams may go on once the listener has
	// closed, before they are cancelled with unavailable. Default 5s.
	DrainGrace time.Duration

	// ShutdownTimeout bounds the whole graceful drain; connections still open
	// after it are closed. Default 10s.
	ShutdownTimeout time.Duration

	// MaxConnections caps the connections open at once. A new connection at
	// the cap closes the one idle longest (no request in progress) to make
	// room, so idle connections cannot lock new clients, health checkers
	// among them, out; only when all are busy is the new one refused.
	// Default DefaultMaxConnections(): 3/4 of the open-file limit, at most
	// 10,000.
	MaxConnections int

	// MaxInflight caps the calls in progress at once (streams included,
	// health checks not); calls beyond it are answered at once with
	// resource_exhausted (Connect: 429) and Retry-After. Default
	// DefaultMaxInflight(): 256 per CPU the process may use.
	MaxInflight int

	// MaxConnectionAge retires connections this old, give or take a tenth:
	// HTTP/2 ones get GOAWAY (clients open a new connection, which a
	// connection-level balancer may send elsewhere), HTTP/1.1 ones answer
	// their next request with Connection: close; each is closed once idle or
	// after MaxConnectionAgeGrace. As grpc-go's keepalive.ServerParameters.
	// Default 0: connections live on.
	MaxConnectionAge time.Duration

	// MaxConnectionAgeGrace is how long a retired connection may go on with
	// calls in progress before it is closed. Default 30s.
	MaxConnectionAgeGrace time.Duration

	// WriteTimeout closes a connection whose peer has taken no byte of a
	// reply for this long, HTTP/1.1 or HTTP/2; it is extended whenever bytes
	// go out (including from the kernel's send queue), so a slow reader that
	// still reads is served and a stalled one is not held. Default 30s.
	WriteTimeout time.Duration

	// DisableWriteCoalescing turns off the coalescing of HTTP/2 writes
	// (package coalesce) that Serve applies to its listener. Default false:
	// coalescing is on.
	DisableWriteCoalescing bool

	// TLSCertFile and TLSKeyFile, when both are set, make Serve use HTTPS:
	// HTTP/2 by ALPN and HTTP/1.1, on the same port. Default none: HTTP/1.1
	// and h2c.
	TLSCertFile, TLSKeyFile string

	// Logger receives the server's logs. Default: discard.
	Logger *slog.Logger

	// Metrics, when set, measures every RPC in every protocol, answered by
	// connect-go or before it (package metrics), and receives the server's
	// own figures: calls in flight and shed, open connections by HTTP
	// version, connections evicted, refused and flooded, writes coalesced,
	// drain state. Default nil: none (hello-server sets it unless
	// -metrics-addr is empty).
	Metrics *metrics.Metrics

	// Telemetry, when set, traces every RPC whose client sent a sampled
	// trace context (package telemetry); the access log then carries each
	// call's trace and span ids (only then: a span that Middleware starts is
	// not looked for), and the RPCs' metrics keep them as exemplars.
	// Default nil: none.
	Telemetry *telemetry.Telemetry

	// Middleware wraps the handler, first outermost, outside all of the
	// server's own (to serve more routes beside it, or record requests in
	// tests). Each must keep http.Flusher visible, or streams break.
	// Default none.
	Middleware []func(http.Handler) http.Handler
}

// DefaultMaxInflight is MaxInflight's default: 256 calls per CPU that the
// process may use (GOMAXPROCS).
func DefaultMaxInflight() int { return 256 * runtime.GOMAXPROCS(0) }

// DefaultMaxConnections is MaxConnections' default: 3/4 of the process's
// open-file limit, leaving the rest for everything else the process opens,
// and at most 10,000 (each open connection holds buffers and goroutines).
func DefaultMaxConnections() int {
	n := openFileLimit() * 3 / 4
	return max(16, min(n, 10_000))
}

// Defaults of Config, applied by WithDefaults to zero fields.
const (
	DefaultAddr                  = ":50000"
	DefaultReadHeaderTimeout     = 10 * time.Second
	DefaultIdleTimeout           = 30 * time.Second
	DefaultMaxHeaderBytes        = 64 << 10
	DefaultMaxMessageBytes       = 1 << 20
	DefaultCompressMinBytes      = 1 << 10
	DefaultMaxConcurrentStreams  = 250
	DefaultShutdownTimeout       = 10 * time.Second
	DefaultMaxCallDuration       = 10 * time.Minute
	DefaultDrainGrace            = 5 * time.Second
	DefaultDrainDelay            = 5 * time.Second
	DefaultMaxConnectionAgeGrace = 30 * time.Second
	DefaultWriteTimeout          = coalesce.DefaultWriteTimeout
)

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	setDefault(&c.Addr, DefaultAddr)
	setDefault(&c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	setDefault(&c.IdleTimeout, DefaultIdleTimeout)
	setDefault(&c.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	setDefault(&c.CompressMinBytes, DefaultCompressMinBytes)
	setDefault(&c.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&c.ShutdownTimeout, DefaultShutdownTimeout)
	setDefault(&c.MaxCallDuration, DefaultMaxCallDuration)
	setDefault(&c.DrainGrace, DefaultDrainGrace)
	setDefault(&c.DrainDelay, DefaultDrainDelay)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.MaxConnectionAgeGrace, DefaultMaxConnectionAgeGrace)
	setDefault(&c.MaxConnections, DefaultMaxConnections())
	setDefault(&c.MaxInflight, DefaultMaxInflight())
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// tls reports whether c asks for HTTPS.
func (c Config) tls() bool {
	return c.TLSCertFile != "" && c.TLSKeyFile != ""
}

// listeners are the layers Serve wraps its listener in, outermost first;
// the embedded one is what net/http serves.
type listeners struct {
	*connlimit.Listener
	guard    *h2guard.Listener // nil under TLS
	coalesce *coalesce.Listener
}

// listener wraps ln as Serve does: at most MaxConnections at once (package
// connlimit), the flood guard and GOAWAY of cleartext HTTP/2 connections
// (package h2guard; under TLS it would see ciphertext), every connection
// with the write timeout and a bounded close, and HTTP/2 connections
// coalescing their writes unless disabled (package coalesce).
func (c Config) listener(ln net.Listener) *listeners {
	opts := coalesce.Options{WriteTimeout: c.WriteTimeout, PassThrough: c.DisableWriteCoalescing}
	if c.tls() {
		l := &listeners{coalesce: coalesce.NewTLSListener(ln, opts)}
		l.Listener = connlimit.New(l.coalesce, c.MaxConnections)
		return l
	}
	l := &listeners{coalesce: coalesce.NewListener(ln, opts)}
	l.guard = h2guard.NewListener(l.coalesce, h2guard.Options{})
	l.Listener = connlimit.New(l.guard, c.MaxConnections)
	return l
}
