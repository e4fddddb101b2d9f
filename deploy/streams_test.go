package deploy_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
)

// testStreams checks that the balancer's short timeout for a greeting
// applies to greetings only: in gRPC (h2c) and Connect (HTTP/1.1), a
// server stream (LotsOfReplies, a reply every 400 ms) and a client stream
// whose client pauses longer than that timeout between names
// (LotsOfGreetings) go through whole.
func testStreams(ctx context.Context, t *testing.T, d *deployment) {
	h2c, h1 := httpClients()
	clients := map[string]rpc_packageconnect.HelloWorldServiceClient{
		"grpc":         rpc_packageconnect.NewHelloWorldServiceClient(h2c, d.lb.grpcURL, connect.WithGRPC()),
		"connect-json": rpc_packageconnect.NewHelloWorldServiceClient(h1, d.lb.http1URL, connect.WithProtoJSON()),
	}
	errs := make(chan error, 2*len(clients))
	for name, c := range clients {
		go func() { errs <- serverStream(ctx, c, name) }()
		go func() { errs <- clientStream(ctx, c, name, d.lb.greetingTimeout+200*time.Millisecond) }()
	}
	for range 2 * len(clients) {
		if err := <-errs; err != nil {
			t.Errorf("%s: %v", d.lb.name, err)
		}
	}
}

func serverStream(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, name string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		return fmt.Errorf("%s LotsOfReplies: %w", name, err)
	}
	defer stream.Close()
	n := 0
	for stream.Receive() {
		n++
	}
	if want := len(greeter.Greetings("eric")); stream.Err() != nil || n != want {
		return fmt.Errorf("%s LotsOfReplies: %d replies of %d, then %v", name, n, want, stream.Err())
	}
	return nil
}

func clientStream(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, name string, pause time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stream, err := c.LotsOfGreetings(ctx)
	if err != nil {
		return fmt.Errorf("%s LotsOfGreetings: %w", name, err)
	}
	for i, who := range []string{"eric", "ada"} {
		if i > 0 {
			time.Sleep(pause)
		}
		if err := stream.Send(&rpc.HelloRequest{Name: who}); err != nil {
			return fmt.Errorf("%s LotsOfGreetings: send %q: %w", name, who, err)
		}
	}
	if _, err := stream.CloseAndReceive(); err != nil {
		return fmt.Errorf("%s LotsOfGreetings, %v between names: %w", name, pause, err)
	}
	return nil
}
