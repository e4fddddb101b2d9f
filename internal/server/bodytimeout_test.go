package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestBodyTimeoutEndsSilentCallsAndFreesTheirSlot holds the only in-flight
// slot with a unary call whose body never arrives (no client deadline, the
// server's call cap at its 10 min default), over HTTP/1.1 and h2c, in Connect
// and gRPC: the call ends with deadline_exceeded once -body-timeout has
// passed, and a normal call is then admitted while the silent client still
// holds its connection open.
func TestBodyTimeoutEndsSilentCallsAndFreesTheirSlot(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, version, contentType string }{
		{"connect/HTTP/1.1", "HTTP/1.1", "application/json"},
		{"connect/h2c", "h2c", "application/json"},
		{"grpc/h2c", "h2c", "application/grpc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, server.Config{MaxInflight: 1, BodyTimeout: 500 * time.Millisecond})
			client := servertest.HTTP1Client(t)
			if tt.version == "h2c" {
				client = servertest.H2CClient(t)
			}
			body, stall := io.Pipe()
			t.Cleanup(func() { stall.Close() })
			waiting, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(waiting, http.MethodPost, srv.URL+sayHello, body)
			assert.NoError(t, err, "new request")
			req.Header.Set("Content-Type", tt.contentType)
			req.Header.Set("TE", "trailers")
			req.ContentLength = 100 // declared, never sent
			res, err := client.Do(req)
			assert.NoError(t, err, "the silent call is answered before the client gives up")
			_, code, text := outcome(t, res)
			assert.True(t, code == "deadline_exceeded" || strings.Contains(text, `"deadline_exceeded"`),
				"deadline_exceeded, got code "+code+", body "+truncate(text))

			other := servertest.H2CClient(t)
			status, reply := post(t, other, srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
		})
	}
}
