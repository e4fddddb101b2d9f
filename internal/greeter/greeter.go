// Package greeter implements rpc_package.HelloWorldService, the greeting
// service of the gRPC Python tutorial: it greets the names it is given, once (SayHello), in a series of languages (LotsOfReplies), all
// together (LotsOfGreetings) or one by one as they arrive (BidiHello).
//
// The names' rule is declared in the proto and enforced before a message
// reaches the greeter (internal/validation); the greeter caps only how many
// names a client stream may send. It knows nothing of HTTP or of the
// protocol a call arrived in;
// connect-go turns its errors into the right code for gRPC, gRPC-Web and
// Connect clients alike.
package greeter

import (
	"context"
	"time"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// DefaultMaxStreamMessages is the default of Options.MaxStreamMessages.
const DefaultMaxStreamMessages = 1000

// Options configure a Greeter. The zero value is valid.
type Options struct {
	// ReplyInterval spaces the replies of LotsOfReplies, so that a person
	// sees them arrive one by one. Default 0: no pause.
	ReplyInterval time.Duration

	// MaxStreamMessages caps the names that one client stream may send;
	// past it the call ends with resource_exhausted.
	// Default DefaultMaxStreamMessages (1000).
	MaxStreamMessages int

	// Pace, when set, is called between two replies of LotsOfReplies, with
	// the number of replies sent so far, instead of waiting ReplyInterval;
	// an error it returns ends the stream. Tests use it to hold a stream at a
	// known point. Default nil.
	Pace func(ctx context.Context, sent int) error
}

// Greeter answers the RPCs of rpc_package.HelloWorldService.
// The zero value is not usable; call New.
type Greeter struct {
	opts Options
}

var _ rpc_packageconnect.HelloWorldServiceHandler = (*Greeter)(nil)

// New returns a Greeter with opts.
func New(opts Options) *Greeter {
	if opts.MaxStreamMessages <= 0 {
		opts.MaxStreamMessages = DefaultMaxStreamMessages
	}
	if opts.Pace == nil {
		opts.Pace = sleep(opts.ReplyInterval)
	}
	return &Greeter{opts: opts}
}

// SayHello greets req.Name. The name's rule is the proto's, enforced before
// the call reaches the greeter (internal/validation).
func (g *Greeter) SayHello(_ context.Context, req *rpc.HelloRequest) (*rpc.HelloReply, error) {
	return &rpc.HelloReply{Message: Greeting(req.GetName())}, nil
}

// Greeting returns the greeting for name: "Hello, <name>!".
func Greeting(name string) string {
	return "Hello, " + name + "!"
}

// sleep returns a Pace that waits d, or less if ctx ends first.
func sleep(d time.Duration) func(context.Context, int) error {
	return func(ctx context.Context, _ int) error {
		if d <= 0 {
			return ctx.Err()
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return nil
		}
	}
}
