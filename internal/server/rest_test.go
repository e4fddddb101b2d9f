package server_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// rest sends one REST request and returns the response, its body read.
func rest(t *testing.T, client *http.Client, method, url, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	res, err := client.Do(restRequest(t, method, url, contentType, body, header...))
	assert.NoError(t, err, method+" "+url)
	defer res.Body.Close()
	return res, readAll(t, res)
}

// restRequest makes a REST request with a body of contentType and the
// header's name and value pairs.
func restRequest(t *testing.T, method, url, contentType, body string, header ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, strings.NewReader(body))
	assert.NoError(t, err, "new request")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// restError decodes a REST error body: a google.rpc.Status in JSON.
func restError(t *testing.T, body string) *status.Status {
	t.Helper()
	st := &status.Status{}
	assert.NoError(t, protojson.Unmarshal([]byte(body), st), "decode google.rpc.Status from "+body)
	return st
}

func TestRESTSayHello(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			client := tr.client(t)
			res, body := rest(t, client, http.MethodGet, srv.URL+"/v1/hello/eric", "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "GET status ("+body+")")
			assert.Equal(t, res.Header.Get("Content-Type"), "application/json", "GET Content-Type")
			assert.Equal(t, body, `{"message":"Hello, eric!"}`, "GET reply")

			// A path segment is percent-decoded into the field.
			res, body = rest(t, client, http.MethodGet, srv.URL+"/v1/hello/"+url.PathEscape("Zoë / 世界"), "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "GET escaped status ("+body+")")
			assert.Equal(t, body, `{"message":"Hello, Zoë / 世界!"}`, "GET escaped reply")
			res, body = rest(t, client, http.MethodGet, srv.URL+"/v1/hello/100%25", "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "GET %25 status ("+body+")")
			assert.Equal(t, body, `{"message":"Hello, 100%!"}`, "GET %25 reply")
			res, body = rest(t, client, http.MethodGet, srv.URL+"/v1/hello/"+url.PathEscape("a/b")+"/replies", "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "GET replies with %2F ("+body+")")
			assert.Contains(t, body, `{"message":"Hello, a/b!"}`, "replies with %2F")

			res, body = rest(t, client, http.MethodHead, srv.URL+"/v1/hello/eric", "", "")
			assert.Equal(t, res.StatusCode, http.StatusOK, "HEAD status")
			assert.Equal(t, res.Header.Get("Content-Type"), "application/json", "HEAD Content-Type")
			assert.Equal(t, body, "", "HEAD body")

			res, body = rest(t, client, http.MethodPost, srv.URL+"/v1/hello", "application/json", `{"name":"bob"}`)
			assert.Equal(t, res.StatusCode, http.StatusOK, "POST status ("+body+")")
			assert.Equal(t, body, `{"message":"Hello, bob!"}`, "POST reply")
		})
	}
}

func TestRESTCompressedBodies(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxMessageBytes: 1024})
	client := servertest.HTTP1Client(t)
	gz := func(s string) string {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		_, _ = zw.Write([]byte(s))
		_ = zw.Close()
		return b.String()
	}
	tests := []struct {
		label, encoding, body string
		wantStatus            int
		wantCode              int32
	}{
		{"gzip", "gzip", gz(`{"name":"eric"}`), 200, 0},
		{"broken gzip", "gzip", gz(`{"name":"eric"}`)[:12], 400, 3},
		{"not gzip at all", "gzip", `{"name":"eric"}`, 400, 3},
		{"gzip bomb past the message cap", "gzip", gz(`{"name":"` + strings.Repeat("a", 1<<20) + `"}`), 429, 8},
		{"unsupported encoding", "br", `{"name":"eric"}`, 400, 3},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			res, body := rest(t, client, http.MethodPost, srv.URL+"/v1/hello", "application/json", tt.body, "Content-Encoding", tt.encoding)
			assert.Equal(t, res.StatusCode, tt.wantStatus, "status ("+body+")")
			if tt.wantCode == 0 {
				assert.Equal(t, body, `{"message":"Hello, eric!"}`, "reply")
				return
			}
			assert.Equal(t, restError(t, body).GetCode(), tt.wantCode, "google.rpc.Status code")
		})
	}
}

