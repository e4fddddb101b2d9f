package server_test

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// silentStreams opens a raw h2c connection to addr and sends n gRPC SayHello
// HEADERS without END_STREAM and no body; answered counts the streams the
// server ends (a HEADERS frame with END_STREAM: refused or shed).
func silentStreams(t *testing.T, addr string, n int, answered *atomic.Int64) {
	t.Helper()
	openSilent(t, addr, sayHello, n, answered)
}

// TestOneClientCannotTakeEverySlot is finding 2 of issue #23: 3 connections
// of 200 streams that send HEADERS and no body (the body timeout and the
// call cap far off) used to hold all 256 -max-inflight slots, and every
// other caller got resource_exhausted. With each connection bounded to its
// share (64 of 256 by default), a fourth client's SayHello answers. Without
// the share (negative), the same attack holds every slot (the streams past
// them are shed): the test sees the attack.
func TestOneClientCannotTakeEverySlot(t *testing.T) {
	t.Parallel()
	const conns, streams, inflight = 3, 200, 256
	for _, tt := range []struct {
		name    string
		perConn int
		want    connect.Code // of the fourth client's SayHello; 0: OK
	}{
		{"default share", 0, 0},
		{"no share", -1, 0}, // the fourth client not asked: see below
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, server.Config{
				MaxInflight:          inflight,
				MaxInflightPerConn:   tt.perConn,
				MaxConcurrentStreams: 250,
				BodyTimeout:          time.Hour,
			})
			addr := srv.Listener.Addr().String()
			var answered atomic.Int64
			for range conns {
				silentStreams(t, addr, streams, &answered)
			}
			// Every stream past the slots (and their queue) is answered:
			// wait for those answers, so that the attack is in place.
			want := int64(conns*streams - inflight)
			deadline := time.Now().Add(30 * time.Second)
			for answered.Load() < want && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			assert.True(t, answered.Load() >= want, "silent streams ended by the server: "+
				strconv.FormatInt(answered.Load(), 10)+", want at least "+strconv.FormatInt(want, 10))

			if tt.perConn < 0 {
				// Every slot is held: the streams past them were shed. A
				// second on, the silent ones yield their slots one by one
				// (pressure.go), so a fourth client's call is answered or
				// shed by how fast this machine got here: not asserted.
				return
			}
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
			reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
			assert.Equal(t, codeOf(err), tt.want, "the fourth client's SayHello while the silent streams are held ("+errText(err)+")")
			if tt.want == 0 {
				assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
			}
		})
	}
}

// TestCallsPastTheConnectionsShareAreShed holds a connection's share of
// streams: its next call is shed at once, naming the share, while a call on
// another connection is admitted.
func TestCallsPastTheConnectionsShareAreShed(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	srv := servertest.Start(t, server.Config{MaxInflight: 8, MaxInflightPerConn: 2, Greeter: greeter.Options{Pace: forever}})
	held := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL)
	for range 2 {
		stream, err := held.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "LotsOfReplies")
		assert.True(t, stream.Receive(), "first reply of a held stream")
		t.Cleanup(func() { stream.Close() })
	}
	_, err := held.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "a third call on the connection that holds its share")
	assert.Contains(t, err.Error(), "-max-inflight-per-conn", "message names the share")

	other := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL)
	reply, err := other.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "a call on another connection")
	assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply on another connection")
}

func TestDefaultMaxInflightPerConn(t *testing.T) {
	t.Parallel()
	for maxInflight, want := range map[int]int{256: 64, 512: 128, 100: 32, 8: 8, 1: 1} {
		assert.Equal(t, server.DefaultMaxInflightPerConn(maxInflight), want, "share of "+strconv.Itoa(maxInflight))
	}
}

// codeOf is connect.CodeOf, but 0 for no error (CodeOf says unknown).
func codeOf(err error) connect.Code {
	if err == nil {
		return 0
	}
	return connect.CodeOf(err)
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestClientAddressesShareTheSlotsBehindAProxy: a proxy carries clients A
// and B over one connection and names each in a header. A holds its share
// of slots (2) with streams that never end and tries 4 more, which are shed
// at once, naming its address; B, on the same connection, still gets its
// calls served. Without -client-ip-header (the connection is the client),
// A's streams take the connection's share and B is shed: the test sees the
// difference.
func TestClientAddressesShareTheSlotsBehindAProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config, header string
		a, b                 string
		want                 connect.Code // of B's SayHello
		wantShed             string       // in the message of A's shed calls
	}{
		{"X-Forwarded-For, last hop", "X-Forwarded-For", "X-Forwarded-For", "203.0.113.9, 10.0.0.1", "203.0.113.9, 10.0.0.2", 0, "client address 10.0.0.1/32 (X-Forwarded-For)"},
		{"X-Real-IP with a port, IPv6 by /64", "x-real-ip", "X-Real-Ip", "[2001:db8:1:2::1]:4711", "2001:db8:1:3::1", 0, "client address 2001:db8:1:2::/64 (X-Real-Ip)"},
		{"no -client-ip-header", "", "X-Forwarded-For", "10.0.0.1", "10.0.0.2", connect.CodeResourceExhausted, "this connection"},
		{"addresses that are none", "X-Forwarded-For", "X-Forwarded-For", "10.0.0.1, unknown", "for=10.0.0.2", connect.CodeResourceExhausted, "this connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
			srv := servertest.Start(t, server.Config{MaxInflight: 8, MaxInflightPerConn: 2, ClientIPHeader: tc.config,
				Greeter: greeter.Options{Pace: forever}})
			transport := servertest.H2CClient(t).Transport
			as := func(addr string) rpc_packageconnect.HelloWorldServiceClient {
				named := func(h http.Header) { h.Set(tc.header, addr) } // as the proxy does
				hc := &http.Client{Transport: editHeaders{transport, named}}
				return rpc_packageconnect.NewHelloWorldServiceClient(hc, srv.URL, connect.WithGRPC())
			}
			a, b := as(tc.a), as(tc.b)
			for range 2 {
				stream, err := a.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "a"})
				assert.NoError(t, err, "A's LotsOfReplies")
				assert.True(t, stream.Receive(), "first reply of a stream A holds ("+errText(stream.Err())+")")
				t.Cleanup(func() { stream.Close() })
			}
			for range 4 {
				_, err := a.SayHello(ctx(t), &rpc.HelloRequest{Name: "a"})
				assert.Equal(t, codeOf(err), connect.CodeResourceExhausted, "A's call past its share ("+errText(err)+")")
				assert.Contains(t, errText(err), tc.wantShed, "the shed call's message names whose share it is")
			}
			reply, err := b.SayHello(ctx(t), &rpc.HelloRequest{Name: "b"})
			assert.Equal(t, codeOf(err), tc.want, "B's SayHello on the same connection while A holds its share ("+errText(err)+")")
			if tc.want == 0 {
				assert.Equal(t, reply.GetMessage(), "Hello, b!", "B's reply")
			}
		})
	}
}
