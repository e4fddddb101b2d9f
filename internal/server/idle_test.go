package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// idleConfig is the server of the stream idle timeout's tests: one in-flight
// slot, which a silent stream holds, and no bound but the idle timeout (the
// body timeout and the call cap far off).
func idleConfig() server.Config {
	return server.Config{MaxInflight: 1, BodyTimeout: time.Hour, StreamIdleTimeout: 300 * time.Millisecond}
}

// silentCall sends the request headers of a streaming call to path over
// h2c, then nothing, and returns the code it is answered with (or fails if
// it is not answered within 10 s).
func silentCall(t *testing.T, url, path, contentType string) (code, text string) {
	t.Helper()
	body, stall := io.Pipe()
	t.Cleanup(func() { stall.Close() })
	waiting, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(waiting, http.MethodPost, url+path, body)
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("TE", "trailers")
	res, err := servertest.H2CClient(t).Do(req)
	assert.NoError(t, err, "the silent stream is answered before the client gives up")
	_, code, text = outcome(t, res)
	return code, text
}

// TestStreamIdleTimeoutEndsSilentStreams is issue #23's stream idle timeout:
// a stream on which nothing moves either way ends once it has been idle for
// -stream-idle-timeout and frees its in-flight slot (the server has one).
// On main each of them was held until its client left.
func TestStreamIdleTimeoutEndsSilentStreams(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, path, contentType string }{
		{"client stream sends nothing (gRPC)", rpc_packageconnect.HelloWorldServiceLotsOfGreetingsProcedure, "application/grpc"},
		{"bidi stream sends nothing (Connect)", rpc_packageconnect.HelloWorldServiceBidiHelloProcedure, "application/connect+json"},
		{"health Watch sends nothing (gRPC)", "/grpc.health.v1.Health/Watch", "application/grpc"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, idleConfig())
			code, text := silentCall(t, srv.URL, tt.path, tt.contentType)
			assert.True(t, code == "deadline_exceeded" || strings.Contains(text, `"deadline_exceeded"`),
				"deadline_exceeded, got code "+code+", body "+truncate(text))
			if strings.HasPrefix(tt.path, "/rpc_package") {
				status, reply := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
				assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
			}
		})
	}

	t.Run("server stream whose client does not read (gRPC)", func(t *testing.T) {
		t.Parallel()
		srv := servertest.Start(t, idleConfig())
		reset := make(chan uint32, 1)
		nonReader(t, srv.Listener.Addr().String(), reset, nil)
		select {
		case code := <-reset:
			t.Logf("stream reset with error code %d", code)
		case <-time.After(10 * time.Second):
			t.Fatal("the stream blocked on a client that does not read was not reset within 10 s")
		}
		status, reply := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
		assert.Equal(t, status, http.StatusOK, "the slot is free for another caller: "+reply)
	})

	t.Run("a stream that moves outlives the timeout", func(t *testing.T) {
		t.Parallel()
		// A timeout of 2 s, so that a loaded machine that stalls the
		// client for a moment does not make the stream idle.
		cfg := idleConfig()
		cfg.StreamIdleTimeout = 2 * time.Second
		srv := servertest.Start(t, cfg)
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
		stream, err := client.BidiHello(ctx(t))
		assert.NoError(t, err, "BidiHello")
		t.Cleanup(func() { _ = stream.CloseResponse() })
		// A message every 50 ms or so, until the stream has lived three
		// timeouts.
		for i, start := 0, time.Now(); time.Since(start) < 3*cfg.StreamIdleTimeout; i++ {
			assert.NoError(t, stream.Send(&rpc.HelloRequest{Name: "eric"}), "send message "+strconv.Itoa(i))
			reply, err := stream.Receive()
			assert.NoError(t, err, "reply "+strconv.Itoa(i))
			assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
			time.Sleep(50 * time.Millisecond)
		}
		assert.NoError(t, stream.CloseRequest(), "close the request")
		_, err = stream.Receive()
		assert.True(t, errors.Is(err, io.EOF), "the stream ends as its client ends it: "+errText(err))
	})
}

// nonReader opens a raw h2c connection to addr that gives the server no
// flow-control window (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE),
// and sends the frames of a call on stream 1 with call (gRPC LotsOfReplies
// when nil): the server's first reply waits on the window. It sends the
// error code of the server's RST_STREAM of stream 1 on reset.
func nonReader(t *testing.T, addr string, reset chan<- uint32, call func(w *bufio.Writer)) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial "+addr)
	t.Cleanup(func() { conn.Close() })
	go func() {
		r := bufio.NewReader(conn)
		for {
			f, err := h2frame.Read(r)
			if err != nil {
				return
			}
			switch {
			case f.Type == h2frame.Settings && f.Flags&h2frame.Ack == 0:
				_ = h2frame.Write(conn, h2frame.Settings, h2frame.Ack, 0, nil)
			case f.Type == h2frame.RSTStream && f.Stream == 1 && len(f.Payload) == 4:
				reset <- uint32(f.Payload[0])<<24 | uint32(f.Payload[1])<<16 | uint32(f.Payload[2])<<8 | uint32(f.Payload[3])
				return
			}
		}
	}()
	w := bufio.NewWriter(conn)
	_, _ = w.WriteString(h2frame.Preface)
	_ = h2frame.Write(w, h2frame.Settings, 0, 0, []byte{0, 4, 0, 0, 0, 0}) // INITIAL_WINDOW_SIZE 0
	if call == nil {
		_ = h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, 1, grpcBlock(addr, rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure))
		_ = h2frame.Write(w, h2frame.Data, h2frame.EndStream, 1, []byte{0, 0, 0, 0, 6, 0x0a, 4, 'e', 'r', 'i', 'c'})
	} else {
		call(w)
	}
	assert.NoError(t, w.Flush(), "send the call")
}