func TestRESTErrorsAreStatusesWithTheirHTTPCode(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxMessageBytes: 1024})
	client := servertest.HTTP1Client(t)
	tests := []struct {
		label, method, path, contentType, body string
		wantStatus                             int
		wantCode                               int32 // google.rpc.Code; -1: not a Status
		wantMessage                            string
	}{
		{"long name in the path", "GET", "/v1/hello/" + strings.Repeat("a", 101), "", "", 400, 3,
			"invalid name: name must be at most 100 characters, got 101"},
		{"empty name in the body", "POST", "/v1/hello", "application/json", `{"name":""}`, 400, 3,
			"invalid name: name must not be empty"},
		{"no body", "POST", "/v1/hello", "application/json", ``, 400, 3, "invalid name: name must not be empty"},
		{"malformed JSON", "POST", "/v1/hello", "application/json", `{"name":`, 400, 3, ""},
		{"wrong JSON type", "POST", "/v1/hello", "application/json", `{"name":42}`, 400, 3, ""},
		{"unknown field", "POST", "/v1/hello", "application/json", `{"nom":"eric"}`, 400, 3, ""},
		{"body over the cap", "POST", "/v1/hello", "application/json", `{"name":"` + strings.Repeat("a", 4096) + `"}`, 0, -1, ""},
		{"unknown query parameter", "GET", "/v1/hello/eric?x=1", "", "", 400, 3, ""},
		{"unknown nested query parameter", "GET", "/v1/hello/eric?name.first=1", "", "", 400, 3, ""},
		{"unknown path", "GET", "/v1/goodbye/eric", "", "", 404, -1, ""},
		{"wrong method", "DELETE", "/v1/hello/eric", "", "", 405, -1, ""},
		{"empty name in the replies path", "GET", "/v1/hello/%20/replies", "", "", 200, -1, ""},
		{"long name in the replies path", "GET", "/v1/hello/" + strings.Repeat("é", 101) + "/replies", "", "", 400, 3,
			"invalid name: name must be at most 100 characters, got 101"},
		{"invalid UTF-8 in the path", "GET", "/v1/hello/%80", "", "", 400, 3, ""},
		{"invalid UTF-8 in the replies path", "GET", "/v1/hello/%C3/replies", "", "", 400, 3, ""},
		{"invalid UTF-8 in a query value", "GET", "/v1/hello/eric?name=%FF", "", "", 400, 3, ""},
		{"invalid UTF-8 in a query key", "GET", "/v1/hello/eric?%FF=1", "", "", 400, 3, ""},
		{"malformed query", "GET", "/v1/hello/eric?name=%zz", "", "", 400, 3, ""},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			res, body := rest(t, client, tt.method, srv.URL+tt.path, tt.contentType, tt.body)
			if tt.wantStatus == 0 {
				// Over the cap: refused, as a client error, without a 5xx.
				assert.True(t, res.StatusCode >= 400 && res.StatusCode < 500, "status for a body over the cap: "+res.Status+" "+body)
				return
			}
			assert.Equal(t, res.StatusCode, tt.wantStatus, "status ("+body+")")
			if tt.wantCode < 0 {
				return
			}
			assert.Equal(t, res.Header.Get("Content-Type"), "application/json", "Content-Type")
			st := restError(t, body)
			assert.Equal(t, st.GetCode(), tt.wantCode, "google.rpc.Status code")
			assert.True(t, st.GetMessage() != "", "the status has a message")
			if tt.wantMessage != "" {
				assert.Equal(t, st.GetMessage(), tt.wantMessage, "message")
				assert.Equal(t, len(st.GetDetails()), 2, "details: BadRequest and Violations")
				assert.Equal(t, st.GetDetails()[0].GetTypeUrl(), "type.googleapis.com/google.rpc.BadRequest", "first detail")
			}
		})
	}
}

