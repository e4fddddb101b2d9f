// Package otlptest is an OpenTelemetry collector's trace receiver for
// tests, over OTLP/HTTP (protobuf) and OTLP/gRPC: it keeps the spans it is
// sent, so that a test can check what an exporter sent without a collector.
// (The end-to-end tests use a real one, Jaeger.) It links grpc-go; only
// tests import it.
package otlptest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
)

// Span is a span received.
type Span struct {
	Name                      string
	TraceID, SpanID, ParentID string // hex; ParentID "" for a root span
	Service                   string // its resource's service.name
}

// Receiver keeps the spans sent to URL.
type Receiver struct {
	// URL is the receiver's base URL (http://127.0.0.1:port), the value of
	// OTEL_EXPORTER_OTLP_ENDPOINT for its protocol.
	URL string

	mu    sync.Mutex
	spans []Span
}

// Spans returns the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.spans)
}

func (r *Receiver) add(req *coltracepb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				parent := ""
				if len(s.GetParentSpanId()) > 0 {
					parent = trace.SpanID(s.GetParentSpanId()).String()
				}
				r.spans = append(r.spans, Span{Name: s.GetName(), TraceID: trace.TraceID(s.GetTraceId()).String(),
					SpanID: trace.SpanID(s.GetSpanId()).String(), ParentID: parent, Service: service})
			}
		}
	}
}

// Protocols are the values of OTEL_EXPORTER_OTLP_PROTOCOL that Start takes.
var Protocols = []string{"http/protobuf", "grpc"}

// Start starts a receiver for protocol, one of Protocols: HTTP's or GRPC's.
func Start(t testing.TB, protocol string) *Receiver {
	t.Helper()
	switch protocol {
	case "http/protobuf":
		return HTTP(t)
	case "grpc":
		return GRPC(t)
	}
	t.Fatalf("otlptest: no receiver for protocol %q", protocol)
	return nil
}

// HTTP starts an OTLP/HTTP receiver on loopback until the test ends. A
// request that is not an OTLP/HTTP protobuf export to /v1/traces fails the
// test and gets 400.
func HTTP(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		var msg coltracepb.ExportTraceServiceRequest
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" ||
			err != nil || proto.Unmarshal(body, &msg) != nil {
			t.Errorf("OTLP/HTTP receiver: unexpected %s %s, Content-Type %q, %d bytes (read error %v)",
				req.Method, req.URL.Path, req.Header.Get("Content-Type"), len(body), err)
			http.Error(w, "not an OTLP/HTTP protobuf trace export", http.StatusBadRequest)
			return
		}
		r.add(&msg)
		out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// GRPC starts an OTLP/gRPC receiver on loopback until the test ends.
func GRPC(t testing.TB) *Receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("OTLP/gRPC receiver: listen: %v", err)
	}
	r := &Receiver{URL: "http://" + ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, traceService{r: r})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return r
}

// traceService is the collector's gRPC trace service, into r.
type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.add(req)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}
