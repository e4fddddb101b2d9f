package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/hellorpc/hellorpc/internal/cli"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
)

// DefaultReplyInterval spaces streamed replies so that a person sees them
// arrive one by one.
const DefaultReplyInterval = 400 * time.Millisecond

// DefaultMetricsAddr is where metrics are served by default: OpenTelemetry's
// port for a Prometheus exporter, on every interface, so that a Prometheus
// beside the server (in Kubernetes, another Pod) can scrape it.
const DefaultMetricsAddr = ":9464"

// envNames maps each flag to the environment variable it falls back to.
var envNames = map[string]string{
	"addr":                     "HELLORPC_ADDR",
	"cors-origins":             "HELLORPC_CORS_ORIGINS",
	"log-level":                "HELLORPC_LOG_LEVEL",
	"log-format":               "HELLORPC_LOG_FORMAT",
	"access-log":               "HELLORPC_ACCESS_LOG",
	"read-header-timeout":      "HELLORPC_READ_HEADER_TIMEOUT",
	"idle-timeout":             "HELLORPC_IDLE_TIMEOUT",
	"max-header-bytes":         "HELLORPC_MAX_HEADER_BYTES",
	"max-message-bytes":        "HELLORPC_MAX_MESSAGE_BYTES",
	"shutdown-timeout":         "HELLORPC_SHUTDOWN_TIMEOUT",
	"max-call-duration":        "HELLORPC_MAX_CALL_DURATION",
	"body-timeout":             "HELLORPC_BODY_TIMEOUT",
	"stream-idle-timeout":      "HELLORPC_STREAM_IDLE_TIMEOUT",
	"max-health-checks":        "HELLORPC_MAX_HEALTH_CHECKS",
	"max-health-watches":       "HELLORPC_MAX_HEALTH_WATCHES",
	"drain-grace":              "HELLORPC_DRAIN_GRACE",
	"drain-delay":              "HELLORPC_DRAIN_DELAY",
	"max-streams":              "HELLORPC_MAX_STREAMS",
	"write-timeout":            "HELLORPC_WRITE_TIMEOUT",
	"max-connections":          "HELLORPC_MAX_CONNECTIONS",
	"max-inflight":             "HELLORPC_MAX_INFLIGHT",
	"max-inflight-per-conn":    "HELLORPC_MAX_INFLIGHT_PER_CONN",
	"client-ip-header":         "HELLORPC_CLIENT_IP_HEADER",
	"max-connection-age":       "HELLORPC_MAX_CONNECTION_AGE",
	"max-connection-age-grace": "HELLORPC_MAX_CONNECTION_AGE_GRACE",
	"tls-cert":                 "HELLORPC_TLS_CERT",
	"tls-key":                  "HELLORPC_TLS_KEY",
	"debug-addr":               "HELLORPC_DEBUG_ADDR",
	"write-coalescing":         "HELLORPC_WRITE_COALESCING",
	"reply-interval":           "HELLORPC_REPLY_INTERVAL",
	"max-stream-messages":      "HELLORPC_MAX_STREAM_MESSAGES",
	"telemetry":                "HELLORPC_TELEMETRY",
	"metrics-addr":             "HELLORPC_METRICS_ADDR",
	"gc-percent":               "GOGC",
	"memory-limit":             "GOMEMLIMIT",
}

// options are hello-server's settings: the server's, and the process's.
type options struct {
	cfg         server.Config
	level       slog.Level // of the log
	logFormat   logFormat  // -log-format: text or json
	accessLog   bool       // -access-log
	debugAddr   string     // of the debug listener, "" for none
	metricsAddr string     // of the metrics listener, "" for none
	telemetry   bool
	gc          gcSettings
	origins     string // -cors-origins as given, comma-separated
	coalescing  bool   // -write-coalescing
}

