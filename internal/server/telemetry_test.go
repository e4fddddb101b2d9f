package server_test

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

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
	srv.WaitIdle(t) // the span ends, and the line is written, once the handler returns

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