// TestRESTRoutingErrorsAreStatuses checks the answers of the routing under
// /v1/, which were plain text: an unknown path, a method or a body type a
// binding does not take, and a path that is not clean (which was redirected
// to another call: /v1/hello//replies to SayHello("replies")), each a
// google.rpc.Status in JSON with its HTTP status.
func TestRESTRoutingErrorsAreStatuses(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	client := servertest.HTTP1Client(t)
	for _, tt := range []struct {
		label, method, path, contentType, body string
		wantStatus                             int
		wantCode                               int32 // google.rpc.Code
	}{
		{"unknown path", "GET", "/v1/goodbye/eric", "", "", 404, 5},
		{"the prefix alone", "GET", "/v1/", "", "", 404, 5},
		{"a path one segment too long", "GET", "/v1/hello/eric/replies/all", "", "", 404, 5},
		{"an empty name segment", "GET", "/v1/hello//replies", "", "", 404, 5},
		{"a dot segment", "GET", "/v1/hello/./eric", "", "", 404, 5},
		{"DELETE", "DELETE", "/v1/hello/eric", "", "", 405, 12},
		{"PUT", "PUT", "/v1/hello", "application/json", `{"name":"eric"}`, 405, 12},
		{"DELETE of the stream", "DELETE", "/v1/hello/eric/replies", "", "", 405, 12},
		{"a form body", "POST", "/v1/hello", "application/x-www-form-urlencoded", "name=eric", 415, 3},
		{"a text body", "POST", "/v1/hello", "text/plain", "eric", 415, 3},
	} {
		res, body := rest(t, client, tt.method, srv.URL+tt.path, tt.contentType, tt.body)
		what := tt.label + ": " + tt.method + " " + tt.path
		assert.Equal(t, res.StatusCode, tt.wantStatus, what+": status ("+body+")")
		assert.Equal(t, res.Header.Get("Content-Type"), "application/json", what+": Content-Type")
		st := restError(t, body)
		assert.Equal(t, st.GetCode(), tt.wantCode, what+": google.rpc.Status code")
		assert.True(t, st.GetMessage() != "", what+": the status has a message")
	}
}

// TestRESTRepliesStream checks LotsOfReplies over REST: newline-delimited
// JSON by default and server-sent events on request, each reply flushed as
// it is sent (the first arrives while the server holds the rest).
func TestRESTRepliesStream(t *testing.T) {
	g := &servertest.Gate{}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: g.Pace}})
	want := greeter.Greetings("eric")
	for _, tr := range transports {
		for _, sse := range []bool{false, true} {
			name := tr.name + "/ndjson"
			if sse {
				name = tr.name + "/sse"
			}
			t.Run(name, func(t *testing.T) {
				release := g.Arm()
				req, err := http.NewRequestWithContext(ctx(t), http.MethodGet, srv.URL+"/v1/hello/eric/replies", nil)
				assert.NoError(t, err, "new request")
				wantType := "application/x-ndjson"
				if sse {
					req.Header.Set("Accept", "text/event-stream")
					wantType = "text/event-stream"
				}
				res, err := tr.client(t).Do(req)
				assert.NoError(t, err, "GET replies")
				defer res.Body.Close()
				assert.Equal(t, res.StatusCode, http.StatusOK, "status")
				assert.Equal(t, res.Header.Get("Content-Type"), wantType, "Content-Type")
				lines := bufio.NewScanner(res.Body)
				next := func() string {
					for lines.Scan() {
						line := lines.Text()
						if line == "" {
							continue // between events
						}
						if sse {
							assert.True(t, strings.HasPrefix(line, "data: "), "an SSE data line: "+line)
							line = strings.TrimPrefix(line, "data: ")
						}
						var reply struct{ Message string }
						assert.NoError(t, json.Unmarshal([]byte(line), &reply), "decode "+line)
						return reply.Message
					}
					return ""
				}
				got := []string{next()}
				assert.Equal(t, got[0], want[0], "first reply, while the server holds the rest")
				close(release)
				for m := next(); m != ""; m = next() {
					got = append(got, m)
				}
				assert.NoError(t, lines.Err(), "read the stream")
				assert.Equal(t, got, want, "replies")
			})
		}
	}
}

