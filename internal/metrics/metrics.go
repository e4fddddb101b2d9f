// Package metrics measures hellorpc for Prometheus, with client_golang: a
// registry of its own that holds the RPCs' duration histogram (Calls), the
// Go runtime's and the process's collectors (go_goroutines,
// process_resident_memory_bytes, …) and whatever else is registered, served
// in Prometheus' text format (and OpenMetrics, with exemplars) by Handler.
//
// The RPCs' histogram follows OpenTelemetry's RPC conventions (semconv
// 1.43) as Prometheus names them: rpc_server_call_duration_seconds, labelled
// rpc_system_name ("grpc" for gRPC and gRPC-Web, "connectrpc" for Connect
// and REST), rpc_method ("rpc_package.HelloWorldService/SayHello", "_OTHER"
// for a method the server does not serve), rpc_response_status_code ("OK",
// "INVALID_ARGUMENT", …) and error_type (the same code on errors, else
// empty), with protocol ("grpc", "grpc_web", "connect", "rest", "other")
// telling the protocols apart. Its buckets resolve tens of microseconds to
// tens of seconds. A call is measured through a series bound once
// (WithLabelValues on first use, then kept in a table), so that measuring
// costs an index, a load and the histogram's own atomic adds.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's metrics.
type Metrics struct {
	registry *prometheus.Registry
	calls    *prometheus.HistogramVec
}

// DurationBuckets are the upper bounds, in seconds, of the buckets of
// rpc_server_call_duration_seconds: 1, 2.5 and 5 of every power of ten from
// 10 µs to 50 s, so that a SayHello of about 100 µs and a stream of ten
// seconds both fall where a quantile resolves them.
var DurationBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50,
}

// callLabels are the labels of rpc_server_call_duration_seconds, in the
// order Calls binds them.
var callLabels = []string{"rpc_system_name", "rpc_method", "protocol", "rpc_response_status_code", "error_type"}

// New returns the metrics of a process: the RPCs' histogram and the Go
// runtime's and process's collectors, on a registry of their own.
func New() *Metrics {
	registry := prometheus.NewRegistry()
	calls := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "rpc_server_call_duration_seconds",
		Help:    "Duration of RPCs served, from the request's arrival to the end of its answer, in every protocol, including calls answered before a handler (shed, refused, malformed, oversized).",
		Buckets: DurationBuckets,
	}, callLabels)
	registry.MustRegister(calls, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Metrics{registry: registry, calls: calls}
}

// Register adds c, whose metrics are then served with the rest.
func (m *Metrics) Register(c prometheus.Collector) error {
	return m.registry.Register(c)
}

// Handler serves the metrics in Prometheus' text format, or OpenMetrics
// (with the exemplars that carry trace ids) to a scraper that asks for it.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
