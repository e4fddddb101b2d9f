// Command hello-client calls rpc_package.HelloWorldService.SayHello: the Go
// counterpart of the gRPC Python tutorial's client.
//
// Usage:
//
//	hello-client [-addr URL] [-protocol grpc|grpcweb|connect] [-encoding proto|json] [-get] [NAME]
//
// It prints "hello client received: Hello, NAME!" (NAME defaults to eric). gRPC
// goes over h2c (HTTP/2 with prior knowledge); gRPC-Web and Connect over
// HTTP/1.1, as a browser without TLS would.
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
		fmt.Fprintln(os.Stderr, "hello-client:", err)
		os.Exit(1)
	}
}