// TestRESTStreamErrorAfterTheFirstReply checks that a stream that fails
// after its first reply ends with the error as its last line.
func TestRESTStreamErrorAfterTheFirstReply(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	withRoom(t, 200*time.Millisecond, func(limit time.Duration) bool {
		srv := servertest.Start(t, server.Config{MaxCallDuration: limit, Greeter: greeter.Options{Pace: forever}})
		res, body := rest(t, servertest.HTTP1Client(t), http.MethodGet, srv.URL+"/v1/hello/eric/replies", "", "")
		if !strings.HasPrefix(body, `{"message":`) && strings.Contains(body, "deadline") {
			return true // the cap passed before the first reply
		}
		assert.Equal(t, res.StatusCode, http.StatusOK, "status")
		lines := strings.Split(strings.TrimSpace(body), "\n")
		assert.Equal(t, len(lines), 2, "a reply and the error: "+body)
		assert.Equal(t, lines[0], `{"message":"Hello, eric!"}`, "first line")
		var last struct{ Error json.RawMessage }
		assert.NoError(t, json.Unmarshal([]byte(lines[1]), &last), "decode the last line")
		st := restError(t, string(last.Error))
		assert.Equal(t, st.GetCode(), int32(4), "deadline_exceeded (the server's cap)")
		return false
	})
}

// TestRESTPassesTheMiddleware checks that REST calls are logged as REST
// with their own path, and allowed cross-origin like every other call.
func TestRESTPassesTheMiddleware(t *testing.T) {
	t.Parallel()
	logs := &servertest.Buffer{}
	srv := servertest.Start(t, server.Config{
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		CORSOrigins: []string{"https://page.example"},
	})
	client := servertest.HTTP1Client(t)
	res, _ := rest(t, client, http.MethodGet, srv.URL+"/v1/hello/eric", "", "", "Origin", "https://page.example")
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), "https://page.example", "CORS on a REST reply")
	res, _ = rest(t, client, http.MethodOptions, srv.URL+"/v1/hello", "", "",
		"Origin", "https://page.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type")
	assert.Equal(t, res.StatusCode, http.StatusNoContent, "preflight status")
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), "https://page.example", "preflight allows the origin")

	srv.WaitIdle(t) // a line is written once its handler returns
	var line struct{ Path, Protocol, Code string }
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(l, `"/v1/hello/eric"`) {
			assert.NoError(t, json.Unmarshal([]byte(l), &line), "decode the log line")
		}
	}
	assert.Equal(t, line.Path, "/v1/hello/eric", "logged path (as sent, not transcoded)")
	assert.Equal(t, line.Protocol, "rest", "logged protocol")
	assert.Equal(t, line.Code, "ok", "logged code")
}

// TestRESTBodyPastItsDeadline sends a REST body that stops after its first
// byte: the call ends at the server's cap with 504 and deadline_exceeded
// (google.rpc.Status code 4), not 400 invalid_argument, on either HTTP
// version.
func TestRESTBodyPastItsDeadline(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxCallDuration: 300 * time.Millisecond})
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			body, stall := io.Pipe()
			t.Cleanup(func() { stall.Close() })
			go func() { _, _ = stall.Write([]byte("{")) }() // one byte, then nothing
			req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+"/v1/hello", body)
			assert.NoError(t, err, "new request")
			req.Header.Set("Content-Type", "application/json")
			res, err := tr.client(t).Do(req)
			assert.NoError(t, err, "request")
			defer res.Body.Close()
			text := readAll(t, res)
			assert.Equal(t, res.StatusCode, http.StatusGatewayTimeout, "status (body "+text+")")
			assert.Equal(t, restError(t, text).GetCode(), int32(4), "deadline_exceeded")
		})
	}
}
