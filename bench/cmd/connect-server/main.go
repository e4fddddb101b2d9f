// Command connect-server is the benchmark's peer for the browser path: a bare
// connect-go handler of HelloWorldService (hellorpc's greeter and the proto's
// rules, internal/validation, with the same handler options as hello-server:
// read limit, compression threshold), on
// the same http.Server settings (HTTP/1.1 and h2c, server.NewHTTPServer),
// with no middleware, no access log and no write coalescing. hello-server
// against it is the cost of everything hellorpc adds around connect-go.
//
//	connect-server [-addr 127.0.0.1:50094]
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/validation"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:50094", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect-server:", err)
		os.Exit(1)
	}
	cfg := server.Config{Addr: *addr}.WithDefaults()
	mux := http.NewServeMux()
	validate, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "connect-server:", err)
		os.Exit(1)
	}
	mux.Handle(rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(cfg.Greeter),
		connect.WithReadMaxBytes(cfg.MaxMessageBytes), connect.WithCompressMinBytes(cfg.CompressMinBytes),
		connect.WithInterceptors(validate)))
	srv := server.NewHTTPServer(cfg, mux)
	fmt.Println("connect-server listening on", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "connect-server:", err)
		os.Exit(1)
	}
}
