package validation_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
)

// BenchmarkConnectJSON measures what validation adds to a Connect JSON
// SayHello served in process by connect-go alone: "bare" without the
// interceptor, "validated" with it (a valid name, the common case, and an
// invalid one, answered with its two details).
func BenchmarkConnectJSON(b *testing.B) {
	interceptor, err := interceptor()
	if err != nil {
		b.Fatal(err)
	}
	_, bare := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(greeter.Options{}))
	_, validated := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(greeter.Options{}),
		connect.WithInterceptors(interceptor))
	for _, bc := range []struct {
		name   string
		h      http.Handler
		body   string
		status int
	}{
		{"bare", bare, `{"name":"eric"}`, http.StatusOK},
		{"validated", validated, `{"name":"eric"}`, http.StatusOK},
		{"validated-invalid", validated, `{"name":""}`, http.StatusBadRequest},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, rpc_packageconnect.HelloWorldServiceSayHelloProcedure, strings.NewReader(bc.body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				bc.h.ServeHTTP(w, req)
				if w.Code != bc.status {
					b.Fatalf("status %d, want %d: %s", w.Code, bc.status, w.Body)
				}
			}
		})
	}
}
