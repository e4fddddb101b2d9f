package main

import (
	"context"
	"errors"
	"io"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// The calls of hello-client, one per RPC: each sends names and hands every
// reply to print as it arrives.

func sayHello(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, names []string, print func(string)) error {
	reply, err := c.SayHello(ctx, &rpc.HelloRequest{Name: names[0]})
	if err != nil {
		return err
	}
	print(reply.GetMessage())
	return nil
}

func lotsOfReplies(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, names []string, print func(string)) error {
	stream, err := c.LotsOfReplies(ctx, &rpc.HelloRequest{Name: names[0]})
	if err != nil {
		return err
	}
	defer stream.Close()
	for stream.Receive() {
		print(stream.Msg().GetMessage())
	}
	return stream.Err()
}

func lotsOfGreetings(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, names []string, print func(string)) error {
	stream, err := c.LotsOfGreetings(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := stream.Send(&rpc.HelloRequest{Name: name}); err != nil {
			break // the server's answer below says why
		}
	}
	reply, err := stream.CloseAndReceive()
	if err != nil {
		return err
	}
	print(reply.GetMessage())
	return nil
}

func bidiHello(ctx context.Context, c rpc_packageconnect.HelloWorldServiceClient, names []string, print func(string)) error {
	stream, err := c.BidiHello(ctx)
	if err != nil {
		return err
	}
	defer stream.CloseResponse()
	for _, name := range names {
		if err := stream.Send(&rpc.HelloRequest{Name: name}); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		reply, err := stream.Receive()
		if err != nil {
			return err
		}
		print(reply.GetMessage())
	}
	if err := stream.CloseRequest(); err != nil {
		return err
	}
	if _, err := stream.Receive(); !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}
