package greeter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
)

// greetings are the replies of LotsOfReplies, in order; %s is the name.
var greetings = []string{
	"Hello, %s!",
	"Bonjour, %s !",
	"¡Hola, %s!",
	"Hallo, %s!",
	"Ciao, %s!",
	"你好，%s！",
	"こんにちは、%sさん！",
}

// Greetings returns the replies of LotsOfReplies for name, in order.
func Greetings(name string) []string {
	out := make([]string, len(greetings))
	for i, format := range greetings {
		out[i] = fmt.Sprintf(format, name)
	}
	return out
}

// LotsOfReplies sends the greetings for req.Name one by one, pausing between
// them as Options says, and stops early when the call ends.
func (g *Greeter) LotsOfReplies(ctx context.Context, req *rpc.HelloRequest, stream *connect.ServerStream[rpc.HelloReply]) error {
	for i, message := range Greetings(req.GetName()) {
		if i > 0 {
			if err := g.opts.Pace(ctx, i); err != nil {
				return err
			}
		}
		if err := stream.Send(&rpc.HelloReply{Message: message}); err != nil {
			return err
		}
	}
	return nil
}

// LotsOfGreetings reads every name of the client stream and greets them all
// at once.
func (g *Greeter) LotsOfGreetings(_ context.Context, stream *connect.ClientStream[rpc.HelloRequest]) (*rpc.HelloReply, error) {
	var names []string
	for stream.Receive() {
		if err := g.checkCount(len(names) + 1); err != nil {
			return nil, err
		}
		names = append(names, stream.Msg().GetName())
	}
	if err := stream.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("no names received: send at least one"))
	}
	return &rpc.HelloReply{Message: Greeting(joinNames(names))}, nil
}

// BidiHello greets each name of the client stream as soon as it arrives.
func (g *Greeter) BidiHello(_ context.Context, stream *connect.BidiStream[rpc.HelloRequest, rpc.HelloReply]) error {
	for n := 1; ; n++ {
		req, err := stream.Receive()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := g.checkCount(n); err != nil {
			return err
		}
		if err := stream.Send(&rpc.HelloReply{Message: Greeting(req.GetName())}); err != nil {
			return err
		}
	}
}

// checkCount checks the n-th message of a client stream (counting from 1)
// against the cap on messages. Each name's rule was checked as it was
// received (internal/validation).
func (g *Greeter) checkCount(n int) error {
	if n > g.opts.MaxStreamMessages {
		return connect.NewError(connect.CodeResourceExhausted,
			fmt.Errorf("too many names: at most %d messages per stream", g.opts.MaxStreamMessages))
	}
	return nil
}

// joinNames joins names as English does: "a", "a and b", "a, b and c".
func joinNames(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
