package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// silentRESTPost sends POST /v1/hello declaring a JSON body of 100 bytes
// and sending none of it, with the header's name and value pairs, and
// returns the answer, its body read (or fails if it is not answered within
// 10 s).
func silentRESTPost(t *testing.T, client *http.Client, url string, header ...string) (*http.Response, string) {
	t.Helper()
	body, stall := io.Pipe()
	t.Cleanup(func() { stall.Close() })
	waiting, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(waiting, http.MethodPost, url+"/v1/hello", body)
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	req.ContentLength = 100 // declared, never sent
	res, err := client.Do(req)
	assert.NoError(t, err, "the silent REST call is answered before the client gives up")
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(text)
}

// TestRESTBodyTimeoutIs408 is issue #23's REST body timeout: a REST call
// whose body does not arrive within -body-timeout is the client's fault,
// 408 Request Timeout (over HTTP/1.1 with Connection: close, the body being
// abandoned), with a google.rpc.Status deadline_exceeded that names the
// timeout; the slot is then free. A call that misses its caller's own
// deadline (Connect-Timeout-Ms) stays 504 Gateway Timeout. On main the body
// timeout answered 504.
func TestRESTBodyTimeoutIs408(t *testing.T) {
	t.Parallel()
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, server.Config{MaxInflight: 1, BodyTimeout: 300 * time.Millisecond})
			res, text := silentRESTPost(t, tr.client(t), srv.URL)
			assert.Equal(t, res.StatusCode, http.StatusRequestTimeout, "status of a body late past -body-timeout ("+truncate(text)+")")
			st := restError(t, text)
			assert.Equal(t, st.GetCode(), int32(4), "google.rpc.Code deadline_exceeded")
			assert.Contains(t, st.GetMessage(), "-body-timeout", "the message names the timeout")
			if tr.proto == "HTTP/1.1" {
				assert.True(t, res.Close, "Connection: close on HTTP/1.1, got header "+res.Header.Get("Connection"))
			}
			status, reply := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
		})
		t.Run(tr.name+"/caller's deadline", func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, server.Config{BodyTimeout: time.Hour})
			res, text := silentRESTPost(t, tr.client(t), srv.URL, "Connect-Timeout-Ms", "300")
			assert.Equal(t, res.StatusCode, http.StatusGatewayTimeout, "status of a call past its caller's deadline ("+truncate(text)+")")
			st := restError(t, text)
			assert.Equal(t, st.GetCode(), int32(4), "google.rpc.Code deadline_exceeded")
			assert.True(t, !strings.Contains(st.GetMessage(), "-body-timeout"), "not blamed on the body timeout: "+st.GetMessage())
		})
	}
}

// TestStreamIdleTimeoutEndsRESTStreams is issue #23's stream idle timeout
// for REST's stream of replies (GET /v1/hello/{name}/replies), which it did
// not watch on main (idle.go marked streams by their RPC path alone): a
// stream whose client stops reading, or on which nothing moves either way,
// ends once idle for -stream-idle-timeout and frees the only in-flight slot;
// a stream that goes on sending outlives it.
func TestStreamIdleTimeoutEndsRESTStreams(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }

	t.Run("client does not read (h2c)", func(t *testing.T) {
		t.Parallel()
		srv := servertest.Start(t, idleConfig())
		reset := make(chan uint32, 1)
		restNonReader(t, srv.Listener.Addr().String(), "/v1/hello/eric/replies", reset)
		select {
		case code := <-reset:
			t.Logf("stream reset with error code %d", code)
		case <-time.After(10 * time.Second):
			t.Fatal("the REST stream blocked on a client that does not read was not reset within 10 s")
		}
		status, reply := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
		assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
	})

	for _, tr := range transports {
		t.Run("nothing moves after the first reply/"+tr.name, func(t *testing.T) {
			t.Parallel()
			cfg := idleConfig()
			cfg.Greeter = greeter.Options{Pace: forever}
			srv := servertest.Start(t, cfg)
			res, body := rest(t, tr.client(t), http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "status ("+truncate(body)+")")
			lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
			assert.Equal(t, len(lines), 2, "lines: the first reply and the error ("+truncate(body)+")")
			assert.Equal(t, lines[0], `{"message":"Hello, eric!"}`, "first reply")
			assert.Contains(t, lines[1], `{"error":{"code":4,`, "the stream ends with deadline_exceeded")
			status, reply := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
		})
	}

	t.Run("a stream that sends outlives the timeout", func(t *testing.T) {
		t.Parallel()
		// A timeout of 2 s, so that a loaded machine that stalls the server
		// for a moment does not make the stream idle; replies 500 ms apart,
		// 3 s in all.
		cfg := idleConfig()
		cfg.StreamIdleTimeout = 2 * time.Second
		cfg.Greeter = greeter.Options{ReplyInterval: 500 * time.Millisecond}
		srv := servertest.Start(t, cfg)
		start := time.Now()
		res, body := rest(t, servertest.H2CClient(t), http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", "")
		assert.Equal(t, res.StatusCode, http.StatusOK, "status ("+truncate(body)+")")
		assert.True(t, time.Since(start) > cfg.StreamIdleTimeout, "the stream lasted longer than the timeout")
		assert.True(t, !strings.Contains(body, "error"), "no error: "+truncate(body))
		assert.Equal(t, strings.Count(body, "\n"), len(greeter.Greetings("eric")), "every reply ("+truncate(body)+")")
	})
}

// restNonReader is nonReader for GET path (REST): the server's first reply
// waits on a window the client never gives.
func restNonReader(t *testing.T, addr, path string, reset chan<- uint32) {
	t.Helper()
	nonReader(t, addr, reset, func(w *bufio.Writer) {
		block := []byte{0x82, 0x86} // :method GET, :scheme http
		block = append(block, h2frame.Literal(":path", path)...)
		block = append(block, h2frame.Literal(":authority", addr)...)
		_ = h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders|h2frame.EndStream, 1, block)
	})
}
