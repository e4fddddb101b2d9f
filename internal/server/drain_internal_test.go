package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestDrainTurnsHealthNotServingAtOnce(t *testing.T) {
	h := New(Config{})
	d := h.drain
	if rec := httptest.NewRecorder(); true {
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "ready\n" {
			t.Fatalf("before the drain, /readyz: %d %q", rec.Code, rec.Body.String())
		}
	}
	check := func(service string) string {
		req := httptest.NewRequest(http.MethodPost, "/grpc.health.v1.Health/Check", strings.NewReader(`{"service":"`+service+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for _, service := range append([]string{""}, builtIn...) {
		if got := check(service); got != `{"status":"SERVING_STATUS_SERVING"}` {
			t.Fatalf("before the drain, health of %q: %s", service, got)
		}
	}
	d.begin()
	for _, service := range append([]string{""}, builtIn...) {
		if got := check(service); got != `{"status":"SERVING_STATUS_NOT_SERVING"}` {
			t.Fatalf("once the drain begins, health of %q: %s", service, got)
		}
	}
	probe := func(method, path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code
	}
	if got := probe(http.MethodGet, "/readyz"); got != http.StatusServiceUnavailable {
		t.Fatalf("once the drain begins, /readyz: %d", got)
	}
	if got := probe(http.MethodGet, "/healthz"); got != http.StatusOK {
		t.Fatalf("once the drain begins, /healthz: %d", got)
	}
	if got := probe(http.MethodPost, "/readyz"); got != http.StatusMethodNotAllowed {
		t.Fatalf("POST /readyz: %d", got)
	}
}
