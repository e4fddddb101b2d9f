package traceexport

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// DefaultServiceName names the service when neither OTEL_SERVICE_NAME nor
// OTEL_RESOURCE_ATTRIBUTES does.
const DefaultServiceName = "hello-server"

// serviceResource reads OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME,
// which wins over the former's service.name, as in the OpenTelemetry SDKs'
// resource.WithFromEnv (which reads os.Getenv), and adds the SDK's name and
// version.
func serviceResource(ctx context.Context, getenv func(string) string) (*resource.Resource, error) {
	attrs, err := resourceAttributes(getenv("OTEL_RESOURCE_ATTRIBUTES"))
	if err != nil {
		return nil, err
	}
	name := DefaultServiceName
	for _, kv := range attrs {
		if kv.Key == "service.name" {
			name = kv.Value.AsString()
		}
	}
	if v := strings.TrimSpace(getenv("OTEL_SERVICE_NAME")); v != "" {
		name = v
	}
	attrs = append(attrs, attribute.String("service.name", name))
	r, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...))
	if err != nil {
		return nil, fmt.Errorf("trace resource: %w", err)
	}
	return r, nil
}

// resourceAttributes parses OTEL_RESOURCE_ATTRIBUTES: key=value pairs,
// comma-separated, values percent-encoded; empty pairs are skipped.
func resourceAttributes(s string) ([]attribute.KeyValue, error) {
	var attrs []attribute.KeyValue
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		k, v, found := strings.Cut(pair, "=")
		key := strings.TrimSpace(k)
		value, err := url.PathUnescape(strings.TrimSpace(v))
		if !found || key == "" || err != nil {
			return nil, invalid("OTEL_RESOURCE_ATTRIBUTES", s, fmt.Sprintf("key=value pairs, comma-separated, values percent-encoded (not %q)", pair))
		}
		attrs = append(attrs, attribute.String(key, value))
	}
	return attrs, nil
}