// flagSet defines hello-server's flags, which set o.
func (o *options) flagSet(stderr io.Writer) *flag.FlagSet {
	cfg := &o.cfg
	fs := flag.NewFlagSet("hello-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", server.DefaultAddr, "`address` to listen on (host:port)")
	fs.StringVar(&o.origins, "cors-origins", "", "comma-separated `origins` allowed to call from browsers cross-origin; \"*\" allows any (default none: same-origin only)")
	fs.TextVar(&o.level, "log-level", slog.LevelInfo, "log `level`: debug, info, warn or error")
	o.logFormat = "text"
	fs.Var(&o.logFormat, "log-format", "log `format`: text (slog's key=value) or json (one JSON object a line)")
	fs.BoolVar(&o.accessLog, "access-log", true, "log a line per request, whatever -log-level; false: none")
	fs.DurationVar(&cfg.ReadHeaderTimeout, "read-header-timeout", server.DefaultReadHeaderTimeout, "time allowed to read request headers")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "close HTTP/1.1 keep-alive connections, and HTTP/2 connections with no open stream (with GOAWAY), idle this long")
	fs.IntVar(&cfg.MaxHeaderBytes, "max-header-bytes", server.DefaultMaxHeaderBytes, "maximum size of request headers in `bytes`")
	fs.IntVar(&cfg.MaxMessageBytes, "max-message-bytes", server.DefaultMaxMessageBytes, "maximum size of one request message in `bytes`, after decompression")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "time allowed for in-flight calls to finish on shutdown")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", server.DefaultDrainDelay, "on shutdown, how long to go on serving with health NOT_SERVING before closing the listener, so that load balancers take the server out of rotation first; 0: none")
	fs.DurationVar(&cfg.DrainGrace, "drain-grace", server.DefaultDrainGrace, "on shutdown, how long open streams may go on before they are cancelled")
	fs.DurationVar(&cfg.WriteTimeout, "write-timeout", server.DefaultWriteTimeout, "close a connection whose client has taken no byte of a reply for this long (extended while bytes go out)")
	fs.IntVar(&cfg.MaxConnections, "max-connections", server.DefaultMaxConnections(), "most connections open at once, by default 3/4 of the open-file limit up to 10000; at the limit the longest-idle one is closed for a new one")
	fs.IntVar(&cfg.MaxInflight, "max-inflight", server.DefaultMaxInflight(), "most calls in progress at once (health checks aside), by default 256 per CPU; more wait up to 100 ms in a queue as long (5 ms, newest first, while it stands), then get resource_exhausted")
	fs.IntVar(&cfg.MaxInflightPerConn, "max-inflight-per-conn", 0, "most calls of one connection in progress or queued at once; more get resource_exhausted at once while other connections still get slots (default 0: a quarter of -max-inflight, at least 32; negative: no bound but -max-inflight)")
	fs.StringVar(&cfg.ClientIPHeader, "client-ip-header", "", "`header` in which a trusted proxy gives the client's address (X-Forwarded-For: its last element; X-Real-IP): -max-inflight-per-conn then bounds each client address (IPv6: each /64) instead of each connection; calls without an address in it count against their connection. Set it only behind such a proxy (default off)")
	fs.DurationVar(&cfg.MaxConnectionAge, "max-connection-age", 0, "retire connections this old (±10%): GOAWAY for HTTP/2, Connection: close for HTTP/1.1, so that they re-spread over instances (default 0: never)")
	fs.DurationVar(&cfg.MaxConnectionAgeGrace, "max-connection-age-grace", server.DefaultMaxConnectionAgeGrace, "how long a retired connection may go on with calls in progress")
	fs.IntVar(&cfg.MaxConcurrentStreams, "max-streams", server.DefaultMaxConcurrentStreams, "most concurrent HTTP/2 streams per connection")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert", "", "PEM certificate `file`: serve HTTPS (HTTP/2 and HTTP/1.1) instead of HTTP/1.1 and h2c")
	fs.StringVar(&cfg.TLSKeyFile, "tls-key", "", "PEM private key `file` for -tls-cert")
	o.gc = gcSettings{percent: DefaultGCPercent}
	fs.Var(&o.gc.percent, "gc-percent", "garbage collection target `percent` (Go's GOGC, \"off\" for none): a higher one collects less often, so fewer calls meet a collection, for more memory")
	fs.Var(&o.gc.memoryLimit, "memory-limit", "soft memory limit of the process (Go's GOMEMLIMIT: `bytes`, or with a B, KiB, MiB, GiB or TiB suffix; \"off\" for none): past it the collector works harder, whatever -gc-percent says (default 90% of the memory limit of the process's cgroup, as a container has; 768MiB without one)")
	fs.BoolVar(&o.coalescing, "write-coalescing", true, "gather the HTTP/2 writes of many streams into fewer system calls")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "`address` for expvar and pprof (/debug/vars, /debug/pprof/); keep it on loopback (default off)")
	fs.StringVar(&o.metricsAddr, "metrics-addr", DefaultMetricsAddr, "`address` of the metrics listener (/metrics, Prometheus text format): every call in every protocol, the server's figures, Go runtime and process; \"\" or \"off\": none")
	fs.BoolVar(&o.telemetry, "telemetry", false, "trace every call whose client sent a sampled W3C traceparent (OpenTelemetry spans; trace ids in the access log and as the metrics' exemplars), without exporting them; on, and exported over OTLP, whenever the OTEL_* variables ask for export (README, Traces)")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", server.DefaultBodyTimeout, "longest a unary call's request body may take to arrive whole; past it the call ends with deadline_exceeded (REST: 408 Request Timeout)")
	fs.DurationVar(&cfg.StreamIdleTimeout, "stream-idle-timeout", server.DefaultStreamIdleTimeout, "end a stream (client, server or bidirectional, REST's /replies; a health Watch until it is answered) on which no message moved either way for this long, with deadline_exceeded (a reply the client does not read is cut); 0: never")
	fs.IntVar(&cfg.MaxHealthChecks, "max-health-checks", server.DefaultMaxHealthChecks, "most grpc.health.v1 Check calls in progress at once, 4 per connection, outside -max-inflight; past it a new one ends the oldest whose request has not arrived, else gets resource_exhausted at once, as one past its connection's 4 does (/healthz and /readyz are never refused)")
	fs.IntVar(&cfg.MaxHealthWatches, "max-health-watches", server.DefaultMaxHealthWatches, "most grpc.health.v1 Watch streams open at once, 16 per connection; past it a new one ends the oldest whose request has not arrived, else gets resource_exhausted at once, as one past its connection's 16 does")
	fs.DurationVar(&cfg.MaxCallDuration, "max-call-duration", server.DefaultMaxCallDuration, "longest any call may last, unary or streaming, whatever the client's deadline; 0: no cap, the client's deadline alone")
	fs.DurationVar(&cfg.Greeter.ReplyInterval, "reply-interval", DefaultReplyInterval, "pause between the streamed replies of LotsOfReplies")
	fs.IntVar(&cfg.Greeter.MaxStreamMessages, "max-stream-messages", greeter.DefaultMaxStreamMessages, "most names one client stream may send")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hello-server [flags]\n\nFlags (each falls back to the environment variable named in brackets):")
		fs.VisitAll(func(f *flag.Flag) { f.Usage += " [" + envNames[f.Name] + "]" })
		fs.PrintDefaults()
	}
	return fs
}

