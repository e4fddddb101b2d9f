package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func noEnv(string) string { return "" }

func TestClientEveryProtocol(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	tests := []struct {
		args      []string
		wantProto string
		wantCT    string
	}{
		{nil, "HTTP/2.0", "application/grpc"},
		{[]string{"-protocol", "grpc", "-encoding", "json"}, "HTTP/2.0", "application/grpc+json"},
		{[]string{"-protocol", "grpcweb"}, "HTTP/1.1", "application/grpc-web+proto"},
		{[]string{"-protocol", "grpcweb", "-encoding", "json"}, "HTTP/1.1", "application/grpc-web+json"},
		{[]string{"-protocol", "connect"}, "HTTP/1.1", "application/proto"},
		{[]string{"-protocol", "connect", "-encoding", "json"}, "HTTP/1.1", "application/json"},
		{[]string{"-protocol", "connect", "-get"}, "HTTP/1.1", ""},
	}
	for _, tt := range tests {
		args := append([]string{"-addr", srv.URL}, tt.args...)
		var stdout bytes.Buffer
		err := run(t.Context(), args, noEnv, &stdout, &stdout)
		assert.NoError(t, err, "hello-client "+tt.wantCT)
		assert.Equal(t, stdout.String(), "hello client received: Hello, eric!\n", "output")
		seen := srv.LastRequest()
		assert.Equal(t, seen.Proto, tt.wantProto, "HTTP version")
		assert.Equal(t, seen.ContentType, tt.wantCT, "Content-Type")
	}

	var stdout bytes.Buffer
	err := run(t.Context(), []string{"-addr", srv.URL, "-protocol", "connect", "Ada"}, noEnv, &stdout, &stdout)
	assert.NoError(t, err, "hello-client Ada")
	assert.Equal(t, stdout.String(), "hello client received: Hello, Ada!\n", "output for a given name")
}

func TestClientErrors(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})

	err := run(t.Context(), []string{"-addr", srv.URL, ""}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "empty name")
	assert.Contains(t, err.Error(), "invalid_argument: invalid name: name must not be empty", "error")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	closedAddr := "http://" + ln.Addr().String()
	ln.Close()
	err = run(t.Context(), []string{"-addr", closedAddr}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "connection refused")
	assert.Contains(t, err.Error(), "connection refused", "error")

	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // then net/http notices the client leave
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer stall.Close()
	err = run(t.Context(), []string{"-addr", stall.URL, "-protocol", "connect", "-timeout", "200ms"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "stalled server")
	assert.Contains(t, err.Error(), "no reply within 200ms", "error")

	for _, args := range [][]string{
		{"-protocol", "carrier-pigeon"},
		{"-encoding", "xml"},
		{"-get"},
		{"-addr", "localhost:50000"},
		{"a", "b"},
	} {
		err = run(t.Context(), args, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
		assert.Error(t, err, "bad arguments")
	}
}

func TestClientStreamingRPCs(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	replies := ""
	for _, g := range greeter.Greetings("eric") {
		replies += "hello client received: " + g + "\n"
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-rpc", "lots-of-replies"}, replies},
		{[]string{"-rpc", "lots-of-greetings", "a", "b", "c"}, "hello client received: Hello, a, b and c!\n"},
		{[]string{"-rpc", "bidi-hello", "a", "b"}, "hello client received: Hello, a!\nhello client received: Hello, b!\n"},
	}
	for _, protocol := range []string{"grpc", "grpcweb", "connect"} {
		for _, tt := range tests {
			args := append([]string{"-addr", srv.URL, "-protocol", protocol}, tt.args...)
			var stdout bytes.Buffer
			err := run(t.Context(), args, noEnv, &stdout, &stdout)
			assert.NoError(t, err, fmt.Sprint("hello-client ", args))
			assert.Equal(t, stdout.String(), tt.want, fmt.Sprint("output of ", args))
		}
	}

	err := run(t.Context(), []string{"-addr", srv.URL, "-rpc", "bidi-hello", "a", ""}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "bidi-hello with an empty name")
	assert.Contains(t, err.Error(), "invalid_argument: invalid name: message 2: name must not be empty", "error")
	err = run(t.Context(), []string{"-rpc", "say-hello", "a", "b"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "say-hello with two names")
	err = run(t.Context(), []string{"-rpc", "shout"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "unknown rpc")
}
