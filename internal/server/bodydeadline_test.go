package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestBodyReadsEndAtTheCallsDeadline sends calls whose request body trickles
// and then stops, in every protocol and HTTP version, for a unary and a
// server-streaming RPC, with the client's deadline or only the server's cap:
// each ends at its deadline with deadline_exceeded, instead of holding a
// handler for as long as the client keeps the connection.
func TestBodyReadsEndAtTheCallsDeadline(t *testing.T) {
	t.Parallel()
	const limit = 500 * time.Millisecond
	clientDeadline := servertest.Start(t, server.Config{})
	serverCap := servertest.Start(t, server.Config{MaxCallDuration: limit})
	protocols := []struct {
		name, contentType, timeoutHeader, timeout string
		h2cOnly                                   bool
	}{
		{"connect", "application/json", "Connect-Timeout-Ms", "500", false},
		{"grpc-web", "application/grpc-web+proto", "Grpc-Timeout", "500m", false},
		{"grpc-web-text", "application/grpc-web-text", "Grpc-Timeout", "500m", false},
		{"grpc", "application/grpc", "Grpc-Timeout", "500m", true},
	}
	concurrently(t, func(run func(string, func(*testing.T))) {
		for _, p := range protocols {
			for _, method := range []string{"SayHello", "LotsOfReplies"} {
				for _, version := range []string{"HTTP/1.1", "h2c"} {
					for _, by := range []string{"client deadline", "server cap"} {
						if p.h2cOnly && version == "HTTP/1.1" {
							continue
						}
						run(strings.Join([]string{p.name, method, version, by}, "/"), func(t *testing.T) {
							client, srv := servertest.HTTP1Client(t), clientDeadline
							if version == "h2c" {
								client = servertest.H2CClient(t)
							}
							if by == "server cap" {
								srv = serverCap
							}
							contentType := p.contentType
							if p.name == "connect" && method == "LotsOfReplies" {
								contentType = "application/connect+json"
							}
							body, stall := io.Pipe()
							t.Cleanup(func() { stall.Close() })
							// The client waits a minute: the call must end long before.
							waiting, cancel := context.WithTimeout(t.Context(), time.Minute)
							defer cancel()
							req, err := http.NewRequestWithContext(waiting, http.MethodPost,
								srv.URL+"/"+rpc_packageconnect.HelloWorldServiceName+"/"+method, body)
							assert.NoError(t, err, "new request")
							req.Header.Set("Content-Type", contentType)
							req.Header.Set("TE", "trailers")
							if by == "client deadline" {
								req.Header.Set(p.timeoutHeader, p.timeout)
							}
							go func() { _, _ = stall.Write([]byte{0}) }() // one byte, then nothing

							start := time.Now()
							res, err := client.Do(req)
							assert.NoError(t, err, "request")
							_, code, text := outcome(t, res)
							took := time.Since(start)
							assert.True(t, took < limit+20*time.Second, "answered soon after the deadline, not after "+took.String())
							assert.True(t, code == "deadline_exceeded" || strings.Contains(text, `"deadline_exceeded"`),
								"deadline_exceeded, got code "+code+", body "+truncate(text))
						})
					}
				}
			}
		}
	})
}
