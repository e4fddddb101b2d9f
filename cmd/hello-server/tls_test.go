package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestTLS(t *testing.T) {
	certFile, keyFile := servertest.WriteCert(t)
	s := startRun(t, "-tls-cert", certFile, "-tls-key", keyFile)
	pool := x509.NewCertPool()
	pemBytes, err := os.ReadFile(certFile)
	assert.NoError(t, err, "read cert")
	pool.AppendCertsFromPEM(pemBytes)

	for _, version := range []string{"HTTP/1.1", "HTTP/2.0"} {
		protocols := new(http.Protocols)
		if version == "HTTP/2.0" {
			protocols.SetHTTP2(true)
		} else {
			protocols.SetHTTP1(true)
		}
		client := &http.Client{Transport: &http.Transport{Protocols: protocols, TLSClientConfig: &tls.Config{RootCAs: pool}}}
		defer client.CloseIdleConnections()

		// Connect JSON, as curl would send it: both HTTP versions on one port, by ALPN.
		res, err := client.Post(s.url+"/rpc_package.HelloWorldService/SayHello", "application/json", strings.NewReader(`{"name":"eric"}`))
		assert.NoError(t, err, "Connect over TLS "+version)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, res.Proto, version, "HTTP version")
		assert.Equal(t, string(body), `{"message":"Hello, eric!"}`, "reply over "+version)

		forms := map[string][]connect.ClientOption{"grpcweb": {connect.WithGRPCWeb()}, "connect": nil}
		if version == "HTTP/2.0" {
			forms["grpc"] = []connect.ClientOption{connect.WithGRPC()}
		}
		for name, opts := range forms {
			greeter := rpc_packageconnect.NewHelloWorldServiceClient(client, s.url, opts...)
			reply, err := greeter.SayHello(t.Context(), &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, name+" over TLS "+version)
			assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
		}
	}

	// Plain HTTP to the TLS port gets no answer a client could take for one.
	res, err := http.Post("http://"+s.addr+"/rpc_package.HelloWorldService/SayHello", "application/json", strings.NewReader(`{"name":"eric"}`))
	if err == nil {
		res.Body.Close()
		assert.Equal(t, res.StatusCode, http.StatusBadRequest, "plain HTTP to the TLS port")
	}
}

func TestTLSFlagsGoTogether(t *testing.T) {
	err := run(t.Context(), []string{"-tls-cert", "x.pem"}, func(string) string { return "" }, io.Discard, io.Discard)
	assert.Error(t, err, "only -tls-cert")
	assert.Contains(t, err.Error(), "-tls-cert and -tls-key go together", "error")
}
