// Command grpc-server is the benchmark's peer: rpc_package.HelloWorldService
// on grpc-go, answering SayHello as hello-server does.
//
//	grpc-server [-addr 127.0.0.1:50090]
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	rpc "github.com/hellorpc/hellorpc/bench/gen/rpc_package"
)

type greeter struct {
	rpc.UnimplementedHelloWorldServiceServer
}

func (greeter) SayHello(_ context.Context, req *rpc.HelloRequest) (*rpc.HelloReply, error) {
	name := req.GetName()
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return nil, status.Error(codes.InvalidArgument, "invalid name")
	}
	return &rpc.HelloReply{Message: "Hello, " + name + "!"}, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50090", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpc-server:", err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	rpc.RegisterHelloWorldServiceServer(srv, greeter{})
	fmt.Println("grpc-server listening on", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "grpc-server:", err)
		os.Exit(1)
	}
}
