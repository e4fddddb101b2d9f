package server

import (
	"crypto/tls"
	"fmt"
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
	"github.com/hellorpc/hellorpc/internal/tlsterm"
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
	// connection (SETTINGS_MAX_CONCURRENT_STREAMS): a client queues the calls
	// beyond it, where they cost the server nothing and end at their deadline,
	// instead of sending them to wait among the server's goroutines, where
	// every call would share the CPU with all the others and miss its
	// deadline (bench/cmd/openloop: at 4× the capacity, goodput went from
	// 2 % of it with 250 to 79–92 % with 16–32). Default 32.
	MaxConcurrentStreams int

	// MaxCallDuration caps the duration of every call, unary or streaming,
	// whatever deadline the client asked for; past it the call ends with
	// deadline_exceeded. The cap is the call's deadline: its handler's
	// context reports it as one, though the client sent none. Default 0: no
	// cap, a call lasts as long as its client's deadline allows (hello-server
	// sets DefaultMaxCallDuration).
	MaxCallDuration time.Duration

	// BodyTimeout bounds the time the request body of a call whose client
	// sends one message (unary and server-streaming RPCs, REST) may take to
	// arrive whole, from the call's start; past it the call ends with
	// deadline_exceeded and frees its slot, so a client that declares a body
	// and sends none (or trickles it) holds nothing for long; REST answers it
	// 408 Request Timeout (a call past its caller's deadline is 504). Client streams
	// are not bounded by it. Default 5s: a body of the 1 MiB message cap
	// needs about 200 KiB/s.
	BodyTimeout time.Duration

	// StreamIdleTimeout ends a streaming call (client, server or
	// bidirectional stream, health Watch and REST's stream of replies among
	// them) on which no byte of a
	// message has moved either way for this long: a client that opens a
	// stream and sends nothing, or stops reading the server's replies, holds
	// its slot only this long. The call ends with deadline_exceeded; a
	// reply blocked on a client that does not read is cut (HTTP/2:
	// RST_STREAM; HTTP/1.1: the connection closes). A health Watch that has
	// its request and has been answered is left alone: it waits, by design,
	// for a status to change (MaxHealthWatches bounds how many do). As Envoy's stream_idle_timeout
	// (default 5 min there). Default 1 min; negative: none.
	StreamIdleTimeout time.Duration

	// MaxHealthChecks caps the grpc.health.v1 Check calls in progress at
	// once, at most MaxHealthChecksPerConn of them from one connection. A
	// Check past the connection's bound is answered resource_exhausted at
	// once; one past MaxHealthChecks ends the oldest Check whose request has
	// not arrived (resource_exhausted: a silent one cannot hold its slot
	// until BodyTimeout) and takes its slot, or, when every one has its
	// request, is answered resource_exhausted at once. Health checks
	// have this budget of their own: they are neither shed by MaxInflight
	// nor count toward it, and a flood of them cannot take more than it. The
	// plain HTTP checks (/healthz, /readyz) are never refused: they are
	// answered without waiting for anything. Default 64.
	MaxHealthChecks int

	// MaxHealthWatches caps the grpc.health.v1 Watch streams open at once,
	// at most MaxHealthWatchesPerConn of them from one connection, as
	// MaxHealthChecks caps Checks: past the connection's bound a new one is
	// answered resource_exhausted at once, past MaxHealthWatches it ends
	// the oldest Watch whose request has not arrived, or, when every one
	// has been answered, is answered resource_exhausted. Default 1024.
	MaxHealthWatches int

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
	// among them, out. A busy connection on which no byte of a request or
	// reply has moved for BodyTimeout or StreamIdleTimeout, whichever is
	// shorter (its calls wait for a client that sends or reads nothing)
	// counts as idle, silent longest first; only when all are busy and not
	// silent is the new one refused.
	// Default DefaultMaxConnections(): 3/4 of the open-file limit, at most
	// 10,000.
	MaxConnections int

	// MaxInflight caps the calls in progress at once (streams included,
	// health checks not); calls beyond it wait in a queue of as many, up to
	// 100 ms while it drains and 5 ms, newest first, once it stands (adaptive
	// LIFO with CoDel, admit.go), and are then answered with
	// resource_exhausted (Connect: 429) and Retry-After; so are calls that
	// find the queue full, at once. A call whose client deadline passes while
	// it waits is answered deadline_exceeded, none of its work done. While
	// every slot is taken, a call that waits on its client (a read of its
	// request or a write of its reply blocked) with no byte moving for a
	// second is ended with resource_exhausted, one at a time, so that silent
	// clients cannot hold the slots however many connections they use
	// (pressure.go). Default DefaultMaxInflight(): 256 per CPU
	// the process may use.
	MaxInflight int

	// MaxInflightPerConn caps the calls of one connection in progress or
	// queued at once, within MaxInflight: calls beyond it are answered
	// resource_exhausted at once, as shed ones are, while other connections
	// still get slots, so that one client (3 connections of 200 silent
	// streams, say) cannot lock everyone else out. Default
	// DefaultMaxInflightPerConn(MaxInflight): a quarter of MaxInflight, at
	// least 32 (a connection's default MaxConcurrentStreams) and at most
	// MaxInflight; negative, or MaxInflight and more: no bound but
	// MaxInflight (a connection may then queue for every slot). Behind a
	// proxy that carries many clients over one connection, set
	// ClientIPHeader so that it bounds each client instead.
	MaxInflightPerConn int

	// ClientIPHeader names the request header in which a trusted proxy in
	// front of the server gives each call's client address, such as
	// X-Forwarded-For (its last element: the hop the proxy appended) or
	// X-Real-IP. When set, MaxInflightPerConn bounds the calls of each
	// client address (an IPv6 one by its /64) instead of each connection.
	// A call whose header is missing or does not hold an address (one
	// element, optionally with a port) counts against its connection. Set
	// it only behind a proxy that sets or appends the header: a client
	// that reaches the server directly could name any address. Default
	// "": the connection is the client.
	ClientIPHeader string

	// MaxConnectionAge retires connections this old, give or take a tenth:
	// HTTP/2 ones get GOAWAY (clients open a new connection, which a
	// connection-level balancer may send elsewhere), HTTP/1.1 ones answer
	// their next request with Connection: close. An HTTP/2 one is closed
	// once idle after its client has read the GOAWAY (it acknowledged the
	// PING that follows), any one after MaxConnectionAgeGrace. As grpc-go's
	// keepalive.ServerParameters.
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

	// AccessLog receives the access log: a line per request, at Info, as it
	// is answered. Default nil: Logger, so at Logger's level. A logger that
	// does not log at Info (slog.New(slog.DiscardHandler)) turns it off.
	AccessLog *slog.Logger

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

	// Services are more connect services, served beside HelloWorldService
	// on the same port, in gRPC, gRPC-Web and Connect (not REST): their calls
	// pass the same middleware, interceptors (validation aside: it checks
	// HelloWorldService's messages only) and in-flight limit, and health and
	// reflection list them. See Service. Default none.
	Services []Service

	// Middleware wraps the handler, first outermost, outside all of the
	// server's own (to serve more routes beside it, or record requests in
	// tests). Each must keep http.Flusher visible, or streams break.
	// Default none.
	Middleware []func(http.Handler) http.Handler
}

