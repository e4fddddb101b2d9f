package server_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/cli"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/validation"
)

// BenchmarkGreeter measures the service alone, without HTTP or encoding.
func BenchmarkGreeter(b *testing.B) {
	g := greeter.New(greeter.Options{})
	req := &rpc.HelloRequest{Name: "eric"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.SayHello(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkForms calls SayHello in every form through the real handler stack
// on an httptest server, over HTTP/1.1 and h2c, one call at a time.
func BenchmarkForms(b *testing.B) {
	srv := servertest.Start(b, server.Config{})
	for f, tr := range cells(forms) {
		b.Run(f.name+"/"+tr.name, func(b *testing.B) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(tr.client(b), srv.URL, f.opts...)
			req := &rpc.HelloRequest{Name: "eric"}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := client.SayHello(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMiddleware compares, in process and without a network, the full
// handler (access log, CORS, text mode, HTTP/2 check, body cap, deadlines)
// with the bare connect handler of the same service and options, for a
// Connect JSON call and a gRPC-Web call. The ratio full/bare is the cost of
// the middleware; full+accesslog adds an access log line per call, as
// hello-server writes it (cli.TextHandler through a cli.LogWriter to
// io.Discard); full+telemetry measures and traces every call
// (OpenTelemetry metrics and spans; package telemetry).
func BenchmarkMiddleware(b *testing.B) {
	cfg := server.Config{}.WithDefaults()
	// The bare handler is the same service: the greeter and the proto's rules.
	validate, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		b.Fatal(err)
	}
	_, bare := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(cfg.Greeter),
		connect.WithReadMaxBytes(cfg.MaxMessageBytes), connect.WithCompressMinBytes(cfg.CompressMinBytes),
		connect.WithInterceptors(validate))
	full := server.New(cfg)
	logged := cfg
	logs := cli.NewLogWriter(io.Discard, 0, 0)
	b.Cleanup(func() { _ = logs.Close() })
	logged.Logger = slog.New(cli.NewTextHandler(logs, nil))
	fullLogged := server.New(logged)
	tel, err := telemetry.New(telemetry.Options{})
	if err != nil {
		b.Fatal(err)
	}
	measured := cfg
	measured.Telemetry = tel
	fullTelemetry := server.New(measured)
	requests := map[string]struct {
		contentType string
		body        []byte
	}{
		"connect-json":  {"application/json", []byte(`{"name":"eric"}`)},
		"grpcweb-proto": {"application/grpc-web+proto", frame(0, 6, []byte("\x0a\x04eric"))},
	}
	for name, r := range requests {
		for _, h := range []struct {
			name    string
			handler http.Handler
		}{{"bare", bare}, {"full", full}, {"full+accesslog", fullLogged}, {"full+telemetry", fullTelemetry}} {
			b.Run(name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					req := httptest.NewRequest(http.MethodPost, sayHello, bytes.NewReader(r.body))
					req.Header.Set("Content-Type", r.contentType)
					rec := httptest.NewRecorder()
					h.handler.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
		}
	}
}
