// Command proxylatency measures the latency of unary calls to hello-server
// through HAProxy, as deploy/haproxy.cfg configures it, and directly over
// h2c, for two or more hello-server binaries in interleaved rounds (A B,
// then B A, ...): REST GET /v1/hello/eric, gRPC-Web and Connect JSON
// SayHello over HTTP/1.1 with keep-alive through HAProxy, REST over h2c
// through HAProxy, and REST over h2c to one instance directly. Each call is
// timed at the client, in a closed loop of -workers, -calls calls a
// measurement after a warm-up. It prints p50, p99 and the slowest call per
// round, then a Markdown table of the medians over the rounds and of the
// per-round ratios of each binary to the first. bench/proxylatency builds
// the binaries and runs it.
//
//	proxylatency -haproxy-cfg deploy/haproxy.cfg -server before=BIN -server after=BIN [-rounds 3] [-calls 2000] [-workers 8]
//
// Everything listens on 127.0.0.1; each measurement is bounded by its count
// of calls and each call by a 5 s deadline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "proxylatency:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	haproxy, haproxyCfg string
	servers             []server // the first is every ratio's denominator
	rounds              int
	calls, workers      int
}

// server is one hello-server binary under a name.
type server struct{ name, bin string }

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxylatency", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.haproxy, "haproxy", "haproxy", "HAProxy binary")
	fs.StringVar(&cfg.haproxyCfg, "haproxy-cfg", "deploy/haproxy.cfg", "HAProxy configuration; its bind and server addresses are replaced by free ports")
	fs.Func("server", "`name=binary` of a hello-server (repeat; the first is the ratios' reference)", func(v string) error {
		name, bin, ok := strings.Cut(v, "=")
		if !ok || name == "" || bin == "" {
			return fmt.Errorf("-server %q: want name=binary", v)
		}
		cfg.servers = append(cfg.servers, server{name, bin})
		return nil
	})
	fs.IntVar(&cfg.rounds, "rounds", 3, "interleaved rounds")
	fs.IntVar(&cfg.calls, "calls", 2000, "calls a measurement")
	fs.IntVar(&cfg.workers, "workers", 8, "concurrent callers")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(cfg.servers) == 0 {
		return errors.New("no -server given")
	}
	if cfg.rounds < 1 || cfg.calls < 100 || cfg.workers < 1 {
		return fmt.Errorf("-rounds %d, -calls %d, -workers %d: want at least 1, 100 and 1", cfg.rounds, cfg.calls, cfg.workers)
	}
	results, err := rounds(ctx, cfg)
	if err != nil {
		return err
	}
	printTable(cfg, results)
	return nil
}
