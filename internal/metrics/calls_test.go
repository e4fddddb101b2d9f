package metrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func exposition(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	assert.Equal(t, rec.Code, http.StatusOK, "scrape")
	return rec.Body.String()
}

// TestCallsLabelEachCall checks the labels of a call of a known method, of
// an unknown one ("_OTHER"), and of values out of range (unknown code).
func TestCallsLabelEachCall(t *testing.T) {
	m := metrics.New()
	calls := m.Calls([]string{"/a.B/C", "/a.B/D"})
	c, ok := calls.Method("/a.B/C")
	assert.True(t, ok, "a known method")
	other, ok := calls.Method("/x.Y/Z")
	assert.True(t, !ok, "an unknown method")
	calls.Observe(c, metrics.ProtocolGRPCWeb, 0, 30*time.Microsecond, "")
	calls.Observe(c, metrics.ProtocolGRPCWeb, 0, 2*time.Second, "")
	calls.Observe(other, metrics.ProtocolREST, 3, time.Millisecond, "")
	calls.Observe(metrics.Method(999), metrics.Protocol(99), 99, time.Millisecond, "")
	out := exposition(t, m)
	for _, want := range []string{
		`rpc_server_call_duration_seconds_bucket{error_type="",protocol="grpc_web",rpc_method="a.B/C",rpc_response_status_code="OK",rpc_system_name="grpc",le="2.5e-05"} 0`,
		`rpc_server_call_duration_seconds_bucket{error_type="",protocol="grpc_web",rpc_method="a.B/C",rpc_response_status_code="OK",rpc_system_name="grpc",le="5e-05"} 1`,
		`rpc_server_call_duration_seconds_count{error_type="",protocol="grpc_web",rpc_method="a.B/C",rpc_response_status_code="OK",rpc_system_name="grpc"} 2`,
		`rpc_server_call_duration_seconds_count{error_type="INVALID_ARGUMENT",protocol="rest",rpc_method="_OTHER",rpc_response_status_code="INVALID_ARGUMENT",rpc_system_name="connectrpc"} 1`,
		`rpc_server_call_duration_seconds_count{error_type="UNKNOWN",protocol="other",rpc_method="_OTHER",rpc_response_status_code="UNKNOWN",rpc_system_name="connectrpc"} 1`,
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		assert.True(t, strings.Contains(out, want+"\n") || strings.HasSuffix(want, " ") && strings.Contains(out, "\n"+want), "exposition has "+want)
	}
}

// BenchmarkObserve measures what measuring one call costs once its series
// is bound.
func BenchmarkObserve(b *testing.B) {
	calls := metrics.New().Calls([]string{"/a.B/C"})
	b.ReportAllocs()
	for b.Loop() {
		c, _ := calls.Method("/a.B/C")
		calls.Observe(c, metrics.ProtocolConnect, 0, 100*time.Microsecond, "")
	}
}
