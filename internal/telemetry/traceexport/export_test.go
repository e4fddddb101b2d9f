package traceexport_test

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/otlptest"
)

// TestExporterDeliversOnShutdown checks, over both protocols, that the
// exporter FromEnv makes sends a span whose client sampled its trace, with
// its parent and the service name, to the endpoint of the environment, when
// the provider shuts down (the batcher would otherwise wait 5 s), and that
// the default sampler records no span of a trace nobody sampled.
func TestExporterDeliversOnShutdown(t *testing.T) {
	for _, protocol := range otlptest.Protocols {
		t.Run(protocol, func(t *testing.T) {
			recv := otlptest.Start(t, protocol)
			s, err := fromEnv(t, env{"OTEL_EXPORTER_OTLP_PROTOCOL": protocol, "OTEL_EXPORTER_OTLP_ENDPOINT": recv.URL, "OTEL_SERVICE_NAME": "exported"})
			assert.NoError(t, err, "FromEnv")
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(s.Sampler), sdktrace.WithResource(s.Resource), sdktrace.WithBatcher(s.Exporter))
			parent := trace.NewSpanContext(trace.SpanContextConfig{
				TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}, TraceFlags: trace.FlagsSampled, Remote: true})
			_, span := tp.Tracer("test").Start(trace.ContextWithRemoteSpanContext(t.Context(), parent), "sampled by the client")
			span.End()
			_, span = tp.Tracer("test").Start(t.Context(), "nobody sampled")
			span.End()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			assert.NoError(t, tp.Shutdown(ctx), "shut down (flush)")
			got := recv.Spans()
			for i := range got {
				got[i].SpanID = "" // the span's own, made by the provider
			}
			want := []otlptest.Span{{Name: "sampled by the client", TraceID: parent.TraceID().String(), ParentID: parent.SpanID().String(), Service: "exported"}}
			assert.Equal(t, got, want, "spans received")
		})
	}
}