// parseConfig reads hello-server's options from args and the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (o options, err error) {
	cfg := &o.cfg
	fs := o.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q: hello-server takes only flags", fs.Args())
	}
	if err := cli.ApplyEnv(fs, envNames, getenv); err != nil {
		return o, err
	}
	o.gc.resolve()
	if o.metricsAddr == "off" {
		o.metricsAddr = ""
	}
	cfg.DisableWriteCoalescing = !o.coalescing
	switch {
	case cfg.DrainDelay < 0:
		return o, errors.New("-drain-delay must not be negative")
	case cfg.DrainDelay == 0:
		cfg.DrainDelay = -1 // none; in server.Config zero means the default
	}
	for origin := range strings.SplitSeq(o.origins, ",") {
		if origin = strings.TrimSpace(origin); origin != "" {
			cfg.CORSOrigins = append(cfg.CORSOrigins, origin)
		}
	}
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return o, errors.New("-tls-cert and -tls-key go together: give both or neither")
	}
	if cfg.ReadHeaderTimeout <= 0 || cfg.IdleTimeout <= 0 || cfg.ShutdownTimeout <= 0 || cfg.BodyTimeout <= 0 || cfg.DrainGrace <= 0 || cfg.WriteTimeout <= 0 {
		return o, errors.New("timeouts must be positive")
	}
	if cfg.MaxCallDuration < 0 {
		return o, fmt.Errorf("-max-call-duration %v must not be negative (0: no cap)", cfg.MaxCallDuration)
	}
	switch {
	case cfg.StreamIdleTimeout < 0:
		return o, fmt.Errorf("-stream-idle-timeout %v must not be negative (0: none)", cfg.StreamIdleTimeout)
	case cfg.StreamIdleTimeout == 0:
		cfg.StreamIdleTimeout = -1 // none; in server.Config zero means the default
	}
	if cfg.Greeter.ReplyInterval < 0 {
		return o, errors.New("-reply-interval must not be negative")
	}
	if cfg.MaxHeaderBytes <= 0 || cfg.MaxMessageBytes <= 0 || cfg.Greeter.MaxStreamMessages <= 0 || cfg.MaxConcurrentStreams <= 0 ||
		cfg.MaxConnections <= 0 || cfg.MaxInflight <= 0 || cfg.MaxHealthChecks <= 0 || cfg.MaxHealthWatches <= 0 {
		return o, errors.New("size limits must be positive")
	}
	if cfg.MaxConnectionAge < 0 || cfg.MaxConnectionAgeGrace <= 0 {
		return o, errors.New("-max-connection-age must not be negative, -max-connection-age-grace must be positive")
	}
	return o, nil
}
