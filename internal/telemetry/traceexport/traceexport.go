// Package traceexport reads the OpenTelemetry SDK's standard environment
// variables (OTEL_*) and turns them into what hello-server's traces need: a
// sampler, a resource naming the service, and, when export is on, the
// official OTLP span exporter (go.opentelemetry.io/otel/exporters/otlp/
// otlptrace, over HTTP/protobuf or gRPC).
//
// The variables are read through a getenv function, never os.Getenv, so a
// caller (and a test) decides the environment. What they mean:
//
//   - OTEL_TRACES_EXPORTER: "otlp" exports, "none" does not. Unset, export
//     is on when an OTLP endpoint variable is set, off otherwise (the
//     OpenTelemetry default, "otlp", would send spans to localhost from
//     every server nobody configured).
//   - OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (used as it is) or
//     OTEL_EXPORTER_OTLP_ENDPOINT (a base URL: OTLP/HTTP appends
//     /v1/traces): an http or https URL. Unset: the exporter's default,
//     http://localhost:4318/v1/traces or localhost:4317 for gRPC.
//   - OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL:
//     "http/protobuf" (default) or "grpc".
//   - OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG: always_on,
//     always_off, traceidratio, parentbased_always_on,
//     parentbased_always_off, parentbased_traceidratio (the argument is the
//     ratio, 0 to 1, default 1). Default parentbased_always_off, not the
//     specification's parentbased_always_on: only calls whose client sent a
//     sampled traceparent are recorded, so untraced calls cost no span.
//   - OTEL_SERVICE_NAME, else service.name in OTEL_RESOURCE_ATTRIBUTES
//     (key=value pairs, comma-separated, values percent-encoded), else
//     "hello-server".
//
// A value that is not one of these is an error that names the variable and
// the value: the server refuses to start rather than run without the traces
// its operator asked for. The exporter itself reads the variables that
// tune its connection (OTEL_EXPORTER_OTLP_(TRACES_)HEADERS, _TIMEOUT,
// _COMPRESSION, _CERTIFICATE, _CLIENT_CERTIFICATE, _CLIENT_KEY, _INSECURE)
// from the process's environment, and the batcher its OTEL_BSP_* ones.
//
// This package links grpc-go (the gRPC exporter's transport) into the
// binary that imports it; only cmd/hello-server does, so that the serving
// path, internal/server and what it imports, stays free of grpc-go.
package traceexport

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Settings are the traces the environment asks for.
type Settings struct {
	// Sampler decides which spans are recorded.
	Sampler sdktrace.Sampler
	// Resource names the service on every span.
	Resource *resource.Resource
	// Exporter sends spans to the OTLP endpoint; nil when export is off.
	Exporter sdktrace.SpanExporter
	// Protocol and Endpoint say where Exporter sends ("" when it is nil,
	// Endpoint "" for the exporter's default).
	Protocol, Endpoint string
}

// FromEnv reads the OTEL_* variables through getenv. When export is on it
// makes the exporter, which connects lazily: a collector that is down is
// not an error here, its spans are dropped and the exporter reports it
// through otel.Handle.
func FromEnv(ctx context.Context, getenv func(string) string) (Settings, error) {
	var s Settings
	var err error
	if s.Sampler, err = sampler(getenv); err != nil {
		return Settings{}, err
	}
	if s.Resource, err = serviceResource(ctx, getenv); err != nil {
		return Settings{}, err
	}
	on, err := exportOn(getenv)
	if err != nil || !on {
		return s, err
	}
	if s.Protocol, s.Endpoint, err = destination(getenv); err != nil {
		return Settings{}, err
	}
	if s.Exporter, err = newExporter(ctx, s.Protocol, s.Endpoint); err != nil {
		return Settings{}, err
	}
	return s, nil
}

// exportOn reads OTEL_TRACES_EXPORTER.
func exportOn(getenv func(string) string) (bool, error) {
	switch v := strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")); v {
	case "otlp":
		return true, nil
	case "none":
		return false, nil
	case "":
		return getenv(tracesEndpointVar) != "" || getenv(endpointVar) != "", nil
	default:
		return false, invalid("OTEL_TRACES_EXPORTER", v, `"otlp" or "none"`)
	}
}
