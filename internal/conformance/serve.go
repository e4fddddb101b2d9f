package conformance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	v1 "github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1"
	"github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1/conformancev1connect"
	"github.com/hellorpc/hellorpc/internal/server"
)

// maxRequestBytes bounds the ServerCompatRequest that Serve reads.
const maxRequestBytes = 1 << 20

// Serve is the server under test of the suite's server mode: it reads one
// ServerCompatRequest from in (a 4-byte big-endian length, then the
// message), serves ConformanceService through server.New with the product's
// defaults on an ephemeral port of 127.0.0.1 (HTTP/1.1 and h2c; the suite's
// message receive limit as Config.MaxMessageBytes), writes the
// ServerCompatResponse to out the same way, and serves until ctx ends.
func Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	var req v1.ServerCompatRequest
	if err := readDelimited(in, &req); err != nil {
		return fmt.Errorf("read the ServerCompatRequest: %w", err)
	}
	if req.GetUseTls() {
		return errors.New("the ServerCompatRequest asks for TLS, which the suite's configuration (testdata/config.yaml) does not declare")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen on 127.0.0.1: %w", err)
	}
	srv := server.New(Config(int(req.GetMessageReceiveLimit())))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	portNum, _ := strconv.ParseUint(port, 10, 32)
	if err := writeDelimited(out, &v1.ServerCompatResponse{Host: "127.0.0.1", Port: uint32(portNum)}); err != nil {
		_ = srv.Close()
		return errors.Join(fmt.Errorf("write the ServerCompatResponse: %w", err), <-served)
	}
	select {
	case <-ctx.Done():
		_ = srv.Close()
		return <-served
	case err := <-served:
		return err
	}
}

// Config is the server that the suite tests: the product's defaults
// (server.Config's zero values), ConformanceService mounted beside the
// greeter, and, when maxMessageBytes > 0, that limit on a request message.
func Config(maxMessageBytes int) server.Config {
	return server.Config{
		MaxMessageBytes: maxMessageBytes,
		Services: []server.Service{func(opts ...connect.HandlerOption) (string, http.Handler) {
			return conformancev1connect.NewConformanceServiceHandler(service{}, opts...)
		}},
	}
}

func readDelimited(r io.Reader, msg proto.Message) error {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > maxRequestBytes {
		return fmt.Errorf("message of %d bytes, over the %d allowed", n, maxRequestBytes)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return err
	}
	return proto.Unmarshal(buf, msg)
}

func writeDelimited(w io.Writer, msg proto.Message) error {
	b, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	_, err = w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	if err == nil {
		_, err = w.Write(b)
	}
	return err
}
