package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
)

// A Server is an http.Handler: httptest serves it as it is.
func ExampleNew() {
	srv := httptest.NewServer(server.New(server.Config{}))
	defer srv.Close()

	client := rpc_packageconnect.NewHelloWorldServiceClient(srv.Client(), srv.URL)
	reply, err := client.SayHello(context.Background(), &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.GetMessage())
	// Output: Hello, eric!
}

// Serve runs a Server on a listener, with its connection limits and write
// coalescing, until the context ends; then it drains (here without the delay
// that lets load balancers see it leave).
func ExampleServer_Serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error, 1)
	go func() { done <- server.New(server.Config{DrainDelay: -1}).Serve(ctx, ln) }()

	client := rpc_packageconnect.NewHelloWorldServiceClient(http.DefaultClient, "http://"+ln.Addr().String())
	reply, err := client.SayHello(ctx, &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reply.GetMessage())

	stop() // a graceful drain
	fmt.Println("serve returned", <-done)
	// Output:
	// Hello, eric!
	// serve returned <nil>
}
