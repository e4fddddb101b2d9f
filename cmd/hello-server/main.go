// Command hello-server serves rpc_package.HelloWorldService, the gRPC
// tutorial's greeter, to gRPC, gRPC-Web and Connect clients and to browsers,
// on one port over HTTP/1.1 and h2c.
//
// Usage:
//
//	hello-server [-addr :50000] [-cors-origins ORIGINS] [-log-level info] ...
//
// Every flag falls back to an environment variable; -h lists them.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "hello-server:", err)
		os.Exit(1)
	}
}
