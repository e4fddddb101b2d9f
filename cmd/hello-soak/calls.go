package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// The calls of the soak: each returns nil when the server answered as it should.

func unary(c rpc_packageconnect.HelloWorldServiceClient, name string) func(context.Context) error {
	return func(ctx context.Context) error {
		reply, err := c.SayHello(ctx, &rpc.HelloRequest{Name: name})
		if err == nil && reply.GetMessage() != "Hello, "+name+"!" {
			err = fmt.Errorf("SayHello: unexpected reply %q", reply.GetMessage())
		}
		return err
	}
}

func invalid(c rpc_packageconnect.HelloWorldServiceClient) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.SayHello(ctx, &rpc.HelloRequest{})
		if connect.CodeOf(err) != connect.CodeInvalidArgument {
			return fmt.Errorf("SayHello with no name: got %v, want invalid_argument", err)
		}
		return nil
	}
}

func replies(c rpc_packageconnect.HelloWorldServiceClient) func(context.Context) error {
	return func(ctx context.Context) error {
		stream, err := c.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
		if err != nil {
			return err
		}
		defer stream.Close()
		n := 0
		for stream.Receive() {
			n++
		}
		if err := stream.Err(); err != nil {
			return err
		}
		if n != 7 {
			return fmt.Errorf("LotsOfReplies: %d replies, want 7", n)
		}
		return nil
	}
}

func greetings(c rpc_packageconnect.HelloWorldServiceClient) func(context.Context) error {
	return func(ctx context.Context) error {
		stream, err := c.LotsOfGreetings(ctx)
		if err != nil {
			return err
		}
		for _, name := range []string{"a", "b", "c"} {
			if err := stream.Send(&rpc.HelloRequest{Name: name}); err != nil {
				break
			}
		}
		reply, err := stream.CloseAndReceive()
		if err == nil && reply.GetMessage() != "Hello, a, b and c!" {
			err = fmt.Errorf("LotsOfGreetings: unexpected reply %q", reply.GetMessage())
		}
		return err
	}
}

func bidi(c rpc_packageconnect.HelloWorldServiceClient) func(context.Context) error {
	return func(ctx context.Context) error {
		stream, err := c.BidiHello(ctx)
		if err != nil {
			return err
		}
		defer stream.CloseResponse()
		for _, name := range []string{"a", "b"} {
			if err := stream.Send(&rpc.HelloRequest{Name: name}); err != nil {
				return err
			}
			if _, err := stream.Receive(); err != nil {
				return err
			}
		}
		if err := stream.CloseRequest(); err != nil {
			return err
		}
		if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
			return fmt.Errorf("BidiHello: want the end of the stream, got %v", err)
		}
		return nil
	}
}
