// Package telemetry gives hellorpc its metrics and traces with OpenTelemetry,
// without grpc-go: a MeterProvider whose only reader is a Prometheus exporter
// on a private registry (Handler serves it for scraping), a TracerProvider
// that samples every trace a client started and keeps its spans in the
// process (no exporter: OTLP exporters would bring grpc-go into the binary),
// W3C trace-context propagation, and the connect interceptor
// (connectrpc.com/otelconnect) that measures and traces every RPC in every
// protocol.
//
// Metrics of the RPCs follow OpenTelemetry's RPC conventions (semconv 1.43,
// through otelconnect), as Prometheus names them: the histogram
// rpc_server_call_duration_seconds, labelled rpc_system_name ("grpc" for
// gRPC and gRPC-Web, "connectrpc"), rpc_method
// ("rpc_package.HelloWorldService/SayHello"), rpc_response_status_code ("OK",
// "INVALID_ARGUMENT", …) and, on errors, error_type. Errors that connect-go
// answers before a handler runs (a malformed or oversized request message)
// are not measured there; the access log has them. The server adds its own
// gauges and counters with Gauge and Counter (hellorpc_…).
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"connectrpc.com/connect"
	"connectrpc.com/otelconnect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Telemetry is one process's metrics and traces.
type Telemetry struct {
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider
	tracers  *sdktrace.TracerProvider
	meter    metric.Meter
	rpc      *otelconnect.Interceptor
}

// Options configure New. The zero value is valid.
type Options struct {
	// SpanProcessors receive every span that ends (an exporter's batcher, or
	// a recorder in tests). Default none: spans are made, so that trace ids
	// reach the logs and the replies, but kept nowhere.
	SpanProcessors []sdktrace.SpanProcessor
}

// New sets up metrics and traces.
func New(opts Options) (*Telemetry, error) {
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo())
	if err != nil {
		return nil, fmt.Errorf("telemetry: Prometheus exporter: %w", err)
	}
	meters := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	// Only calls whose client sent a sampled traceparent are recorded: a
	// span for every call cost about a fifth of the server's throughput.
	tracerOpts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.NeverSample()))}
	for _, p := range opts.SpanProcessors {
		tracerOpts = append(tracerOpts, sdktrace.WithSpanProcessor(p))
	}
	tracers := sdktrace.NewTracerProvider(tracerOpts...)
	rpc, err := otelconnect.NewInterceptor(
		otelconnect.WithMeterProvider(meters),
		otelconnect.WithTracerProvider(tracers),
		otelconnect.WithPropagator(propagation.TraceContext{}),
		otelconnect.WithTrustRemote(), // a browser's traceparent is the server span's parent
	)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otelconnect: %w", err)
	}
	return &Telemetry{
		registry: registry, meters: meters, tracers: tracers, rpc: rpc,
		meter: meters.Meter("github.com/hellorpc/hellorpc"),
	}, nil
}

// Interceptor measures and traces every RPC.
func (t *Telemetry) Interceptor() connect.Interceptor { return t.rpc }

// Handler serves the metrics in Prometheus' text format.
func (t *Telemetry) Handler() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Gauge registers a gauge named name, read at each scrape from observe,
// which reports one value per set of attributes.
func (t *Telemetry) Gauge(name, help string, observe func(report func(int64, ...attribute.KeyValue))) error {
	_, err := t.meter.Int64ObservableGauge(name, metric.WithDescription(help),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			observe(func(v int64, attrs ...attribute.KeyValue) { o.Observe(v, metric.WithAttributes(attrs...)) })
			return nil
		}))
	return err
}

// Counter registers a monotonic counter named name, read at each scrape from
// observe.
func (t *Telemetry) Counter(name, help string, observe func() int64) error {
	_, err := t.meter.Int64ObservableCounter(name, metric.WithDescription(help),
		metric.WithInt64Callback(func(_ context.Context, o metric.Int64Observer) error {
			o.Observe(observe())
			return nil
		}))
	return err
}

// SpanIDs returns the trace and span ids of the span in ctx, if any.
func SpanIDs(ctx context.Context) (traceID, spanID string, ok bool) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return "", "", false
	}
	return sc.TraceID().String(), sc.SpanID().String(), true
}

// Shutdown flushes and stops the providers.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.tracers.Shutdown(ctx), t.meters.Shutdown(ctx))
}
