package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// logRecords returns the JSON log records of logs with the given message.
func logRecords(t *testing.T, logs *servertest.Buffer, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(logs.String()) {
		var rec map[string]any
		assert.NoError(t, json.Unmarshal([]byte(line), &rec), "log line "+line)
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

func TestAccessLog(t *testing.T) {
	t.Parallel()
	logs := &servertest.Buffer{}
	srv := servertest.Start(t, server.Config{Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	const secretName, secretToken = "Zanzibar-name", "Bearer s3cret-token"
	withToken := connect.WithInterceptors(connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set("Authorization", secretToken)
			return next(ctx, req)
		}
	}))

	grpcClient := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC(), withToken)
	_, err := grpcClient.SayHello(ctx(t), &rpc.HelloRequest{Name: secretName})
	assert.NoError(t, err, "gRPC call")
	_, err = grpcClient.SayHello(ctx(t), &rpc.HelloRequest{})
	assert.Error(t, err, "gRPC call with an empty name")
	webClient := rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithGRPCWeb(), withToken)
	stream, err := webClient.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: secretName})
	assert.NoError(t, err, "gRPC-Web stream")
	for stream.Receive() {
	}
	assert.NoError(t, stream.Err(), "gRPC-Web stream")
	stream.Close()
	status, _ := post(t, servertest.HTTP1Client(t), srv.URL+sayHello, `{"name":""}`)
	assert.Equal(t, status, http.StatusBadRequest, "Connect call with an empty name")
	res, err := servertest.HTTP1Client(t).Get(srv.URL + "/")
	assert.NoError(t, err, "page")
	res.Body.Close()

	srv.WaitIdle(t) // a line is written once its handler returns, which may be after its client has the answer
	records := logRecords(t, logs, "request")
	assert.Equal(t, len(records), 5, "access log lines")
	// In the order of the calls, unless a handler that had answered was
	// slower to return than the next call.
	want := []struct{ protocol, http, code string }{
		{"grpc", "HTTP/2.0", "ok"},
		{"grpc", "HTTP/2.0", "invalid_argument"},
		{"grpcweb", "HTTP/1.1", "ok"},
		{"connect", "HTTP/1.1", "invalid_argument"},
		{"http", "HTTP/1.1", ""},
	}
	for _, w := range want {
		i := slices.IndexFunc(records, func(rec map[string]any) bool {
			return rec["protocol"] == w.protocol && rec["http"] == w.http && (w.code == "" || rec["code"] == w.code)
		})
		assert.True(t, i >= 0, fmt.Sprintf("a line of protocol %s, %s, code %q in %v", w.protocol, w.http, w.code, records))
		rec := records[i]
		records = slices.Delete(records, i, i+1)
		for _, key := range []string{"method", "path", "status", "duration", "bytes_in", "bytes_out"} {
			_, ok := rec[key]
			assert.True(t, ok, "log line has "+key)
		}
		if w.protocol == "grpc" {
			assert.Equal(t, rec["path"], any(sayHello), "path")
		}
		if w.protocol == "grpcweb" {
			assert.True(t, rec["bytes_out"].(float64) > 100, "bytes written by the stream are counted")
		}
	}
	all := logs.String()
	assert.True(t, !strings.Contains(all, secretName), "logs hold no request body")
	assert.True(t, !strings.Contains(all, "s3cret"), "logs hold no header values")
}

func TestPanicInHandlerIsAnInternalErrorForThatCallOnly(t *testing.T) {
	t.Parallel()
	logs := &servertest.Buffer{}
	panicky := func(context.Context, int) error { panic("boom") }
	srv := servertest.Start(t, server.Config{
		Logger:  slog.New(slog.NewJSONHandler(logs, nil)),
		Greeter: greeter.Options{Pace: panicky},
	})
	for _, f := range streamForms() {
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
		stream, err := client.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "LotsOfReplies")
		for stream.Receive() {
		}
		assert.Equal(t, connect.CodeOf(stream.Err()), connect.CodeInternal, f.name+": code after a panic")
		stream.Close()
		reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, f.name+": the next call")
		assert.Equal(t, reply.GetMessage(), "Hello, eric!", "the next reply")
	}
	panics := logRecords(t, logs, "panic in handler")
	assert.Equal(t, len(panics), len(streamForms()), "panics logged")
	assert.Contains(t, panics[0]["stack"].(string), "greeter.(*Greeter).LotsOfReplies", "stack logged")
}

