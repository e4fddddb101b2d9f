package main

import (
	"context"
	"io"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
	"github.com/hellorpc/hellorpc/internal/testkit/jaeger"
)

// pageCall is what the page shows of its call: the outcome, the trace id
// and the request's headers (its wire view), where the traceparent it sent
// is.
type pageCall struct {
	State   string `json:"state"`
	Reply   string `json:"reply"`
	TraceID string `json:"traceId"`
	Headers string `json:"headers"`
}

// traceparentLine finds the traceparent header in the page's wire view.
var traceparentLine = regexp.MustCompile(`(?m)^traceparent: 00-([0-9a-f]{32})-([0-9a-f]{16})-01$`)

// TestPageTraceReachesJaeger is the whole path of a trace: hello-server,
// started by run with only OTEL_* variables pointing at a real Jaeger (over
// OTLP/HTTP, then OTLP/gRPC), serves the page; in Chromium the page calls
// SayHello with a traceparent and shows the trace id; Jaeger's query API
// then has that trace, with the server's span for the call (named after the
// RPC, under the service name given) CHILD_OF the span id the page sent.
func TestPageTraceReachesJaeger(t *testing.T) {
	j := jaeger.Start(t)
	ctx := browsertest.New(t)
	for _, c := range []struct{ protocol, endpoint, service string }{
		{"http/protobuf", j.OTLPHTTP, "hello-server-otlp-http"},
		{"grpc", j.OTLPGRPC, "hello-server-otlp-grpc"},
	} {
		t.Run(c.protocol, func(t *testing.T) {
			env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": c.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": c.protocol, "OTEL_SERVICE_NAME": c.service}
			s := startRunEnv(t, func(name string) string { return env[name] }, io.Discard)

			browsertest.Do(t, ctx, 60*time.Second, chromedp.Navigate(s.url+"/?name=eric"))
			pollCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
			got, err := chromedp.Run(pollCtx, chromedp.Poll[pageCall](`(() => {
				const state = document.getElementById("result").dataset.state;
				if (state !== "ok" && state !== "error") return null;
				const text = (id) => document.getElementById(id).textContent;
				// The first call's wire view shows once the full app has
				// loaded, after the greeting (boot.ts makes the first call).
				if (!text("wire-request-headers")) return null;
				return {state, reply: text("reply"), traceId: text("trace-id"), headers: text("wire-request-headers")};
			})()`))
			cancel()
			assert.NoError(t, err, "the page's call")
			assert.Equal(t, got.State, "ok", "state (reply: "+got.Reply+")")
			sent := traceparentLine.FindStringSubmatch(got.Headers)
			if sent == nil {
				t.Fatalf("the page's request headers have no sampled traceparent:\n%s", got.Headers)
			}
			traceID, pageSpanID := sent[1], sent[2]
			assert.Equal(t, got.TraceID, traceID, "the trace id shown is the one sent")

			const rpc = "rpc_package.HelloWorldService/SayHello"
			// The batcher sends every 5 s: 240 attempts a quarter of a
			// second apart leave it 12 rounds.
			span, tr, found, err := j.WaitTrace(t.Context(), traceID, rpc, 240)
			assert.NoError(t, err, "Jaeger's query API")
			if !found {
				t.Fatalf("Jaeger has no span %q in trace %s after 240 attempts (trace as last read: %+v); hello-server was told to export over %s to %s",
					rpc, traceID, tr, c.protocol, c.endpoint)
			}
			var parents []string
			for _, ref := range span.References {
				if ref.RefType == "CHILD_OF" && ref.TraceID == traceID {
					parents = append(parents, ref.SpanID)
				}
			}
			assert.Equal(t, parents, []string{pageSpanID}, "the server span's CHILD_OF references: the page's span")
			assert.Equal(t, tr.Processes[span.ProcessID].ServiceName, c.service, "the server span's service")
		})
	}
}
