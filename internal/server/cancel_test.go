package server_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestClientsThatCancelAtTheirDeadlineAreNotCut: a client whose calls all
// outlive their 50 ms deadline (the handler is slower than that) cancels
// each one, and its HTTP/2 transport resets the stream (RST_STREAM CANCEL),
// as grpc-go and connect-go clients do under overload. 640 such calls on one
// connection are resets of most of its streams; they are no rapid reset
// (each stream lived its deadline), so the flood guard must not cut the
// connection: every call ends deadline_exceeded, none unavailable, and no
// connection is counted flooded. Rapid reset (HEADERS and RST_STREAM at
// once) is still cut: TestHTTP2FloodsGetEnhanceYourCalm/rapid_reset.
func TestClientsThatCancelAtTheirDeadlineAreNotCut(t *testing.T) {
	t.Parallel()
	const workers, callsEach, deadline = 16, 40, 50 * time.Millisecond
	for _, tc := range []struct {
		name string
		opts []connect.ClientOption
	}{
		{"gRPC", []connect.ClientOption{connect.WithGRPC()}},
		{"Connect", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := metrics.New()
			slow := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
			srv := servertest.Start(t, server.Config{Metrics: m, Greeter: greeter.Options{Pace: slow}})
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, tc.opts...)
			var (
				mu    sync.Mutex
				codes = map[connect.Code]int{}
				wg    sync.WaitGroup
			)
			for range workers {
				wg.Go(func() {
					for range callsEach {
						code := callPastItsDeadline(t.Context(), client, deadline)
						mu.Lock()
						codes[code]++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("codes of %d calls: %v", workers*callsEach, codes)
			assert.Equal(t, codes[connect.CodeDeadlineExceeded], workers*callsEach,
				fmt.Sprintf("calls that ended deadline_exceeded (all codes: %v)", codes))
			assert.Equal(t, scrape(t, m.Handler())["hellorpc_connections_flooded_total"], float64(0),
				"connections the flood guard cut")
		})
	}
}

// callPastItsDeadline calls LotsOfReplies, whose replies after the first
// never come, with deadline, reads until the call ends and returns its code.
func callPastItsDeadline(parent context.Context, client rpc_packageconnect.HelloWorldServiceClient, deadline time.Duration) connect.Code {
	ctx, cancel := context.WithTimeout(parent, deadline)
	defer cancel()
	stream, err := client.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		return connect.CodeOf(err)
	}
	defer stream.Close()
	for stream.Receive() {
	}
	return connect.CodeOf(stream.Err())
}
