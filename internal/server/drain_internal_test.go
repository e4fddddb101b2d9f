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
	check := func(service string) string {
		req := httptest.NewRequest(http.MethodPost, "/grpc.health.v1.Health/Check", strings.NewReader(`{"service":"`+service+`"}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for _, service := range append([]string{""}, services...) {
		if got := check(service); got != `{"status":"SERVING_STATUS_SERVING"}` {
			t.Fatalf("before the drain, health of %q: %s", service, got)
		}
	}
	d.begin()
	for _, service := range append([]string{""}, services...) {
		if got := check(service); got != `{"status":"SERVING_STATUS_NOT_SERVING"}` {
			t.Fatalf("once the drain begins, health of %q: %s", service, got)
		}
	}
}
