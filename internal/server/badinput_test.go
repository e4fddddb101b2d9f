package server_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

const sayHello = rpc_packageconnect.HelloWorldServiceSayHelloProcedure

// frame wraps payload in a gRPC / gRPC-Web envelope (flags, 4-byte length).
func frame(flags byte, length int, payload []byte) []byte {
	return append([]byte{flags, byte(length >> 24), byte(length >> 16), byte(length >> 8), byte(length)}, payload...)
}

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(data)
	assert.NoError(t, err, "gzip")
	assert.NoError(t, zw.Close(), "gzip close")
	return buf.Bytes()
}

// gzipBomb returns a gzip body of mib MiB of zeros, as concatenated gzip
// members of 1 MiB each (a gzip reader reads them as one stream): about 1 KiB
// a MiB, built without compressing the whole size.
func gzipBomb(t testing.TB, mib int) []byte {
	member := gzipped(t, make([]byte, 1<<20))
	return bytes.Repeat(member, mib)
}

// badRequest is one row of the bad-input matrix.
type badRequest struct {
	name       string
	h2c        bool
	method     string
	path       string // default SayHello
	header     map[string]string
	body       []byte
	wantStatus int
	wantCode   string // Connect error code or gRPC status name, "" to skip
}

// outcome reads the HTTP status and the RPC code of a response: the
// Grpc-Status header or trailer, or the "code" of a Connect error body.
func outcome(t *testing.T, res *http.Response) (int, string, string) {
	t.Helper()
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	code := res.Header.Get("Grpc-Status")
	if code == "" {
		code = res.Trailer.Get("Grpc-Status")
	}
	if code == "" && bytes.Contains(body, []byte("grpc-status:")) { // gRPC-Web trailers in the body
		i := bytes.Index(body, []byte("grpc-status:"))
		code = strings.TrimSpace(strings.SplitN(string(body[i+len("grpc-status:"):]), "\r\n", 2)[0])
	}
	if code == "" && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		var e struct{ Code string }
		if json.Unmarshal(body, &e) == nil {
			code = e.Code
		}
	}
	return res.StatusCode, grpcCodeName(code), string(body)
}

// grpcCodeName turns a numeric gRPC status into its Connect name.
func grpcCodeName(code string) string {
	names := map[string]string{"0": "ok", "1": "canceled", "2": "unknown", "3": "invalid_argument",
		"4": "deadline_exceeded", "5": "not_found", "8": "resource_exhausted", "12": "unimplemented", "13": "internal", "14": "unavailable"}
	if name, ok := names[code]; ok {
		return name
	}
	return code
}

