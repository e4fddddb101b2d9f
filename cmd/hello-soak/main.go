// Command hello-soak puts a bounded, mixed-protocol load on a running
// hello-server from another process and reports calls, errors and the
// server's goroutines and heap before and after (read from its -debug-addr).
//
// Usage:
//
//	hello-soak [-addr http://127.0.0.1:50000] [-debug http://127.0.0.1:50001]
//		[-duration 60s] [-concurrency 16] [-max-calls 10000000]
//
// Every worker calls in turn: SayHello over gRPC (h2c), Connect JSON
// (HTTP/1.1), Connect proto (h2c) and gRPC-Web (HTTP/1.1), one invalid name,
// LotsOfReplies, LotsOfGreetings and BidiHello. .ci/soak builds and runs it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hello-soak:", err)
		os.Exit(1)
	}
}