// DefaultMaxInflight is MaxInflight's default: 256 calls per CPU that the
// process may use (GOMAXPROCS).
func DefaultMaxInflight() int { return 256 * runtime.GOMAXPROCS(0) }

// DefaultMaxInflightPerConn is MaxInflightPerConn's default for a
// MaxInflight of maxInflight: a quarter of it, so that at least four
// connections are needed to take every slot, but never fewer than 32 calls
// (what one connection may open at once by default, so that a lone busy
// client is not cut short of it) nor more than maxInflight.
func DefaultMaxInflightPerConn(maxInflight int) int {
	return min(maxInflight, max(maxInflight/4, DefaultMaxConcurrentStreams))
}

// MaxHealthChecksPerConn and MaxHealthWatchesPerConn bound the health
// checks and Watch streams of one connection (see Config.MaxHealthChecks):
// a checker asks one question at a time, a gRPC client watches once per
// service, so a connection past them is flooding.
const (
	MaxHealthChecksPerConn  = 4
	MaxHealthWatchesPerConn = 16
)

// DefaultMaxConnections is MaxConnections' default: 3/4 of the process's
// open-file limit, leaving the rest for everything else the process opens,
// and at most 10,000 (each open connection holds buffers and goroutines).
func DefaultMaxConnections() int {
	n := openFileLimit() * 3 / 4
	return max(16, min(n, 10_000))
}

