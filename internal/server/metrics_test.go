package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// exposition returns what a scrape of h gets: its Prometheus text exposition.
func exposition(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, rec.Code, http.StatusOK, "scrape")
	return rec.Body.String()
}

// scrape returns the samples of a Prometheus text exposition, by series.
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(exposition(t, h)))
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

// callSeries names the count of rpc_server_call_duration_seconds of method
// (of HelloWorldService unless it has a dot) in protocol with code.
func callSeries(method, protocol, code string) string {
	errorType, system := "", "connectrpc"
	if code != "OK" {
		errorType = code
	}
	if protocol == "grpc" || protocol == "grpc_web" {
		system = "grpc"
	}
	if !strings.Contains(method, ".") && method != "_OTHER" {
		method = "rpc_package.HelloWorldService/" + method
	}
	return `rpc_server_call_duration_seconds_count{error_type="` + errorType + `",protocol="` + protocol +
		`",rpc_method="` + method + `",rpc_response_status_code="` + code + `",rpc_system_name="` + system + `"}`
}

// TestMetricsCountEveryProtocolAndCode calls in every protocol, with and
// without errors, and checks each call's series: by method, protocol and
// code, including calls that the server answered before connect-go's
// handler (malformed, oversized, gRPC over HTTP/1.1, an unknown method).
func TestMetricsCountEveryProtocolAndCode(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	srv := servertest.Start(t, server.Config{Metrics: m, MaxMessageBytes: 1 << 10, Greeter: greeter.Options{MaxStreamMessages: 2}})

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

	// Answered before a handler ran, or by REST.
	do := func(client *http.Client, method, path, contentType, body string, want int) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx(t), method, srv.URL+path, strings.NewReader(body))
		assert.NoError(t, err, "request")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		res, err := client.Do(req)
		assert.NoError(t, err, method+" "+path)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		assert.Equal(t, res.StatusCode, want, method+" "+path+" "+body)
	}
	h1 := servertest.HTTP1Client(t)
	do(h1, http.MethodPost, sayHello, "application/json", `{"name":`, http.StatusBadRequest)                                       // malformed
	do(h1, http.MethodPost, sayHello, "application/json", `{"name":"`+strings.Repeat("a", 2<<10)+`"}`, http.StatusTooManyRequests) // oversized
	do(h1, http.MethodPost, sayHello, "application/grpc", "", http.StatusHTTPVersionNotSupported)                                  // gRPC over HTTP/1.1
	do(servertest.H2CClient(t), http.MethodPost, "/rpc_package.HelloWorldService/Nope", "application/grpc", "", http.StatusNotFound)
	do(h1, http.MethodGet, "/v1/hello/eric", "", "", http.StatusOK)
	do(h1, http.MethodPost, "/v1/hello", "application/json", `{"name":`, http.StatusBadRequest)
	do(h1, http.MethodGet, "/", "", "", http.StatusOK) // the page: no RPC

	srv.WaitIdle(t) // a call is measured once its handler returns
	got := scrape(t, m.Handler())
	for _, row := range []struct {
		method, protocol, code string
		want                   float64
	}{
		{"SayHello", "grpc", "OK", 1},
		{"SayHello", "grpc_web", "OK", 1},
		{"SayHello", "connect", "OK", 2}, // POST and GET
		{"SayHello", "grpc", "INVALID_ARGUMENT", 1},
		{"SayHello", "grpc_web", "INVALID_ARGUMENT", 1},
		{"SayHello", "connect", "INVALID_ARGUMENT", 3}, // POST, GET, and a malformed body
		{"SayHello", "connect", "RESOURCE_EXHAUSTED", 1},
		{"SayHello", "grpc", "UNKNOWN", 1}, // over HTTP/1.1: 505, which a gRPC client reads as unknown
		{"LotsOfReplies", "connect", "OK", 1},
		{"LotsOfGreetings", "grpc", "RESOURCE_EXHAUSTED", 1},
		{"_OTHER", "grpc", "UNIMPLEMENTED", 1},
		{"SayHello", "rest", "OK", 1},
		{"SayHello", "rest", "INVALID_ARGUMENT", 1}, // a malformed body
	} {
		s := callSeries(row.method, row.protocol, row.code)
		assert.Equal(t, got[s], row.want, s)
	}
	var total float64
	for series, v := range got {
		if strings.HasPrefix(series, "rpc_server_call_duration_seconds_count{") {
			total += v
		}
	}
	assert.Equal(t, total, float64(16), "calls measured: every RPC, not the page")
	assert.True(t, got[`rpc_server_call_duration_seconds_bucket{error_type="",protocol="grpc",rpc_method="rpc_package.HelloWorldService/SayHello",rpc_response_status_code="OK",rpc_system_name="grpc",le="1e-05"}`] == 0 &&
		got[`rpc_server_call_duration_seconds_bucket{error_type="",protocol="grpc",rpc_method="rpc_package.HelloWorldService/SayHello",rpc_response_status_code="OK",rpc_system_name="grpc",le="50"}`] == 1,
		"buckets from 10 µs to 50 s")
	assert.Equal(t, got["hellorpc_calls_in_flight"], float64(0), "nothing in flight after the calls")
	assert.Equal(t, got["hellorpc_draining"], float64(0), "not draining")
	assert.True(t, got[`hellorpc_connections_open{http="2"}`] >= 1, "an h2c connection is open")
	assert.True(t, got["hellorpc_coalesce_flushes_total"] >= 1 && got["hellorpc_coalesce_writes_total"] >= got["hellorpc_coalesce_flushes_total"],
		"coalescing: writes queued and socket writes counted")
	assert.True(t, got["go_goroutines"] > 0, "the Go runtime's collector")
	assert.True(t, got["process_resident_memory_bytes"] > 0, "the process's collector")
}

func TestShedCallsAreCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	hold := make(chan struct{})
	srv := servertest.Start(t, server.Config{Metrics: m, MaxInflight: 1, Greeter: greeter.Options{Pace: func(c context.Context, n int) error {
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
	_, err = rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC()).SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "shed gRPC")
	got := scrape(t, m.Handler())
	assert.Equal(t, got["hellorpc_calls_shed_total"], float64(2), "shed calls")
	assert.Equal(t, got["hellorpc_calls_in_flight"], float64(1), "the held stream is in flight")
	assert.Equal(t, got[callSeries("SayHello", "connect", "RESOURCE_EXHAUSTED")], float64(1), "the shed Connect call measured")
	assert.Equal(t, got[callSeries("SayHello", "grpc", "RESOURCE_EXHAUSTED")], float64(1), "the shed gRPC call measured")
	close(hold)
	stream.Close()
}

// TestSampledCallIsAnExemplar sends a sampled W3C traceparent with metrics
// and traces on: its duration's bucket keeps the trace id as an exemplar.
func TestSampledCallIsAnExemplar(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	tel, err := telemetry.New(telemetry.Options{})
	assert.NoError(t, err, "telemetry")
	srv := servertest.Start(t, server.Config{Metrics: m, Telemetry: tel})
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello, strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "request")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "call")
	res.Body.Close()

	rec := httptest.NewRecorder()
	scrapeReq := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	scrapeReq.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	m.Handler().ServeHTTP(rec, scrapeReq)
	assert.True(t, strings.Contains(rec.Body.String(), `# {trace_id="`+traceID+`"}`), "an exemplar with the call's trace id:\n"+rec.Body.String())
}
