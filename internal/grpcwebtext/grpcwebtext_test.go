package grpcwebtext_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/internal/grpcwebtext"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// echo is a binary gRPC-Web stand-in: it records the request it got and
// writes its body back in two flushed parts.
type echo struct {
	contentType string
	body        []byte
	err         error
}

func (e *echo) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.contentType = r.Header.Get("Content-Type")
	e.body, e.err = io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/grpc-web+proto")
	half := len(e.body) / 2
	_, _ = w.Write(e.body[:half])
	w.(http.Flusher).Flush()
	_, _ = w.Write(e.body[half:])
}

// splitReader returns its data in pieces of at most n bytes.
type splitReader struct {
	data []byte
	n    int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), s.n, len(s.data))
	copy(p, s.data[:n])
	s.data = s.data[n:]
	return n, nil
}

// chunkRecorder records every Write to the underlying connection separately.
type chunkRecorder struct {
	*httptest.ResponseRecorder
	chunks []string
}

func (c *chunkRecorder) Write(p []byte) (int, error) {
	c.chunks = append(c.chunks, string(p))
	return c.ResponseRecorder.Write(p)
}

func serve(t *testing.T, body io.Reader, contentType string) (*echo, *chunkRecorder) {
	t.Helper()
	e := &echo{}
	req := httptest.NewRequest(http.MethodPost, "/svc/Method", body)
	req.Header.Set("Content-Type", contentType)
	rec := &chunkRecorder{ResponseRecorder: httptest.NewRecorder()}
	grpcwebtext.Handler(e).ServeHTTP(rec, req)
	return e, rec
}

func TestDecodesBase64SplitAtEveryByte(t *testing.T) {
	t.Parallel()
	payload := []byte("\x00\x00\x00\x00\x06\x0a\x04eric and some more bytes \xff\xfe")
	encoded := base64.StdEncoding.EncodeToString(payload)
	for split := 1; split <= len(encoded); split++ {
		e, _ := serve(t, &splitReader{[]byte(encoded), split}, "application/grpc-web-text")
		assert.NoError(t, e.err, "read")
		assert.Equal(t, e.body, payload, "decoded body, split every "+string(rune('0'+split%10)))
		assert.Equal(t, e.contentType, "application/grpc-web+proto", "Content-Type the next handler sees")
	}
}

func TestDecodesIndependentlyPaddedChunks(t *testing.T) {
	t.Parallel()
	parts := [][]byte{[]byte("a"), []byte("bc"), []byte("def"), []byte("ghij"), {0, 0x80, 0xff}}
	var encoded string
	var want []byte
	for _, p := range parts {
		encoded += base64.StdEncoding.EncodeToString(p) // "YQ==" "YmM=" …: padding inside the body
		want = append(want, p...)
	}
	for split := 1; split <= 7; split++ {
		e, _ := serve(t, &splitReader{[]byte(encoded), split}, "application/grpc-web-text+proto")
		assert.NoError(t, e.err, "read")
		assert.Equal(t, e.body, want, "decoded chunks")
	}
}

func TestEmptyBody(t *testing.T) {
	t.Parallel()
	e, rec := serve(t, strings.NewReader(""), "application/grpc-web-text")
	assert.NoError(t, e.err, "read")
	assert.Equal(t, len(e.body), 0, "decoded length")
	assert.Equal(t, rec.Body.String(), "", "response body")
	assert.Equal(t, rec.Header().Get("Content-Type"), "application/grpc-web-text+proto", "response Content-Type")
}

func TestLargeMessage(t *testing.T) {
	t.Parallel()
	payload := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 200_000) // 3.6 MB
	e, rec := serve(t, strings.NewReader(base64.StdEncoding.EncodeToString(payload)), "application/grpc-web-text")
	assert.NoError(t, e.err, "read")
	assert.True(t, bytes.Equal(e.body, payload), "decoded large body")
	var echoed []byte
	for _, chunk := range rec.chunks {
		b, err := base64.StdEncoding.DecodeString(chunk)
		assert.NoError(t, err, "each chunk decodes on its own")
		echoed = append(echoed, b...)
	}
	assert.True(t, bytes.Equal(echoed, payload), "encoded response")
}

func TestInvalidBase64(t *testing.T) {
	t.Parallel()
	for body, offset := range map[string]string{
		"AAAA!AAA":  "byte 4",
		"AAAAAAA":   "byte 7", // ends inside a group
		"AA==AA=A":  "byte 4",
		"AAAA\nAAA": "byte 4",
	} {
		e, _ := serve(t, strings.NewReader(body), "application/grpc-web-text")
		var connectErr *connect.Error
		assert.True(t, errors.As(e.err, &connectErr), "error for "+body+" is a *connect.Error")
		assert.Equal(t, connectErr.Code(), connect.CodeInvalidArgument, "code for "+body)
		assert.Contains(t, connectErr.Message(), "invalid base64 in grpc-web-text request body at "+offset, "message for "+body)
	}
}

func TestEachFlushIsOneDecodableChunk(t *testing.T) {
	t.Parallel()
	payload := []byte("\x00\x00\x00\x00\x01A\x80\x00\x00\x00\x0fgrpc-status: 0\r\n")
	_, rec := serve(t, strings.NewReader(base64.StdEncoding.EncodeToString(payload)), "application/grpc-web-text")
	assert.Equal(t, len(rec.chunks), 2, "chunks: one per flush, one at the end")
	var joined []byte
	for _, chunk := range rec.chunks {
		assert.True(t, len(chunk)%4 == 0, "chunk is whole base64 quanta")
		b, err := base64.StdEncoding.DecodeString(chunk)
		assert.NoError(t, err, "chunk decodes on its own")
		joined = append(joined, b...)
	}
	assert.Equal(t, joined, payload, "the chunks together")
}

func TestOtherContentTypesPassThroughUntouched(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"application/grpc-web+proto", "application/grpc", "application/json", "", "application/grpc-web-textual"} {
		e, rec := serve(t, strings.NewReader("AAAA"), ct)
		assert.Equal(t, string(e.body), "AAAA", "body for "+ct)
		assert.Equal(t, rec.Body.String(), "AAAA", "response for "+ct)
		assert.Equal(t, rec.Header().Get("Content-Type"), "application/grpc-web+proto", "response Content-Type for "+ct)
	}
}

// BenchmarkPassThrough shows that requests of other Content-Types cost the
// middleware no allocation: compare allocs/op of the two sub-benchmarks.
func BenchmarkPassThrough(b *testing.B) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	req := httptest.NewRequest(http.MethodPost, "/svc/Method", nil)
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	w := httptest.NewRecorder()
	for name, h := range map[string]http.Handler{"bare": next, "wrapped": grpcwebtext.Handler(next)} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

func TestPassThroughAllocatesNothing(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	h := grpcwebtext.Handler(next)
	req := httptest.NewRequest(http.MethodPost, "/svc/Method", nil)
	req.Header.Set("Content-Type", "application/grpc-web+proto")
	w := httptest.NewRecorder()
	allocs := testing.AllocsPerRun(100, func() { h.ServeHTTP(w, req) })
	assert.Equal(t, allocs, 0.0, "allocations per pass-through request")
}
