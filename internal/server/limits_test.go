package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// healthStatus asks the health service over Connect JSON.
func healthStatus(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	return post(t, client, url+"/grpc.health.v1.Health/Check", `{}`)
}

func TestCallsBeyondMaxInflightAreShedAtOnce(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	srv := servertest.Start(t, server.Config{MaxInflight: 2, Greeter: greeter.Options{Pace: forever}})
	h2c := servertest.H2CClient(t)

	// Two streams fill the server.
	holdCtx, release := context.WithCancel(ctx(t))
	held := rpc_packageconnect.NewHelloWorldServiceClient(h2c, srv.URL)
	for range 2 {
		stream, err := held.LotsOfReplies(holdCtx, &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "LotsOfReplies")
		assert.True(t, stream.Receive(), "first reply of a held stream")
		t.Cleanup(func() { stream.Close() })
	}

	for f, tr := range cells(forms) {
		client := rpc_packageconnect.NewHelloWorldServiceClient(tr.client(t), srv.URL, f.opts...)
		start := time.Now()
		_, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, f.name+"/"+tr.name+" code past the limit")
		assert.Contains(t, err.Error(), "overloaded", f.name+"/"+tr.name+" message")
		assert.True(t, time.Since(start) < 5*time.Second, "shed at once, long before the call's 10 s deadline")
	}
	status, body := post(t, servertest.HTTP1Client(t), srv.URL+sayHello, `{"name":"eric"}`)
	assert.Equal(t, status, http.StatusTooManyRequests, "Connect status when shed (body "+body+")")
	res, body := rest(t, servertest.HTTP1Client(t), http.MethodGet, srv.URL+"/v1/hello/eric", "", "")
	assert.Equal(t, res.StatusCode, http.StatusTooManyRequests, "REST status when shed (body "+body+")")
	assert.Equal(t, res.Header.Get("Retry-After"), "1", "REST Retry-After")
	assert.Equal(t, restError(t, body).GetCode(), int32(connect.CodeResourceExhausted), "REST google.rpc.Status code")

	// Health and the page still answer.
	status, body = healthStatus(t, h2c, srv.URL)
	assert.Equal(t, status, http.StatusOK, "health while at the limit")
	assert.Contains(t, body, "SERVING_STATUS_SERVING", "health body")
	res, err := h2c.Get(srv.URL + "/")
	assert.NoError(t, err, "page")
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "page while at the limit")

	// Once the streams end, calls are admitted again.
	release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _ = post(t, servertest.HTTP1Client(t), srv.URL+sayHello, `{"name":"eric"}`)
		if status == http.StatusOK || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, status, http.StatusOK, "a call after the held streams ended")
}

func TestIdleConnectionsCannotLockNewClientsOut(t *testing.T) {
	t.Parallel()
	const limit = 8
	srv := servertest.Start(t, server.Config{MaxConnections: limit})
	addr := srv.Listener.Addr().String()

	// Twice the limit of connections that open and then sit idle: some send
	// the h2c preface and settings, some nothing at all.
	var idle []net.Conn
	for i := range 2 * limit {
		c, err := net.Dial("tcp", addr)
		assert.NoError(t, err, "dial")
		t.Cleanup(func() { c.Close() })
		if i%2 == 0 {
			_, err = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
			assert.NoError(t, err, "preface")
		}
		idle = append(idle, c)
		time.Sleep(5 * time.Millisecond)
	}
	// A new client still gets health and a greeting, over both HTTP versions.
	for _, client := range []*http.Client{servertest.H2CClient(t), servertest.HTTP1Client(t)} {
		status, body := healthStatus(t, client, srv.URL)
		assert.Equal(t, status, http.StatusOK, "health at the connection limit")
		assert.Contains(t, body, "SERVING_STATUS_SERVING", "health body")
		status, body = post(t, client, srv.URL+sayHello, `{"name":"eric"}`)
		assert.Equal(t, status, http.StatusOK, "a call at the connection limit")
		assert.Contains(t, body, "Hello, eric!", "reply")
	}
	// The oldest idle connections were closed to make room.
	closed := 0
	for _, c := range idle {
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		_, err := io.Copy(io.Discard, c)
		if err == nil || !strings.Contains(err.Error(), "timeout") {
			closed++
		}
	}
	t.Logf("%d of %d idle connections were closed", closed, len(idle))
	assert.True(t, closed >= len(idle)+2-limit, "at most the limit stays open")
}

// TestCallWhoseDeadlinePassesInTheQueueIsNotServed fills the server's one
// slot and sends calls whose client deadline (30 ms, shorter than the
// queue's wait) passes while they wait for it: each is answered
// deadline_exceeded, not served late nor shed as overload, in every
// protocol's own form.
func TestCallWhoseDeadlinePassesInTheQueueIsNotServed(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	srv := servertest.Start(t, server.Config{MaxInflight: 1, Greeter: greeter.Options{Pace: forever}})
	h2c := servertest.H2CClient(t)
	held := rpc_packageconnect.NewHelloWorldServiceClient(h2c, srv.URL)
	stream, err := held.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "LotsOfReplies")
	assert.True(t, stream.Receive(), "first reply of the held stream")
	t.Cleanup(func() { stream.Close() })

	for _, row := range []struct {
		name, contentType, timeoutHeader, timeout string
		body                                      []byte
		wantStatus                                int
	}{
		{"connect", "application/json", "Connect-Timeout-Ms", "30", []byte(`{"name":"eric"}`), http.StatusGatewayTimeout},
		{"grpc", "application/grpc", "Grpc-Timeout", "30m", frame(0, 6, []byte("\x0a\x04eric")), http.StatusOK},
	} {
		t.Run(row.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello, bytes.NewReader(row.body))
			assert.NoError(t, err, "new request")
			req.Header.Set("Content-Type", row.contentType)
			req.Header.Set("TE", "trailers")
			req.Header.Set(row.timeoutHeader, row.timeout)
			res, err := h2c.Do(req)
			assert.NoError(t, err, "request")
			status, code, body := outcome(t, res)
			assert.Equal(t, status, row.wantStatus, "HTTP status (body "+truncate(body)+")")
			assert.Equal(t, code, "deadline_exceeded", "code (body "+truncate(body)+")")
		})
	}
}
