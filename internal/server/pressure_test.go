package server_test

import (
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
)

// TestSilentClientsYieldTheirSlotsUnderPressure spreads silent calls over
// enough connections that each stays within its share and together they
// take every in-flight slot (issue #23: 20 connections × 32 silent client
// streams held all 256 slots for the 60 s of -stream-idle-timeout): unary
// calls whose body never comes and client streams that send no message,
// the body and idle timeouts an hour off. While every slot is taken, the
// server ends a call that waits on a silent client (resource_exhausted),
// one at a time as long as they are, and callers that move are served.
func TestSilentClientsYieldTheirSlotsUnderPressure(t *testing.T) {
	t.Parallel()
	const conns, perConn, inflight = 8, 2, 8
	m := metrics.New()
	srv := servertest.Start(t, server.Config{
		MaxInflight: inflight, MaxInflightPerConn: perConn,
		BodyTimeout: time.Hour, StreamIdleTimeout: time.Hour, Metrics: m,
	})
	addr := srv.Listener.Addr().String()
	var answered atomic.Int64
	for i := range conns {
		path := sayHello
		if i%2 == 1 {
			path = rpc_packageconnect.HelloWorldServiceLotsOfGreetingsProcedure
		}
		openSilent(t, addr, path, perConn, &answered)
	}
	// Half are refused or shed at once (every slot taken); of the other
	// half, held, one yields once silent for a second while every slot is
	// taken (and the next as soon as they all are again).
	want := int64(conns*perConn - inflight + 1)
	for i := 0; i < 3000 && answered.Load() < want; i++ { // at most 30 s
		time.Sleep(10 * time.Millisecond)
	}
	assert.True(t, answered.Load() >= want, "silent calls the server ended: "+
		strconv.FormatInt(answered.Load(), 10)+", want at least "+strconv.FormatInt(want, 10))

	assert.True(t, scrape(t, m.Handler())["hellorpc_calls_yielded_total"] >= 1, "hellorpc_calls_yielded_total counts the call that yielded")

	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	for i := range 5 {
		reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "call "+strconv.Itoa(i+1)+" after a silent one yielded")
		assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
	}
}

// TestMovingCallsKeepTheirSlotsUnderPressure holds every slot with client
// streams that send a name every 300 ms, for twice the silence that
// pressure allows in all: the server waits on each client between its
// messages, but bytes move, so none is ended.
func TestMovingCallsKeepTheirSlotsUnderPressure(t *testing.T) {
	t.Parallel()
	const inflight, names = 4, 7
	srv := servertest.Start(t, server.Config{MaxInflight: inflight, MaxInflightPerConn: -1})
	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL)
	done := make(chan error, inflight)
	for range inflight {
		go func() {
			stream, err := client.LotsOfGreetings(ctx(t))
			if err != nil {
				done <- err
				return
			}
			for i := range names {
				if i > 0 {
					time.Sleep(300 * time.Millisecond)
				}
				if err := stream.Send(&rpc.HelloRequest{Name: "eric"}); err != nil {
					_, err = stream.CloseAndReceive()
					done <- err
					return
				}
			}
			_, err = stream.CloseAndReceive()
			done <- err
		}()
	}
	for range inflight {
		assert.NoError(t, <-done, "a client stream that kept sending while every slot was taken")
	}
}
