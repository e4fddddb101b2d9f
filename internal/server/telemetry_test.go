package server_test

import (
	"bufio"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"connectrpc.com/connect"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// scrape returns the samples of a Prometheus text exposition, by series.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, rec.Code, http.StatusOK, "scrape")
	out := map[string]float64{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		assert.NoError(t, err, "sample "+line)
		out[line[:i]] = v
	}
	return out
}

func TestMetricsCountEveryProtocolAndCode(t *testing.T) {
	t.Parallel()
	tel, err := telemetry.New(telemetry.Options{})
	assert.NoError(t, err, "telemetry")
	srv := servertest.Start(t, server.Config{Telemetry: tel, Greeter: greeter.Options{MaxStreamMessages: 2}})

	calls := map[string]rpc_packageconnect.HelloWorldServiceClient{
		"grpc":    rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC()),
		"grpcweb": rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithGRPCWeb()),
		"connect": rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithProtoJSON()),
		"get":     rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithHTTPGet()),
	}
	for name, c := range calls {
		_, err := c.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, name)
		_, err = c.SayHello(ctx(t), &rpc.HelloRequest{})
		assert.Equal(t, connect.CodeOf(err), connect.CodeInvalidArgument, name+" empty name")
	}
	stream, err := calls["connect"].LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "LotsOfReplies")
	for stream.Receive() {
	}
	assert.NoError(t, stream.Err(), "LotsOfReplies")
	cs, err := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC()).LotsOfGreetings(ctx(t))
	assert.NoError(t, err, "LotsOfGreetings")
	for _, n := range []string{"a", "b", "c"} {
		_ = cs.Send(&rpc.HelloRequest{Name: n})
	}
	_, err = cs.CloseAndReceive()
	assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "a client stream past -max-stream-messages")

	got := scrape(t, tel.Handler())
	series := func(method, system, code string) string {
		s := `rpc_server_call_duration_seconds_count{`
		if code != "OK" {
			s += `error_type="` + code + `",`
		}
		return s + `rpc_method="rpc_package.HelloWorldService/` + method + `",rpc_response_status_code="` + code + `",rpc_system_name="` + system + `"}`
	}
	for _, row := range []struct {
		method, system, code string
		want                 float64
	}{
		{"SayHello", "grpc", "OK", 2}, // gRPC and gRPC-Web
		{"SayHello", "grpc", "INVALID_ARGUMENT", 2},
		{"SayHello", "connectrpc", "OK", 2}, // POST and GET
		{"SayHello", "connectrpc", "INVALID_ARGUMENT", 2},
		{"LotsOfReplies", "connectrpc", "OK", 1},
		{"LotsOfGreetings", "grpc", "RESOURCE_EXHAUSTED", 1},
	} {
		assert.Equal(t, got[series(row.method, row.system, row.code)], row.want, series(row.method, row.system, row.code))
	}
	assert.Equal(t, got["hellorpc_calls_in_flight"], float64(0), "nothing in flight after the calls")
	assert.Equal(t, got["hellorpc_draining"], float64(0), "not draining")
	assert.True(t, got[`hellorpc_connections_open{http="2"}`] >= 1, "an h2c connection is open")
	assert.True(t, got["hellorpc_coalesce_flushes_total"] >= 1 && got["hellorpc_coalesce_writes_total"] >= got["hellorpc_coalesce_flushes_total"],
		"coalescing: writes queued and socket writes counted")
}

func TestShedCallsAreCounted(t *testing.T) {
	t.Parallel()
	tel, err := telemetry.New(telemetry.Options{})
	assert.NoError(t, err, "telemetry")
	hold := make(chan struct{})
	srv := servertest.Start(t, server.Config{Telemetry: tel, MaxInflight: 1, Greeter: greeter.Options{Pace: func(c context.Context, n int) error {
		select {
		case <-hold:
		case <-c.Done():
		}
		return nil
	}}})
	c := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL)
	stream, err := c.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "LotsOfReplies")
	assert.True(t, stream.Receive(), "first reply")
	_, err = c.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "shed")
	got := scrape(t, tel.Handler())
	assert.Equal(t, got["hellorpc_calls_shed_total"], float64(1), "shed calls")
	assert.Equal(t, got["hellorpc_calls_in_flight"], float64(1), "the held stream is in flight")
	close(hold)
	stream.Close()
}

// TestClientTraceReachesServerSpanAndLog sends a W3C traceparent: the
// server's span continues that trace, and the access log line carries its
// trace and span ids.
func TestClientTraceReachesServerSpanAndLog(t *testing.T) {
	t.Parallel()
	spans := tracetest.NewSpanRecorder()
	tel, err := telemetry.New(telemetry.Options{SpanProcessors: []sdktrace.SpanProcessor{spans}})
	assert.NoError(t, err, "telemetry")
	logs := &servertest.Buffer{}
	srv := servertest.Start(t, server.Config{Telemetry: tel, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello, strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "request")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-"+parentID+"-01")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "call")
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "status")

	ended := spans.Ended()
	assert.Equal(t, len(ended), 1, "server spans")
	span := ended[0]
	assert.Equal(t, span.SpanContext().TraceID().String(), traceID, "the server span continues the client's trace")
	assert.Equal(t, span.Parent().SpanID().String(), parentID, "its parent is the client's span")
	lines := logRecords(t, logs, "request")
	assert.Equal(t, len(lines), 1, "log lines")
	assert.Equal(t, lines[0]["trace_id"], any(traceID), "trace id in the log line")
	assert.Equal(t, lines[0]["span_id"], any(span.SpanContext().SpanID().String()), "span id in the log line")
}