func TestBadInputMatrix(t *testing.T) {
	t.Parallel()
	const maxMessage = 64 << 10
	srv := servertest.Start(t, server.Config{MaxMessageBytes: maxMessage, MaxHeaderBytes: 8 << 10,
		CORSOrigins: []string{"http://page.example"}})
	bomb := gzipBomb(t, 64) // 64 MiB of zeros in about 64 KiB
	bigName := append([]byte{0x0a, 0x80, 0x80, 0x08}, bytes.Repeat([]byte("x"), 128<<10)...)
	rows := []badRequest{
		{name: "malformed JSON", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":`), wantStatus: 400, wantCode: "invalid_argument"},
		{name: "wrong JSON type", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":5}`), wantStatus: 400, wantCode: "invalid_argument"},
		{name: "unknown JSON field is ignored", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":"eric","nickname":"e"}`), wantStatus: 200},
		{name: "invalid UTF-8 in a proto string", header: map[string]string{"Content-Type": "application/proto"}, body: []byte{0x0a, 0x02, 0xff, 0xfe}, wantStatus: 400, wantCode: "invalid_argument"},
		{name: "truncated gRPC frame", h2c: true, header: map[string]string{"Content-Type": "application/grpc"}, body: frame(0, 6, []byte{0x0a, 0x04, 'e'}), wantStatus: 200, wantCode: "internal"}, // as grpc-go: "protocol error: promised 6 bytes…"
		{name: "truncated frame header", h2c: true, header: map[string]string{"Content-Type": "application/grpc"}, body: []byte{0, 0, 0}, wantStatus: 200, wantCode: "internal"},
		{name: "gRPC frame longer than the limit", h2c: true, header: map[string]string{"Content-Type": "application/grpc"}, body: frame(0, 1<<30, []byte{0x0a}), wantStatus: 200, wantCode: "resource_exhausted"},
		{name: "unsupported Content-Type", header: map[string]string{"Content-Type": "text/plain"}, body: []byte("eric"), wantStatus: 415},
		{name: "unknown Content-Encoding", header: map[string]string{"Content-Type": "application/json", "Content-Encoding": "br"}, body: []byte(`{"name":"eric"}`), wantStatus: 501, wantCode: "unimplemented"},
		{name: "oversized message, Connect", header: map[string]string{"Content-Type": "application/proto"}, body: bigName, wantStatus: 429, wantCode: "resource_exhausted"},
		{name: "oversized message, gRPC", h2c: true, header: map[string]string{"Content-Type": "application/grpc"}, body: frame(0, len(bigName), bigName), wantStatus: 200, wantCode: "resource_exhausted"},
		{name: "oversized message, gRPC-Web", header: map[string]string{"Content-Type": "application/grpc-web+proto"}, body: frame(0, len(bigName), bigName), wantStatus: 200, wantCode: "resource_exhausted"},
		{name: "gzip bomb, Connect", header: map[string]string{"Content-Type": "application/proto", "Content-Encoding": "gzip"}, body: bomb, wantStatus: 429, wantCode: "resource_exhausted"},
		{name: "gzip bomb, gRPC", h2c: true, header: map[string]string{"Content-Type": "application/grpc", "Grpc-Encoding": "gzip"}, body: frame(1, len(bomb), bomb), wantStatus: 200, wantCode: "resource_exhausted"},
		{name: "oversized headers", header: map[string]string{"Content-Type": "application/json", "X-Padding": strings.Repeat("p", 16<<10)}, body: []byte(`{"name":"eric"}`), wantStatus: 431},
		{name: "Connect GET, malformed message", method: "GET", path: sayHello + "?encoding=json&message=%7Bbad", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, unknown encoding", method: "GET", path: sayHello + "?encoding=xml&message=x", wantStatus: 415},
		{name: "Connect GET, no message", method: "GET", path: sayHello + "?encoding=json", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64", method: "GET", path: sayHello + "?encoding=proto&base64=1&message=!!!*", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, base64's value percent-encoded", method: "GET", path: sayHello + "?encoding=proto&base64=%31&message=!!!*", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, base64's key percent-encoded", method: "GET", path: sayHello + "?encoding=proto&bas%6564=1&message=!!!*", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, both percent-encoded", method: "GET", path: sayHello + "?encoding=proto&%62ase64=%31&message=!!!*", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, base64 after the message", method: "GET", path: sayHello + "?message=!!!*&encoding=proto&base64=%31", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, message's key percent-encoded", method: "GET", path: sayHello + "?encoding=proto&base64=1&%6Dessage=!!!*", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, invalid base64, a percent-encoded character in it", method: "GET", path: sayHello + "?encoding=proto&base64=%31&message=CgRlcmlj%21", wantStatus: 400, wantCode: "invalid_argument"},
		{name: "Connect GET, base64 of a valid message, base64's value percent-encoded", method: "GET", path: sayHello + "?encoding=proto&base64=%31&message=CgRlcmlj", wantStatus: 200},
		{name: "Connect GET, base64=10 is not base64=1", method: "GET", path: sayHello + "?encoding=json&base64=10&message=%7B%22name%22%3A%22eric%22%7D", wantStatus: 200},
		{name: "Connect GET, base64 of a valid message", method: "GET", path: sayHello + "?encoding=proto&base64=1&message=CgRlcmlj", wantStatus: 200},
		{name: "encoded slash in an RPC path", path: "/rpc_package.HelloWorldService%2FSayHello", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":"eric"}`), wantStatus: 404},
		{name: "encoded letter in an RPC path", path: "/rpc_package.HelloWorldService/%53ayHello", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":"eric"}`), wantStatus: 404},
		{name: "encoded RPC path over gRPC", h2c: true, path: "/rpc_package.HelloWorldService/%53ayHello", header: map[string]string{"Content-Type": "application/grpc"}, body: frame(0, 6, []byte{0x0a, 0x04, 'e', 'r', 'i', 'c'}), wantStatus: 200, wantCode: "unimplemented"},
		{name: "health check of an unknown service", path: "/grpc.health.v1.Health/Check", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"service":"` + strings.Repeat("x", 60<<10) + `"}`), wantStatus: 404, wantCode: "not_found"},
		{name: "bidi over HTTP/1.1", path: rpc_packageconnect.HelloWorldServiceBidiHelloProcedure, header: map[string]string{"Content-Type": "application/connect+json"}, body: frame(0, 2, []byte("{}")), wantStatus: 505},
		{name: "unknown procedure", path: "/rpc_package.HelloWorldService/Nope", header: map[string]string{"Content-Type": "application/json"}, body: []byte("{}"), wantStatus: 404},
		{name: "unknown service over gRPC", h2c: true, path: "/no.Such/Method", header: map[string]string{"Content-Type": "application/grpc"}, body: frame(0, 0, nil), wantStatus: 404},
		{name: "method PUT", method: "PUT", header: map[string]string{"Content-Type": "application/json"}, body: []byte(`{"name":"eric"}`), wantStatus: 405},
		{name: "method DELETE on the page", method: "DELETE", path: "/", wantStatus: 405},
		{name: "CORS preflight from a disallowed origin", method: "OPTIONS", header: map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}, wantStatus: 204},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			client := servertest.HTTP1Client(t)
			if row.h2c {
				client = servertest.H2CClient(t)
			}
			method, path := row.method, row.path
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = sayHello
			}
			req, err := http.NewRequestWithContext(ctx(t), method, srv.URL+path, bytes.NewReader(row.body))
			assert.NoError(t, err, "new request")
			for k, v := range row.header {
				req.Header.Set(k, v)
			}
			if row.h2c {
				req.Header.Set("TE", "trailers")
			}
			res, err := client.Do(req)
			assert.NoError(t, err, "request")
			status, code, body := outcome(t, res)
			assert.Equal(t, status, row.wantStatus, "HTTP status (body "+truncate(body)+")")
			if row.wantCode != "" {
				assert.Equal(t, code, row.wantCode, "code (body "+truncate(body)+")")
			}
			assert.True(t, len(body) < 1<<10 || row.wantStatus == http.StatusOK, "an error answer stays small, whatever the request sent (body "+truncate(body)+")")
			if row.method == "OPTIONS" {
				assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), "", "Allow-Origin")
				assert.Equal(t, res.Header.Get("Access-Control-Allow-Methods"), "", "Allow-Methods")
			}

			// The server still answers a valid call afterwards.
			status, _ = post(t, client, srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, http.StatusOK, "valid call after the bad one")
		})
	}
}

func truncate(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