func TestTinyRepliesAreNeverCompressed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello, strings.NewReader(`{"name":"eric"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "Connect call accepting gzip")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, res.Header.Get("Content-Encoding"), "", "Content-Encoding of a tiny reply")
	assert.Equal(t, string(body), `{"message":"Hello, eric!"}`, "reply")

	req, _ = http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello,
		bytes.NewReader(frame(0, 6, []byte("\x0a\x04eric"))))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Grpc-Accept-Encoding", "gzip")
	res, err = servertest.H2CClient(t).Do(req)
	assert.NoError(t, err, "gRPC call accepting gzip")
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	// gRPC may announce gzip for the stream; each tiny message still goes
	// out uncompressed (flag 0).
	assert.True(t, len(body) > 0 && body[0] == 0, "the reply frame is not compressed")
	assert.Equal(t, string(body[5:]), "\x0a\x0cHello, eric!", "reply message")
}

func TestGzipBombIsRefusedWithoutInflating(t *testing.T) {
	srv := servertest.Start(t, server.Config{})
	bomb := gzipBomb(t, 256) // 256 MiB inflated
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+sayHello, bytes.NewReader(bomb))
	req.Header.Set("Content-Type", "application/proto")
	req.Header.Set("Content-Encoding", "gzip")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "bomb")
	status, code, _ := outcome(t, res)
	runtime.ReadMemStats(&after)
	assert.Equal(t, status, http.StatusTooManyRequests, "status")
	assert.Equal(t, code, "resource_exhausted", "code")
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("allocated %d KiB while refusing a %d KiB body that inflates to 256 MiB", allocated>>10, len(bomb)>>10)
	assert.True(t, allocated < 32<<20, "the server did not allocate the inflated size")
}

// rawHTTP sends request on a new TCP connection and returns the status line
// and everything read until the server closes or 10 s pass.
func rawHTTP(t *testing.T, addr, request string) (string, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	defer conn.Close()
	_, err = io.WriteString(conn, request)
	assert.NoError(t, err, "write")
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, _ := io.ReadAll(conn)
	status, _, _ := strings.Cut(string(all), "\r\n")
	return status, string(all)
}

func TestPathTraversalNeverLeavesWeb(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	addr := srv.Listener.Addr().String()
	for _, path := range []string{
		"/../go.mod", "/%2e%2e/go.mod", "/..%2fgo.mod", "/%2e%2e%2fgo.mod", "/static/../../go.mod",
		"/../web/web.go", "/web.go", "/..%5cgo.mod", "/./../../../../etc/passwd", "//etc/passwd", "/static/index.html",
	} {
		status, all := rawHTTP(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		assert.True(t, status != "", path+": an answer")
		assert.True(t, !strings.Contains(status, " 200 "), path+": status "+status)
		for _, leak := range []string{"module github.com", "package web", "root:"} {
			assert.True(t, !strings.Contains(all, leak), path+" leaks "+leak)
		}
	}
}

func TestSlowlorisIsCutOff(t *testing.T) {
	t.Parallel()
	const readHeaderTimeout = 300 * time.Millisecond
	srv := servertest.Start(t, server.Config{ReadHeaderTimeout: readHeaderTimeout})
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	assert.NoError(t, err, "dial")
	defer conn.Close()
	start := time.Now()
	_, err = io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n")
	assert.NoError(t, err, "first header line")
	closed := make(chan time.Duration, 1)
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(time.Minute))
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		closed <- time.Since(start)
	}()
	// One header line every 150 ms for 30 s, never the blank line: the cut
	// comes long before the drip ends, however slow the machine.
	for i := 0; i < 200; i++ {
		time.Sleep(150 * time.Millisecond)
		if _, err := io.WriteString(conn, "X-Drip: a\r\n"); err != nil {
			break
		}
		select {
		case d := <-closed:
			closed <- d
			i = 200
		default:
		}
	}
	d := <-closed
	assert.True(t, d < 10*time.Second, "the server closed the dripping connection (after "+d.String()+")")
	status, _ := post(t, servertest.HTTP1Client(t), srv.URL+sayHello, `{"name":"eric"}`)
	assert.Equal(t, status, http.StatusOK, "valid call afterwards")
}

func TestHTTP2RapidResetBurst(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	addr := srv.Listener.Addr().String()
	conn, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	defer conn.Close()
	go func() { _, _ = io.Copy(io.Discard, conn) }() // the server's frames, GOAWAY included
	w := bufio.NewWriter(conn)
	_, _ = w.WriteString(h2frame.Preface)
	_ = h2frame.Write(w, h2frame.Settings, 0, 0, nil)
	block := grpcRequestBlock(addr)

	// Meanwhile, another client keeps calling.
	var wg sync.WaitGroup
	failures := make(chan error, 100)
	wg.Go(func() {
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
		for range 50 {
			if _, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"}); err != nil {
				failures <- err
			}
			time.Sleep(2 * time.Millisecond)
		}
	})
	const streams = 5000
	sent := 0
	for id := uint32(1); sent < streams; id += 2 {
		if h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, id, block) != nil ||
			h2frame.Write(w, h2frame.RSTStream, 0, id, []byte{0, 0, 0, 8}) != nil { // RST_STREAM(CANCEL)
			break
		}
		sent++
		if sent%100 == 0 && w.Flush() != nil {
			break
		}
	}
	_ = w.Flush()
	wg.Wait()
	close(failures)
	for err := range failures {
		t.Errorf("a well-behaved client failed during the burst: %v", err)
	}
	t.Logf("sent %d HEADERS+RST_STREAM pairs before the server stopped reading or closed", sent)
	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "a call after the burst")
	assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply after the burst")
}
