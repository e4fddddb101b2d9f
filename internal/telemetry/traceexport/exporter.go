package traceexport

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
)

// The OTLP exporter's variables read here.
const (
	endpointVar       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	tracesEndpointVar = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	protocolVar       = "OTEL_EXPORTER_OTLP_PROTOCOL"
	tracesProtocolVar = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
)

// The values of the protocol variables.
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// destination reads the protocol and endpoint variables, the traces' own
// before the generic ones. The endpoint is returned as the URL the
// exporter gets ("" for its default): the exporters read the same
// variables themselves, but they keep their default on a URL they cannot
// parse, and a server should not start sending elsewhere than it was told.
func destination(getenv func(string) string) (protocol, endpoint string, err error) {
	protocolFrom := tracesProtocolVar
	protocol = strings.TrimSpace(getenv(tracesProtocolVar))
	if protocol == "" {
		protocolFrom, protocol = protocolVar, strings.TrimSpace(getenv(protocolVar))
	}
	switch protocol {
	case "":
		protocol = ProtocolHTTP
	case ProtocolHTTP, ProtocolGRPC:
	default:
		return "", "", invalid(protocolFrom, protocol, `"http/protobuf" or "grpc" (http/json is not supported by the Go exporter)`)
	}
	name, asIs := tracesEndpointVar, true
	endpoint = strings.TrimSpace(getenv(tracesEndpointVar))
	if endpoint == "" {
		name, asIs = endpointVar, false
		endpoint = strings.TrimSpace(getenv(endpointVar))
	}
	if endpoint == "" {
		return protocol, "", nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", "", invalid(name, endpoint, "an http:// or https:// URL with a host")
	}
	if !asIs && protocol == ProtocolHTTP {
		// The generic endpoint is a base URL: OTLP/HTTP sends traces to
		// its /v1/traces.
		u.Path = path.Join("/", u.Path, "v1/traces")
	}
	return protocol, u.String(), nil
}

// newExporter makes the OTLP exporter for protocol, to endpoint ("" for the
// exporter's default).
func newExporter(ctx context.Context, protocol, endpoint string) (*otlptrace.Exporter, error) {
	var exp *otlptrace.Exporter
	var err error
	if protocol == ProtocolGRPC {
		var opts []otlptracegrpc.Option
		if endpoint != "" {
			opts = append(opts, otlptracegrpc.WithEndpointURL(endpoint))
		}
		exp, err = otlptracegrpc.New(ctx, opts...)
	} else {
		var opts []otlptracehttp.Option
		if endpoint != "" {
			opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
		}
		exp, err = otlptracehttp.New(ctx, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter (%s to %q): %w", protocol, endpoint, err)
	}
	return exp, nil
}
