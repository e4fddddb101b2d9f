package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"

	"github.com/hellorpc/hellorpc/internal/server"
)

// run starts the server and blocks until ctx is done, then shuts it down
// gracefully. It returns an error when the configuration is invalid, the
// address cannot be listened on, or serving fails.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, level, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg.Logger = logger
	cfg = cfg.WithDefaults()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server using this port? choose another with -addr)", cfg.Addr, err)
	}
	srv := server.NewHTTPServer(cfg, server.NewHandler(cfg))
	printWelcome(stdout, ln.Addr())
	logger.Info("serving", "addr", ln.Addr().String(), "protocols", "HTTP/1.1 and h2c",
		"cors_origins", cfg.CORSOrigins)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}

	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown within %s: %w", cfg.ShutdownTimeout, err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	}
	logger.Info("stopped")
	return nil
}

// printWelcome tells the user where the server listens and what to try.
func printWelcome(w io.Writer, addr net.Addr) {
	port := "50000"
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = strconv.Itoa(tcp.Port)
	}
	base := "http://localhost:" + port
	fmt.Fprintf(w, "hello-server listening on %s (HTTP/1.1 and h2c, one port)\n", addr)
	fmt.Fprintf(w, "  page:  %s/\n", base)
	fmt.Fprintf(w, "  try:   curl -s -H 'Content-Type: application/json' -d '{\"name\":\"eric\"}' %s/rpc_package.HelloWorldService/SayHello\n", base)
}
