// Package telemetry gives hellorpc its traces with OpenTelemetry, without
// grpc-go: a TracerProvider that by default samples every trace a client
// started, W3C trace-context propagation, and the connect interceptor
// (connectrpc.com/otelconnect) that traces every RPC in every protocol.
// Spans go to the span processors the caller gives (none by default: kept
// nowhere); hello-server's exporter, configured by the OTEL_* variables, is
// package traceexport's, kept out of this package because the OTLP
// exporters bring grpc-go with them. Metrics are package metrics'
// (Prometheus, measured by the server's middleware): otelconnect's are off.
package telemetry

import (
	"context"
	"fmt"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is one process's traces.
type Telemetry struct {
	tracers *sdktrace.TracerProvider
	rpc     *otelconnect.Interceptor
}

// Options configure New. The zero value is valid.
type Options struct {
	// SpanProcessors receive every span that ends (an exporter's batcher, or
	// a recorder in tests). Default none: spans are made, so that trace ids
	// reach the logs and the replies, but kept nowhere.
	SpanProcessors []sdktrace.SpanProcessor
	// Sampler decides which spans are recorded. Default: only those whose
	// client sent a sampled trace context (parent-based, never sampling a
	// trace of its own).
	Sampler sdktrace.Sampler
	// Resource describes the process on every span. Default: the SDK's
	// resource.Default(), which reads OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES from the process's environment.
	Resource *resource.Resource
}

// New sets up traces.
func New(opts Options) (*Telemetry, error) {
	// Only calls whose client sent a sampled traceparent are recorded: a
	// span for every call cost about a fifth of the server's throughput.
	sampler := opts.Sampler
	if sampler == nil {
		sampler = sdktrace.ParentBased(sdktrace.NeverSample())
	}
	tracerOpts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sampler)}
	if opts.Resource != nil {
		tracerOpts = append(tracerOpts, sdktrace.WithResource(opts.Resource))
	}
	for _, p := range opts.SpanProcessors {
		tracerOpts = append(tracerOpts, sdktrace.WithSpanProcessor(p))
	}
	tracers := sdktrace.NewTracerProvider(tracerOpts...)
	rpc, err := otelconnect.NewInterceptor(
		otelconnect.WithoutMetrics(), // package metrics measures every call, those answered before connect-go too
		otelconnect.WithTracerProvider(tracers),
		otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithTrustRemote(), // a browser's traceparent is the server span's parent
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otelconnect: %w", err)
	}
	return &Telemetry{tracers: tracers, rpc: rpc}, nil
}

// Interceptor traces every RPC whose client sent a sampled trace context.
func (t *Telemetry) Interceptor() connect.Interceptor { return t.rpc }

// SpanIDs returns the trace and span ids of the span in ctx, if any.
func SpanIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}

// Shutdown flushes the span processors (an exporter's batcher sends what
// it holds) and stops the provider, within ctx's deadline.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return t.tracers.Shutdown(ctx)
}
