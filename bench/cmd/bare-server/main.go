// Command bare-server is the benchmark's ceiling for anything built on
// net/http: the same http.Server settings as hello-server (HTTP/1.1 and h2c,
// server.NewHTTPServer) with a handler that does no RPC work. It answers the
// SayHello path with a pre-encoded gRPC reply when the request is gRPC, and
// with a fixed JSON body otherwise, after reading the request body.
//
//	bare-server [-addr 127.0.0.1:50091]
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/hellorpc/hellorpc/internal/server"
)

// grpcReply is HelloReply{message: "Hello, eric!"} in a gRPC frame.
var grpcReply = []byte("\x00\x00\x00\x00\x0e\x0a\x0cHello, eric!")

var jsonReply = []byte(`{"message":"Hello, eric!"}`)

func handle(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		h := w.Header()
		h.Set("Content-Type", "application/grpc")
		h.Set(http.TrailerPrefix+"Grpc-Status", "0")
		_, _ = w.Write(grpcReply)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(jsonReply)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50091", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare-server:", err)
		os.Exit(1)
	}
	srv := server.NewHTTPServer(server.Config{Addr: *addr}, http.HandlerFunc(handle))
	fmt.Println("bare-server listening on", ln.Addr())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, "bare-server:", err)
		os.Exit(1)
	}
}
