package main

import (
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestClientOverTLS(t *testing.T) {
	certFile, keyFile := servertest.WriteCert(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- server.New(server.Config{TLSCertFile: certFile, TLSKeyFile: keyFile, DrainDelay: -1}).Serve(ctx, ln)
	}()
	t.Cleanup(func() { cancel(); <-done })
	url := "https://" + ln.Addr().String()

	for _, protocol := range []string{"grpc", "grpcweb", "connect"} {
		for _, rpc := range []string{"say-hello", "lots-of-greetings", "bidi-hello"} {
			var stdout bytes.Buffer
			err := run(t.Context(), []string{"-addr", url, "-tls-ca", certFile, "-protocol", protocol, "-rpc", rpc}, noEnv, &stdout, &stdout)
			assert.NoError(t, err, "hello-client over TLS, "+protocol+" "+rpc)
			assert.Equal(t, stdout.String(), "hello client received: Hello, eric!\n", "output")
		}
	}
	err = run(t.Context(), []string{"-addr", url}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "hello-client without the CA")
	assert.Contains(t, err.Error(), "certificate", "error")
	err = run(t.Context(), []string{"-addr", url, "-insecure-skip-verify"}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.NoError(t, err, "hello-client -insecure-skip-verify")
	err = run(t.Context(), []string{"-addr", url, "-tls-ca", keyFile}, noEnv, &bytes.Buffer{}, &bytes.Buffer{})
	assert.Error(t, err, "a -tls-ca file without a certificate")
}
