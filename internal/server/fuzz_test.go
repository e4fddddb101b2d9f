package server_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
)

// FuzzHandler sends arbitrary paths, query strings, methods (GET or POST),
// Content-Types, encodings and bodies through the whole handler over HTTP/1.1
// and HTTP/2. The server must answer
// every one within a bound, never with 500 and never by panicking.
func FuzzHandler(f *testing.F) {
	for _, seed := range []struct {
		path, query, contentType, encoding string
		body                               []byte
		http2, get                         bool
	}{
		{sayHello, "", "application/json", "", []byte(`{"name":"eric"}`), false, false},
		{sayHello, "", "application/proto", "", []byte("\x0a\x04eric"), false, false},
		{sayHello, "", "application/grpc", "", frame(0, 6, []byte("\x0a\x04eric")), true, false},
		{sayHello, "", "application/grpc-web+proto", "", frame(0, 6, []byte("\x0a\x04eric")), false, false},
		{sayHello, "", "application/grpc", "gzip", frame(1, 3, []byte{1, 2, 3}), true, false},
		{"/rpc_package.HelloWorldService/LotsOfReplies", "", "application/connect+json", "", frame(0, 15, []byte(`{"name":"eric"}`)), false, false},
		{"/rpc_package.HelloWorldService/BidiHello", "", "application/grpc+json", "", frame(0, 2, []byte(`{}`)), true, false},
		{"/rpc_package.HelloWorldService/LotsOfGreetings", "", "application/connect+proto", "", frame(0, 1<<30, nil), true, false},
		{"/grpc.health.v1.Health/Check", "", "application/json", "", []byte(`{}`), false, false},
		{"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "", "application/grpc", "", frame(0, 3, []byte("\x3a\x01*")), true, false},
		{"/", "", "", "", nil, false, false},
		{"/../go.mod", "", "text/plain", "", []byte("x"), false, false},
		{sayHello, "encoding=proto&base64=1&message=!!!*", "", "", nil, false, true},
		{sayHello, "encoding=json&message=%7B%22name%22%3A%22eric%22%7D", "", "", nil, true, true},
		{sayHello, "encoding=proto&base64=1&compression=gzip&message=H4sI", "", "", nil, false, true},
		{sayHello, "encoding=proto&bas%6564=%31&message=!!!*", "", "", nil, false, true},
		{"/rpc_package.HelloWorldService/%53ayHello", "", "application/grpc", "", frame(0, 6, []byte("\x0a\x04eric")), true, false},
		{"/v1/hello/eric", "", "", "", nil, false, true},
		{"/v1/hello/a%2Fb/replies", "", "", "", nil, true, true},
		{"/v1/hello", "", "application/json", "", []byte(`{"name":"eric"}`), false, false},
		{"/v1/hello", "", "application/json", "gzip", []byte{0x1f, 0x8b, 8, 0}, true, false},
		{"/v1/hello/eric", "name=bob&x=1", "", "", nil, false, true},
	} {
		f.Add(seed.path, seed.query, seed.contentType, seed.encoding, seed.body, seed.http2, seed.get)
	}
	logs := &servertest.Buffer{}
	h := server.New(server.Config{
		Logger:          slog.New(slog.NewJSONHandler(logs, nil)),
		MaxMessageBytes: 64 << 10,
		MaxCallDuration: 2 * time.Second,
	})
	f.Fuzz(func(t *testing.T, path, query, contentType, encoding string, body []byte, http2, get bool) {
		if _, err := url.ParseRequestURI(path); err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#") {
			return // not a request target a client could send
		}
		if strings.ContainsAny(query, " #\x00\r\n") {
			return
		}
		method := http.MethodPost
		if get {
			method, body = http.MethodGet, nil
		}
		target := path
		if query != "" {
			target += "?" + query
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			return
		}
		req := httptest.NewRequest(method, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
			req.Header.Set("Grpc-Encoding", encoding)
		}
		if http2 {
			req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
		}
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(rec, req)
		}()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("no answer within 5s to %s %q %q %q (%d bytes)", method, target, contentType, encoding, len(body))
		}
		if rec.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %s %q %q %q: %s", method, target, contentType, encoding, rec.Body.String())
		}
		if strings.Contains(logs.String(), "panic") {
			t.Fatalf("a handler panicked: %s", logs.String())
		}
	})
}
