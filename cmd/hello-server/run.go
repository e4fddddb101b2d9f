package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hellorpc/hellorpc/internal/cli"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
)

// run starts the server and blocks until ctx is done, then drains it
// gracefully. It returns an error when the configuration is invalid, the
// address cannot be listened on, or serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	cfg, level, debugAddr, metricsAddr, telemetryOn := o.cfg, o.level, o.debugAddr, o.metricsAddr, o.telemetry
	defer o.gc.apply()()
	// Log lines go out in batches from a goroutine of their own; Close, after
	// the drain, writes the last of them.
	logs := cli.NewLogWriter(stderr, 0, 0)
	defer logs.Close()
	// slog's text or JSON format; in text the access log appends its lines
	// itself (cli.TextHandler).
	cfg.Logger, cfg.AccessLog = loggers(o.logFormat, logs, level, o.accessLog)
	tel, stopTraces, err := startTraces(ctx, getenv, telemetryOn, cfg.Logger)
	if err != nil {
		return err
	}
	defer stopTraces()
	cfg.Telemetry = tel

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using this port? choose another with -addr)", cfg.Addr, err)
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	printWelcome(stdout, ln.Addr(), scheme)
	if metricsAddr != "" {
		cfg.Metrics = metrics.New()
		mux := http.NewServeMux() // /metrics only: promhttp would answer any path
		mux.Handle("GET /metrics", cfg.Metrics.Handler())
		stop, err := serveSide("metrics", metricsAddr, mux, []string{"/metrics"}, stdout)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	if debugAddr != "" {
		stop, err := serveSide("debug", debugAddr, server.DebugHandler(), []string{"/debug/vars", "/debug/pprof/"}, stdout)
		if err != nil {
			ln.Close()
			return err
		}
		defer stop()
	}
	cfg.Logger.Info("serving", "addr", ln.Addr().String(), "tls", scheme == "https", "cors_origins", cfg.CORSOrigins,
		"memory_limit", o.gc.memoryLimit.String(), "memory_limit_from", o.gc.limitFrom)
	return server.New(cfg).Serve(ctx, ln)
}

// printWelcome tells the user where the server listens and what to try.
func printWelcome(w io.Writer, addr net.Addr, scheme string) {
	port := "50000"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	base := scheme + "://localhost:" + port
	protocols := "HTTP/1.1 and h2c"
	if scheme == "https" {
		protocols = "HTTP/1.1 and HTTP/2 over TLS"
	}
	fmt.Fprintf(w, "hello-server listening on %s (%s, one port)\n", addr, protocols)
	fmt.Fprintf(w, "  page:  %s/\n", base)
	fmt.Fprintf(w, "  try:   curl -s -H 'Content-Type: application/json' -d '{\"name\":\"eric\"}' %s/rpc_package.HelloWorldService/SayHello\n", base)
}

// serveSide serves h on addr, the address of the listener named by flag
// -name-addr, until stop is called, and prints the paths it serves.
func serveSide(name, addr string, h http.Handler, paths []string, stdout io.Writer) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on -%s-addr %s: %w", name, addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(stdout, "%s: http://%s%s\n", name, ln.Addr(), strings.Join(paths, ", "))
	return func() { _ = srv.Close() }, nil
}
