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
	"github.com/hellorpc/hellorpc/internal/metrics"
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
// io.Discard); full+metrics measures every call (package metrics), as
// hello-server does by default; full+telemetry traces every call
// (OpenTelemetry spans, none sampled; package telemetry).
func BenchmarkMiddleware(b *testing.B) {
	hs := middlewareHandlers(b)
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
		}{{"bare", hs.bare}, {"full", hs.full}, {"full+accesslog", hs.fullLogged}, {"full+metrics", hs.fullMeasured},
			{"full+metrics+accesslog", hs.fullMeasuredLogged}, {"full+telemetry", hs.fullTelemetry}} {
			b.Run(name+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					serveOnce(b, h.handler, r.contentType, r.body)
				}
			})
		}
	}
}

// serveOnce makes one SayHello call of h in process and fails tb unless it
// is answered 200.
func serveOnce(tb testing.TB, h http.Handler, contentType string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, sayHello, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		tb.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// handlers are the handlers BenchmarkMiddleware compares.
type handlers struct {
	bare, full, fullLogged, fullMeasured, fullMeasuredLogged, fullTelemetry http.Handler
}

func middlewareHandlers(tb testing.TB) handlers {
	cfg := server.Config{}.WithDefaults()
	// The bare handler is the same service: the greeter and the proto's rules.
	validate, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		tb.Fatal(err)
	}
	_, bare := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(cfg.Greeter),
		connect.WithReadMaxBytes(cfg.MaxMessageBytes), connect.WithCompressMinBytes(cfg.CompressMinBytes),
		connect.WithInterceptors(validate))
	logged := cfg
	logs := cli.NewLogWriter(io.Discard, 0, 0)
	tb.Cleanup(func() { _ = logs.Close() })
	logged.Logger = slog.New(cli.NewTextHandler(logs, nil))
	tel, err := telemetry.New(telemetry.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	traced := cfg
	traced.Telemetry = tel
	measured, measuredLogged := cfg, logged
	measured.Metrics, measuredLogged.Metrics = metrics.New(), metrics.New()
	return handlers{bare: bare, full: server.New(cfg), fullLogged: server.New(logged), fullMeasured: server.New(measured),
		fullMeasuredLogged: server.New(measuredLogged), fullTelemetry: server.New(traced)}
}

// TestMiddlewareAllocatesOneObjectACall pins what BenchmarkMiddleware
// measured (#16): everything hellorpc's middleware keeps for a unary call,
// with the access log and the metrics off or on (the call's context, its
// deadline, the request that carries it, the recorder of its answer), is one
// allocation more than bare connect-go makes.
func TestMiddlewareAllocatesOneObjectACall(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts need a build without -race, which inlines less: go test -run Allocat ./internal/server (.ci/run does)")
	}
	hs := middlewareHandlers(t)
	body := []byte(`{"name":"eric"}`)
	allocs := func(h http.Handler) float64 {
		return testing.AllocsPerRun(200, func() { serveOnce(t, h, "application/json", body) })
	}
	bare := allocs(hs.bare)
	for name, h := range map[string]http.Handler{
		"access log off": hs.full, "access log on": hs.fullLogged,
		"metrics on": hs.fullMeasured, "metrics and access log on": hs.fullMeasuredLogged,
	} {
		if got := allocs(h); got > bare+1 {
			t.Errorf("%s: %v allocations a call, bare connect-go %v: want at most one more", name, got, bare)
		}
	}
}