// DefaultMaxCallDuration is hello-server's cap on the duration of a call
// (-max-call-duration); Config.MaxCallDuration's zero value is no cap.
const DefaultMaxCallDuration = 10 * time.Minute

// Defaults of Config, applied by WithDefaults to zero fields.
const (
	DefaultAddr                  = ":50000"
	DefaultReadHeaderTimeout     = 10 * time.Second
	DefaultIdleTimeout           = 30 * time.Second
	DefaultMaxHeaderBytes        = 64 << 10
	DefaultMaxMessageBytes       = 1 << 20
	DefaultCompressMinBytes      = 1 << 10
	DefaultMaxConcurrentStreams  = 32
	DefaultShutdownTimeout       = 10 * time.Second
	DefaultBodyTimeout           = 5 * time.Second
	DefaultStreamIdleTimeout     = time.Minute
	DefaultMaxHealthChecks       = 64
	DefaultMaxHealthWatches      = 1024
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
	setDefault(&c.BodyTimeout, DefaultBodyTimeout)
	setDefault(&c.StreamIdleTimeout, DefaultStreamIdleTimeout)
	setDefault(&c.MaxHealthChecks, DefaultMaxHealthChecks)
	setDefault(&c.MaxHealthWatches, DefaultMaxHealthWatches)
	setDefault(&c.DrainGrace, DefaultDrainGrace)
	setDefault(&c.DrainDelay, DefaultDrainDelay)
	setDefault(&c.WriteTimeout, DefaultWriteTimeout)
	setDefault(&c.MaxConnectionAgeGrace, DefaultMaxConnectionAgeGrace)
	setDefault(&c.MaxConnections, DefaultMaxConnections())
	setDefault(&c.MaxInflight, DefaultMaxInflight())
	setDefault(&c.MaxInflightPerConn, DefaultMaxInflightPerConn(c.MaxInflight))
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AccessLog == nil {
		c.AccessLog = c.Logger
	}
	return c
}

func setDefault[T comparable](field *T, value T) {
	var zero T
	if *field == zero {
		*field = value
	}
}

// silentAfter is how long nothing must have moved on a busy connection for
// it to count as idle at the connection limit (connlimit.EvictSilent): the
// time a client may owe the bytes of a request body (BodyTimeout) or of a
// stream (StreamIdleTimeout), whichever is shorter.
func (c Config) silentAfter() time.Duration {
	if c.StreamIdleTimeout > 0 {
		return min(c.BodyTimeout, c.StreamIdleTimeout)
	}
	return c.BodyTimeout
}

// tls reports whether c asks for HTTPS.
func (c Config) tls() bool {
	return c.TLSCertFile != "" && c.TLSKeyFile != ""
}

// listeners are the layers Serve wraps its listener in; served is the
// outermost, the one net/http serves.
type listeners struct {
	*connlimit.Listener
	served   net.Listener
	guard    *h2guard.Listener
	coalesce *coalesce.Listener
}

// listener wraps ln as Serve does: at most MaxConnections at once (package
// connlimit), the flood guard and GOAWAY of HTTP/2 connections (package
// h2guard), every connection with the write timeout and a bounded close,
// and HTTP/2 connections coalescing their writes unless disabled (package
// coalesce). With TLS, it is terminated between coalescing and the guard
// (package tlsterm), so that the guard reads the frames net/http reads.
func (c Config) listener(ln net.Listener) (*listeners, error) {
	opts := coalesce.Options{WriteTimeout: c.WriteTimeout, PassThrough: c.DisableWriteCoalescing}
	l := &listeners{}
	guardAndLimit := func(ln net.Listener) net.Listener {
		l.guard = h2guard.NewListener(ln, h2guard.Options{})
		l.Listener = connlimit.New(l.guard, c.MaxConnections)
		l.Listener.EvictSilent(c.silentAfter())
		return l.Listener
	}
	if !c.tls() {
		l.coalesce = coalesce.NewListener(ln, opts)
		l.served = guardAndLimit(l.coalesce)
		return l, nil
	}
	cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("load the TLS certificate %s and key %s: %w", c.TLSCertFile, c.TLSKeyFile, err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	l.coalesce = coalesce.NewTLSListener(ln, opts)
	l.served = tlsterm.NewListener(l.coalesce, cfg, guardAndLimit)
	return l, nil
}
