// Command connect-server is the benchmark's peer for the browser path: a bare
// connect-go handler of HelloWorldService (hellorpc's greeter and the proto's
// rules, internal/validation, with the same handler options as hello-server:
// read limit, compression threshold), on
// the same http.Server settings (HTTP/1.1 and h2c, server.NewHTTPServer),
// with no middleware, no access log and no write coalescing. hello-server
// against it is the cost of everything hellorpc adds around connect-go.
//
// -levers turns on, one by one, the changes that bench/levers measures
// against this bare handler (see levers.go); none is on by default.
//
//	connect-server [-addr 127.0.0.1:50094] [-levers name,name...]
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
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "connect-server:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:50094", "address to listen on")
	names := flag.String("levers", "", "comma-separated levers to turn on: "+leverNames())
	flag.Parse()
	on, err := parseLevers(*names)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	cfg := server.Config{Addr: *addr}.WithDefaults()
	opts := []connect.HandlerOption{connect.WithReadMaxBytes(cfg.MaxMessageBytes), connect.WithCompressMinBytes(cfg.CompressMinBytes)}
	if !on["novalidate"] {
		validate, err := validation.New(&rpc.HelloRequest{})
		if err != nil {
			return err
		}
		opts = append(opts, connect.WithInterceptors(validate))
	}
	opts = append(opts, handlerLevers(on, cfg)...)
	mux := http.NewServeMux()
	mux.Handle(rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(cfg.Greeter), opts...))
	srv := server.NewHTTPServer(cfg, wrapLevers(on, mux))
	serverLevers(on, srv)
	fmt.Println("connect-server listening on", ln.Addr(), "levers:", *names)
	return srv.Serve(ln)
}
