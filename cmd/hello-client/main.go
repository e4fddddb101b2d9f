// Command hello-client calls the RPCs of rpc_package.HelloWorldService: the Go
// counterpart of the gRPC Python tutorial's client.
//
// Usage:
//
//	hello-client [-addr URL] [-protocol grpc|grpcweb|connect] [-encoding proto|json] [-get]
//		[-rpc say-hello|lots-of-replies|lots-of-greetings|bidi-hello] [NAME...]
//
// It prints "hello client received: <reply>" for every reply, as it arrives
// (NAME defaults to eric). gRPC and bidi-hello go over h2c (HTTP/2 with prior
// knowledge); the rest over HTTP/1.1, as a browser without TLS would.
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
