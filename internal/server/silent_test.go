package server_test

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// silentConn is a raw h2c connection whose streams send request headers and
// nothing more.
type silentConn struct {
	answered atomic.Int64 // streams the server ended (HEADERS with END_STREAM)
	closed   atomic.Bool  // the server closed the connection
}

// openSilent dials addr and opens n gRPC streams to path, each HEADERS
// without END_STREAM and no body; the streams the server ends are counted in
// answered too, unless it is nil.
func openSilent(t *testing.T, addr, path string, n int, answered *atomic.Int64) *silentConn {
	t.Helper()
	s := &silentConn{}
	conn, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial "+addr)
	t.Cleanup(func() { conn.Close() })
	go func() {
		defer s.closed.Store(true)
		r := bufio.NewReader(conn)
		for {
			f, err := h2frame.Read(r)
			if err != nil {
				return
			}
			if f.Type == h2frame.Headers && f.Flags&h2frame.EndStream != 0 {
				s.answered.Add(1)
				if answered != nil {
					answered.Add(1)
				}
			}
		}
	}()
	w := bufio.NewWriter(conn)
	_, _ = w.WriteString(h2frame.Preface)
	_ = h2frame.Write(w, h2frame.Settings, 0, 0, nil)
	block := grpcBlock(addr, path)
	for i := range n {
		err := h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, uint32(2*i+1), block)
		assert.NoError(t, err, "HEADERS of silent stream "+strconv.Itoa(i))
	}
	assert.NoError(t, w.Flush(), "send the silent streams")
	return s
}

// grpcBlock returns the header block of a gRPC request to path on addr,
// without HPACK indexing.
func grpcBlock(addr, path string) []byte {
	block := []byte{0x83, 0x86} // :method POST, :scheme http
	block = append(block, h2frame.Literal(":path", path)...)
	block = append(block, h2frame.Literal(":authority", addr)...)
	block = append(block, h2frame.Literal("content-type", "application/grpc")...)
	return append(block, h2frame.Literal("te", "trailers")...)
}

// newClientServed calls SayHello on a new connection, again as long as it
// is refused, for at most 10 s, and returns the calls it took.
func newClientServed(t *testing.T, url string) (int, error) {
	t.Helper()
	var err error
	for attempt := 1; ; attempt++ {
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), url, connect.WithGRPC())
		call, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		var reply *rpc.HelloReply
		reply, err = client.SayHello(call, &rpc.HelloRequest{Name: "eric"})
		cancel()
		if err == nil {
			assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
			return attempt, nil
		}
		if attempt >= 50 {
			return attempt, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestSilentConnectionsAreEvictedAtTheLimit is issue #23's "silent
// connections count as idle": with -max-connections 4 held by 4 connections
// whose client streams send HEADERS and nothing more (neither the body
// timeout nor the idle timeout ends those soon), a new client is still
// served: once nothing has moved on them for the body timeout, the silent
// longest is closed for it. On main every new connection was refused for as
// long as the silent ones were held.
func TestSilentConnectionsAreEvictedAtTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 4
	m := metrics.New()
	srv := servertest.Start(t, server.Config{MaxConnections: limit, BodyTimeout: 500 * time.Millisecond, StreamIdleTimeout: time.Hour, Metrics: m})
	addr := srv.Listener.Addr().String()
	silent := make([]*silentConn, limit)
	for i := range silent {
		silent[i] = openSilent(t, addr, rpc_packageconnect.HelloWorldServiceLotsOfGreetingsProcedure, 2, nil)
	}
	// The silent calls are in flight: every connection is busy.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if scrape(t, m.Handler())["hellorpc_calls_in_flight"] == 2*limit {
			break
		}
	}
	assert.Equal(t, scrape(t, m.Handler())["hellorpc_calls_in_flight"], float64(2*limit), "silent calls in flight")
	attempts, err := newClientServed(t, srv.URL)
	assert.NoError(t, err, "a new client is served within "+strconv.Itoa(attempts)+" attempts while "+strconv.Itoa(limit)+" silent connections hold the limit")
	closed := 0
	for _, s := range silent {
		if s.closed.Load() {
			closed++
		}
		assert.Equal(t, s.answered.Load(), int64(0), "no silent stream is ended by a timeout")
	}
	t.Logf("served on attempt %d; silent connections closed: %d of %d", attempts, closed, limit)
	assert.True(t, closed >= 1, "a silent connection was closed to make room")
}

// TestMovingConnectionsAreNotEvicted is the other side: connections whose
// streams move a message every 100 ms (the silence needed is 2 s) are busy,
// not silent; a new client at the limit is refused and every stream goes on.
func TestMovingConnectionsAreNotEvicted(t *testing.T) {
	t.Parallel()
	const limit = 2
	srv := servertest.Start(t, server.Config{MaxConnections: limit, BodyTimeout: 2 * time.Second, StreamIdleTimeout: time.Hour})
	streams := make([]*connect.BidiStreamForClientSimple[rpc.HelloRequest, rpc.HelloReply], limit)
	for i := range streams {
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
		stream, err := client.BidiHello(ctx(t))
		assert.NoError(t, err, "BidiHello")
		t.Cleanup(func() { _ = stream.CloseResponse() })
		streams[i] = stream
	}
	// 4 s: twice the silence a connection needs to be evicted.
	refused := 0
	for round := range 40 {
		for i, stream := range streams {
			assert.NoError(t, stream.Send(&rpc.HelloRequest{Name: "eric"}), "send on stream "+strconv.Itoa(i)+" in round "+strconv.Itoa(round))
			_, err := stream.Receive()
			assert.NoError(t, err, "reply on stream "+strconv.Itoa(i)+" in round "+strconv.Itoa(round))
		}
		if round%10 == 9 {
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
			call, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			if _, err := client.SayHello(call, &rpc.HelloRequest{Name: "eric"}); err != nil {
				refused++
			}
			cancel()
		}
		time.Sleep(100 * time.Millisecond)
	}
	assert.Equal(t, refused, 4, "new clients refused while every connection moves")
}
