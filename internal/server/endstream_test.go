package server_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// reply is one request whose answer TestRepliesEndWithTheirLastFrame reads
// frame by frame.
type reply struct {
	name, method, path, contentType, body string
	accept                                string
	trailers                              bool // gRPC: END_STREAM is on the trailers' HEADERS
}

// grpcFrame is a gRPC (and gRPC-Web) message of body: flag 0, the 4-byte
// length, the bytes.
func grpcFrame(body string) string {
	n := len(body)
	return string([]byte{0, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}) + body
}

// Every unary answer of hellorpc, in every protocol, right and wrong.
var replies = func() []reply {
	const (
		sayHello = "/rpc_package.HelloWorldService/SayHello"
		check    = "/grpc.health.v1.Health/Check"
		eric     = "\x0a\x04eric" // HelloRequest{name: "eric"} in protobuf
	)
	return []reply{
		{name: "connect-json", method: "POST", path: sayHello, contentType: "application/json", body: `{"name":"eric"}`},
		{name: "connect-proto", method: "POST", path: sayHello, contentType: "application/proto", body: eric},
		{name: "connect-get", method: "GET", path: sayHello + "?encoding=json&message=%7B%22name%22%3A%22eric%22%7D"},
		{name: "connect-error", method: "POST", path: sayHello, contentType: "application/json", body: `{"name":""}`},
		{name: "grpc", method: "POST", path: sayHello, contentType: "application/grpc", body: grpcFrame(eric), trailers: true},
		{name: "grpc-error", method: "POST", path: sayHello, contentType: "application/grpc", body: grpcFrame(""), trailers: true},
		{name: "grpcweb", method: "POST", path: sayHello, contentType: "application/grpc-web+proto", body: grpcFrame(eric)},
		{name: "grpcweb-error", method: "POST", path: sayHello, contentType: "application/grpc-web+proto", body: grpcFrame("")},
		{name: "grpcweb-text", method: "POST", path: sayHello, contentType: "application/grpc-web-text",
			body: "AAAAAAYKBGVyaWM="}, // grpcFrame(eric) in base64
		{name: "rest-get", method: "GET", path: "/v1/hello/eric"},
		{name: "rest-post", method: "POST", path: "/v1/hello", contentType: "application/json", body: `{"name":"eric"}`},
		{name: "rest-error", method: "POST", path: "/v1/hello", contentType: "application/json", body: `{"name":""}`},
		{name: "rest-unknown", method: "GET", path: "/v1/nope"},
		{name: "health-connect", method: "POST", path: check, contentType: "application/json", body: `{}`},
		{name: "health-grpc", method: "POST", path: check, contentType: "application/grpc", body: grpcFrame(""), trailers: true},
		{name: "healthz", method: "GET", path: "/healthz"},
		{name: "readyz", method: "GET", path: "/readyz"},
		{name: "page", method: "GET", path: "/", accept: "text/html"},
		{name: "openapi", method: "GET", path: "/openapi.yaml"},
		{name: "not-found", method: "GET", path: "/no/such/page"},
	}
}()

// TestRepliesEndWithTheirLastFrame checks over h2c that every unary answer
// ends its stream with the frame that carries its last bytes: END_STREAM on
// the last DATA frame, or on the trailers' HEADERS for gRPC, never on a
// separate empty DATA frame sent after the body. A proxy that holds a body
// until its stream ends (HAProxy does) would otherwise wait for that frame.
// Write coalescing gathers frames into fewer writes and must not change them.
func TestRepliesEndWithTheirLastFrame(t *testing.T) {
	t.Parallel()
	for _, coalescing := range []bool{true, false} {
		srv := servertest.Start(t, server.Config{DisableWriteCoalescing: !coalescing})
		for _, rp := range replies {
			t.Run(fmt.Sprintf("%s/coalescing=%t", rp.name, coalescing), func(t *testing.T) {
				frames := replyFrames(t, srv.URL, rp)
				t.Logf("%s %s: %s", rp.method, rp.path, describe(frames))
				if last := frames[len(frames)-1]; rp.trailers && last.Type != h2frame.Headers {
					t.Errorf("gRPC answer ends with %v, want its trailers' HEADERS", last)
				}
				for _, f := range frames {
					if f.Type == h2frame.Data && len(f.Payload) == 0 {
						t.Errorf("an empty DATA frame: %s", describe(frames))
						break
					}
				}
			})
		}
	}
}

// describe lists frames as type, flags and length: "HEADERS DATA(14) DATA(0,END_STREAM)".
func describe(frames []h2frame.Frame) string {
	names := map[byte]string{h2frame.Headers: "HEADERS", h2frame.Data: "DATA", h2frame.Continuation: "CONTINUATION"}
	var b strings.Builder
	for i, f := range frames {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(names[f.Type])
		var what []string
		if f.Type == h2frame.Data {
			what = append(what, fmt.Sprint(len(f.Payload)))
		}
		if f.Flags&h2frame.EndStream != 0 {
			what = append(what, "END_STREAM")
		}
		if len(what) > 0 {
			fmt.Fprintf(&b, "(%s)", strings.Join(what, ","))
		}
	}
	return b.String()
}

// replyFrames sends rp alone on a new h2c connection and returns the frames
// of its stream that the server sent, up to the one that ends it.
func replyFrames(t *testing.T, url string, rp reply) []h2frame.Frame {
	t.Helper()
	var tap *h2frame.Tap
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	transport := &http.Transport{Protocols: protocols, DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			tap = h2frame.NewTap(conn)
			return tap, nil
		}}
	defer transport.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx(t), rp.method, url+rp.path, strings.NewReader(rp.body))
	if err != nil {
		t.Fatalf("request %s %s: %v", rp.method, rp.path, err)
	}
	if rp.contentType != "" {
		req.Header.Set("Content-Type", rp.contentType)
	}
	if rp.accept != "" {
		req.Header.Set("Accept", rp.accept)
	}
	if strings.HasPrefix(rp.contentType, "application/grpc") {
		req.Header.Set("Te", "trailers")
	}
	res, err := (&http.Client{Transport: transport}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rp.method, rp.path, err)
	}
	_, err = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatalf("read the answer to %s %s: %v", rp.method, rp.path, err)
	}

	// Stream 1 is the request's; a frame after the one that ends it would be
	// a protocol error, which the client would have reported.
	deadline := time.Now().Add(10 * time.Second)
	var frames []h2frame.Frame
	for {
		f, err := tap.Next(deadline)
		if err != nil {
			t.Fatalf("read the server's frames after %s: %v", describe(frames), err)
		}
		if f.Stream != 1 {
			continue
		}
		frames = append(frames, f)
		if f.Flags&h2frame.EndStream != 0 && (f.Type == h2frame.Data || f.Type == h2frame.Headers) {
			return frames
		}
	}
}
