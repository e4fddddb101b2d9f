// Package jaeger runs a real Jaeger for tests: the v2 all-in-one binary
// (github.com/jaegertracing/jaeger/cmd/jaeger, Version only, built from the
// module in deploy/jaeger by .ci/run into $GOPATH/bin), on loopback with
// ports of its own and in-memory storage, receiving OTLP over HTTP and gRPC;
// tests read what it stored through its query API (/api/traces/<id>).
//
// When the binary is missing, or is another version, the test skips with a
// message, or fails under HELLORPC_REQUIRE_ALL=1 (see package testenv).
package jaeger

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// Version is the Jaeger release the tests run.
const Version = "v1.75.0"

// module is Jaeger's Go module, whose version the binary records.
const module = "github.com/jaegertracing/jaeger"

// Jaeger is a running Jaeger.
type Jaeger struct {
	// OTLPHTTP and OTLPGRPC are the receivers' base URLs
	// (http://127.0.0.1:port), values for OTEL_EXPORTER_OTLP_ENDPOINT.
	OTLPHTTP, OTLPGRPC string
	// Query is the query service's base URL (API and UI).
	Query string
	// Log is the file Jaeger's output goes to.
	Log string
}

// Start runs Jaeger until the test ends and waits until it answers.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	testenv.SkipIfShort(t, "Jaeger")
	path, err := Path()
	if err != nil {
		testenv.Missing(t, "Jaeger "+Version+" (built by .ci/run from deploy/jaeger)", err)
	}
	dir := t.TempDir()
	// A port taken between its choice and Jaeger's listen makes Jaeger
	// exit; then it starts again on other ports.
	for attempt := 1; ; attempt++ {
		j, err := start(t, path, dir)
		if err == nil {
			return j
		}
		if attempt == 3 {
			t.Fatalf("jaeger: %v", err)
		}
		t.Logf("jaeger (attempt %d): %v; starting again", attempt, err)
	}
}

// Path finds the jaeger binary and checks that it is Version.
func Path() (string, error) {
	path, err := testenv.GoInstalled("jaeger")
	if err != nil {
		return "", err
	}
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	version := ""
	if info.Main.Path == module {
		version = info.Main.Version
	}
	for _, dep := range info.Deps {
		if dep.Path == module {
			version = dep.Version
		}
	}
	if version != Version {
		return "", fmt.Errorf("%s is %s %q, not %s", path, module, version, Version)
	}
	return path, nil
}

// start writes the configuration and starts Jaeger; it returns an error
// when Jaeger exits before it answers.
func start(t testing.TB, path, dir string) (*Jaeger, error) {
	ports := freePorts(t, 4)
	otlpGRPC, otlpHTTP, queryHTTP, queryGRPC := ports[0], ports[1], ports[2], ports[3]
	config := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(config, fmt.Appendf(nil, configYAML, otlpGRPC, otlpHTTP, queryHTTP, queryGRPC), 0o644); err != nil {
		t.Fatalf("jaeger: %v", err)
	}
	j := &Jaeger{OTLPHTTP: "http://" + otlpHTTP, OTLPGRPC: "http://" + otlpGRPC, Query: "http://" + queryHTTP,
		Log: filepath.Join(dir, "jaeger.log")}
	log, err := os.Create(j.Log)
	if err != nil {
		t.Fatalf("jaeger: %v", err)
	}
	defer log.Close()
	cmd := exec.Command(path, "--config", "file:"+config)
	cmd.Stdout, cmd.Stderr = log, log
	// Jaeger gets none of the test's environment: OTEL_* variables there
	// would make it trace itself.
	cmd.Env = []string{"HOME=" + dir, "TMPDIR=" + dir}
	if err := cmd.Start(); err != nil {
		t.Fatalf("jaeger: start %s: %v", path, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	// Ready when the query API answers and both receivers accept
	// connections; bounded by attempts (a slow start on a loaded machine
	// is not a failure).
	for range 600 {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("exited before it answered (%v); its log:\n%s", err, tail(j.Log))
		case <-time.After(100 * time.Millisecond):
		}
		if j.answers() && accepts(otlpGRPC) && accepts(otlpHTTP) {
			t.Cleanup(stop)
			return j, nil
		}
	}
	stop()
	t.Fatalf("jaeger did not answer on %s after 600 attempts; its log:\n%s", j.Query, tail(j.Log))
	return nil, nil
}

// configYAML is Jaeger's configuration (an OpenTelemetry collector's):
// the OTLP receivers (gRPC, HTTP), memory storage, the query service (HTTP,
// gRPC), every listener on loopback, no metrics of its own, no tracing of
// its own.
const configYAML = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: info
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: %[3]s
    grpc:
      endpoint: %[4]s
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %[1]s
      http:
        endpoint: %[2]s
processors:
  batch:
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// freePorts returns n loopback addresses whose ports were free a moment
// ago.
func freePorts(t testing.TB, n int) []string {
	var addrs []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("jaeger: find a free port: %v", err)
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	for _, ln := range lns {
		ln.Close()
	}
	return addrs
}

// answers says whether the query API answers.
func (j *Jaeger) answers() bool {
	res, err := http.Get(j.Query + "/api/services")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// accepts says whether addr accepts a TCP connection.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// tail returns the end of the file at path.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(bytes.TrimSpace(b))
}

// Span is a span as Jaeger's query API returns it.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	ProcessID     string      `json:"processID"`
}

// Reference is a span's link to another: its parent is CHILD_OF.
type Reference struct {
	RefType string `json:"refType"` // CHILD_OF, FOLLOWS_FROM
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// Trace is a trace as Jaeger's query API returns it.
type Trace struct {
	TraceID   string `json:"traceID"`
	Spans     []Span `json:"spans"`
	Processes map[string]struct {
		ServiceName string `json:"serviceName"`
	} `json:"processes"`
}

// Trace reads the trace id from the query API; found is false while Jaeger
// does not have it (404).
func (j *Jaeger) Trace(ctx context.Context, id string) (tr Trace, found bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.Query+"/api/traces/"+id, nil)
	if err != nil {
		return Trace{}, false, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return Trace{}, false, err
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusNotFound {
		return Trace{}, false, nil
	}
	var body struct {
		Data   []Trace `json:"data"`
		Errors []struct {
			Msg string `json:"msg"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return Trace{}, false, fmt.Errorf("GET /api/traces/%s: %s: %w", id, res.Status, err)
	}
	if res.StatusCode != http.StatusOK || len(body.Data) != 1 {
		return Trace{}, false, fmt.Errorf("GET /api/traces/%s: %s, %d traces, errors %v", id, res.Status, len(body.Data), body.Errors)
	}
	return body.Data[0], true, nil
}

// WaitTrace polls the query API until it has the trace id with a span
// named operation, for at most attempts tries a quarter of a second apart.
// It returns that span and the trace as last read (empty if never found);
// found is false if the span never came.
func (j *Jaeger) WaitTrace(ctx context.Context, id, operation string, attempts int) (span Span, tr Trace, found bool, err error) {
	for range attempts {
		tr, _, err = j.Trace(ctx, id)
		if err != nil {
			return Span{}, Trace{}, false, err
		}
		for _, s := range tr.Spans {
			if s.OperationName == operation {
				return s, tr, true, nil
			}
		}
		select {
		case <-ctx.Done():
			return Span{}, tr, false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return Span{}, tr, false, nil
}
