// Command loadbench runs the load benchmark: hello-server against its peer
// (grpc-go, cmd/grpc-server) and its ceiling (a bare net/http handler with the
// same http.Server settings, cmd/bare-server), interleaved A B C A B C for
// several rounds, with the servers pinned to CPU 0 and the load generators to
// CPU 1; hello-server runs twice, with write coalescing on and off. It
// prints a Markdown table of req/s, p50, p99, server CPU per
// request, and the median of the per-round ratios of hello-server to the
// ceiling and to grpc-go. bench/run builds everything and calls it.
//
//	loadbench -hello BIN -grpc BIN -bare BIN [-connect BIN] [-rounds 3] [-duration 4s]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loadbench", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.hello, "hello", "", "hello-server binary")
	fs.StringVar(&cfg.grpc, "grpc", "", "grpc-server binary (the peer)")
	fs.StringVar(&cfg.bare, "bare", "", "bare-server binary (the ceiling)")
	fs.StringVar(&cfg.connect, "connect", "", "connect-server binary (bare connect-go, the peer of the browser path; optional)")
	fs.StringVar(&cfg.proto, "proto", "proto/rpc_package/helloworld.proto", "the proto file, for ghz")
	fs.IntVar(&cfg.rounds, "rounds", 3, "interleaved rounds")
	fs.DurationVar(&cfg.duration, "duration", 0, "load per measurement (default 4s)")
	fs.StringVar(&cfg.helloArgs, "hello-args", "", "extra hello-server flags, space-separated")
	fs.StringVar(&cfg.only, "only", "", "run only scenarios whose name contains this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.hello == "" || cfg.grpc == "" || cfg.bare == "" {
		return fmt.Errorf("-hello, -grpc and -bare are required")
	}
	return benchmark(ctx, cfg)
}
