package traceexport_test

import (
	"fmt"
	"testing"

	"github.com/hellorpc/hellorpc/internal/telemetry/traceexport"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// env is an environment for FromEnv.
type env map[string]string

func (e env) get(name string) string { return e[name] }

// fromEnv calls FromEnv and shuts its exporter down when the test ends.
func fromEnv(t *testing.T, e env) (traceexport.Settings, error) {
	t.Helper()
	s, err := traceexport.FromEnv(t.Context(), e.get)
	if err == nil && s.Exporter != nil {
		t.Cleanup(func() { _ = s.Exporter.Shutdown(t.Context()) })
	}
	return s, err
}

func TestFromEnvRefusesWhatItDoesNotKnow(t *testing.T) {
	for _, c := range []struct {
		env       env
		name, bad string // the variable and value the error must name
	}{
		{env{"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER", "zipkin"},
		{env{"OTEL_TRACES_EXPORTER": "otlp,console"}, "OTEL_TRACES_EXPORTER", "otlp,console"},
		{env{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"},
		{env{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "udp"},
		{env{"OTEL_EXPORTER_OTLP_ENDPOINT": "localhost:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "localhost:4318"},
		{env{"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "ftp://collector:4318"},
		{env{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ok:4318"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://"},
		{env{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://bad host:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", "http://bad host:4318"},
		{env{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER", "jaeger_remote"},
		{env{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG", "1.5"},
		{env{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG", "half"},
		{env{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "NaN"}, "OTEL_TRACES_SAMPLER_ARG", "NaN"},
		{env{"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team"}, "OTEL_RESOURCE_ATTRIBUTES", "team"},
		{env{"OTEL_RESOURCE_ATTRIBUTES": "=prod"}, "OTEL_RESOURCE_ATTRIBUTES", "=prod"},
		{env{"OTEL_RESOURCE_ATTRIBUTES": "team=a%zzb"}, "OTEL_RESOURCE_ATTRIBUTES", "team=a%zzb"},
	} {
		t.Run(fmt.Sprint(c.env), func(t *testing.T) {
			_, err := fromEnv(t, c.env)
			err = assert.Error(t, err, "FromEnv")
			assert.Contains(t, err.Error(), c.name, "the error names the variable")
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", c.bad), "the error quotes the value")
		})
	}
}

func TestFromEnvExportsWhenAskedTo(t *testing.T) {
	for _, c := range []struct {
		env                env
		protocol, endpoint string // protocol "": no export
	}{
		{env{}, "", ""},
		{env{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "", ""},
		{env{"OTEL_TRACES_EXPORTER": "otlp"}, "http/protobuf", ""},
		{env{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http/protobuf", "http://collector:4318/v1/traces"},
		{env{"OTEL_EXPORTER_OTLP_ENDPOINT": "https://collector:4318/otlp/"}, "http/protobuf", "https://collector:4318/otlp/v1/traces"},
		{env{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/mine", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://other:4318"}, "http/protobuf", "http://collector:4318/mine"},
		{env{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "grpc", "http://collector:4317"},
		{env{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_TRACES_EXPORTER": "otlp"}, "grpc", ""},
	} {
		t.Run(fmt.Sprint(c.env), func(t *testing.T) {
			s, err := fromEnv(t, c.env)
			assert.NoError(t, err, "FromEnv")
			assert.Equal(t, s.Exporter != nil, c.protocol != "", "an exporter is made")
			assert.Equal(t, s.Protocol, c.protocol, "protocol")
			assert.Equal(t, s.Endpoint, c.endpoint, "endpoint")
		})
	}
}

func TestFromEnvSampler(t *testing.T) {
	for _, c := range []struct {
		env  env
		want string // the sampler's description
	}{
		{env{}, "ParentBased{root:AlwaysOffSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{env{"OTEL_TRACES_SAMPLER": "always_on"}, "AlwaysOnSampler"},
		{env{"OTEL_TRACES_SAMPLER": "always_off", "OTEL_TRACES_SAMPLER_ARG": "ignored"}, "AlwaysOffSampler"},
		{env{"OTEL_TRACES_SAMPLER": "traceidratio"}, "TraceIDRatioBased{1}"},
		{env{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, "TraceIDRatioBased{0.25}"},
		{env{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, "ParentBased{root:TraceIDRatioBased{0},remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
		{env{"OTEL_TRACES_SAMPLER": "parentbased_always_on"}, "ParentBased{root:AlwaysOnSampler,remoteParentSampled:AlwaysOnSampler,remoteParentNotSampled:AlwaysOffSampler,localParentSampled:AlwaysOnSampler,localParentNotSampled:AlwaysOffSampler}"},
	} {
		s, err := fromEnv(t, c.env)
		assert.NoError(t, err, fmt.Sprint(c.env))
		assert.Equal(t, s.Sampler.Description(), c.want, fmt.Sprint(c.env))
	}
}

func TestFromEnvServiceName(t *testing.T) {
	for _, c := range []struct {
		env  env
		want map[string]string // resource attributes that must be there
	}{
		{env{}, map[string]string{"service.name": "hello-server", "telemetry.sdk.language": "go"}},
		{env{"OTEL_RESOURCE_ATTRIBUTES": "service.name=greeter, deployment.environment = prod%2Ceu ,"},
			map[string]string{"service.name": "greeter", "deployment.environment": "prod,eu"}},
		{env{"OTEL_RESOURCE_ATTRIBUTES": "service.name=greeter", "OTEL_SERVICE_NAME": "hello-eu"}, map[string]string{"service.name": "hello-eu"}},
	} {
		s, err := fromEnv(t, c.env)
		assert.NoError(t, err, fmt.Sprint(c.env))
		got := map[string]string{}
		for _, kv := range s.Resource.Attributes() {
			got[string(kv.Key)] = kv.Value.String()
		}
		for k, v := range c.want {
			assert.Equal(t, got[k], v, fmt.Sprintf("%v: resource attribute %s (all: %v)", c.env, k, got))
		}
	}
}
