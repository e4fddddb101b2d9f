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
