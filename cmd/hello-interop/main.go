// Command hello-interop runs the interop matrix (package interop): the
// clients people already use, against a freshly built hello-server, and
// prints a Markdown table of client × protocol × HTTP version × RPC kind.
// It exits non-zero when a cell fails, and, with HELLORPC_REQUIRE_ALL=1, when
// a client is missing.
//
// Usage:
//
//	go run ./cmd/hello-interop [-readme docs/interop.md] [-v]
//
// With -readme it also replaces the table between the interop markers of
// that file.
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
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hello-interop:", err)
		os.Exit(1)
	}
}
