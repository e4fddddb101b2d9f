package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// decodeText decodes a grpc-web-text body: base64 chunks, each padded.
func decodeText(t *testing.T, body string) []byte {
	t.Helper()
	var out []byte
	for i := 0; i+4 <= len(body); i += 4 {
		b, err := base64.StdEncoding.DecodeString(body[i : i+4])
		assert.NoError(t, err, "decode response quantum")
		out = append(out, b...)
	}
	assert.Equal(t, len(body)%4, 0, "response is whole base64 quanta")
	return out
}

// parseGRPCWeb splits a binary gRPC-Web body into reply messages and trailers.
func parseGRPCWeb(t *testing.T, b []byte) ([]string, string) {
	t.Helper()
	var replies []string
	var trailers string
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		assert.True(t, len(b) >= 5+n, "whole frame")
		if b[0]&0x80 != 0 {
			trailers = string(b[5 : 5+n])
		} else {
			var reply rpc.HelloReply
			assert.NoError(t, proto.Unmarshal(b[5:5+n], &reply), "reply")
			replies = append(replies, reply.GetMessage())
		}
		b = b[5+n:]
	}
	return replies, trailers
}

func textCall(t *testing.T, client *http.Client, url, path, contentType string, body string) (*http.Response, []string, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/grpc-web-text")
	req.Header.Set("X-Grpc-Web", "1")
	res, err := client.Do(req)
	assert.NoError(t, err, "grpc-web-text request")
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	replies, trailers := parseGRPCWeb(t, decodeText(t, string(raw)))
	return res, replies, trailers
}

func TestGRPCWebTextMode(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxMessageBytes: 1 << 10})
	eric := base64.StdEncoding.EncodeToString(frame(0, 6, []byte("\x0a\x04eric")))
	for _, tr := range transports {
		for _, ct := range []string{"application/grpc-web-text", "application/grpc-web-text+proto"} {
			res, replies, trailers := textCall(t, tr.client(t), srv.URL, sayHello, ct, eric)
			assert.Equal(t, res.StatusCode, http.StatusOK, "status")
			assert.Equal(t, res.Header.Get("Content-Type"), "application/grpc-web-text+proto", "response Content-Type")
			assert.Equal(t, replies, []string{"Hello, eric!"}, "SayHello over "+tr.name+" "+ct)
			assert.Contains(t, trailers, "grpc-status: 0", "trailers")

			_, replies, trailers = textCall(t, tr.client(t), srv.URL, rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure, ct, eric)
			assert.Equal(t, replies, greeter.Greetings("eric"), "LotsOfReplies over "+tr.name)
			assert.Contains(t, trailers, "grpc-status: 0", "trailers")
		}
	}

	// The request split into independently padded chunks, as some clients send it.
	framed := frame(0, 6, []byte("\x0a\x04eric"))
	chunked := base64.StdEncoding.EncodeToString(framed[:4]) + base64.StdEncoding.EncodeToString(framed[4:])
	_, replies, _ := textCall(t, servertest.HTTP1Client(t), srv.URL, sayHello, "application/grpc-web-text", chunked)
	assert.Equal(t, replies, []string{"Hello, eric!"}, "chunked request")

	// Errors reach the client as gRPC-Web trailers (here trailers-only: in the headers).
	res, _, trailers := textCall(t, servertest.HTTP1Client(t), srv.URL, sayHello, "application/grpc-web-text",
		base64.StdEncoding.EncodeToString(frame(0, 0, nil)))
	assert.Equal(t, res.Header.Get("Grpc-Status")+trailers, "3", "empty name")
	assert.Contains(t, res.Header.Get("Grpc-Message"), "invalid name", "empty name")
	assert.Equal(t, res.Header.Get("Content-Type"), "application/grpc-web-text+proto", "Content-Type of an error")

	res, _, trailers = textCall(t, servertest.HTTP1Client(t), srv.URL, sayHello, "application/grpc-web-text", "AAAA!!!!")
	assert.Equal(t, res.Header.Get("Grpc-Status")+trailers, "3", "invalid base64 is invalid_argument")
	assert.Contains(t, res.Header.Get("Grpc-Message")+trailers, "invalid base64", "message")

	// The size limit applies to the decoded bytes: 1 KiB here.
	big := append([]byte{0x0a, 0x80, 0x10}, bytes.Repeat([]byte("x"), 2048)...)
	res, _, trailers = textCall(t, servertest.HTTP1Client(t), srv.URL, sayHello, "application/grpc-web-text",
		base64.StdEncoding.EncodeToString(frame(0, len(big), big)))
	assert.Equal(t, res.Header.Get("Grpc-Status")+trailers, "8", "oversized decoded message is resource_exhausted")
}
