// Package greeter implements rpc_package.HelloWorldService, the greeting
// service of the gRPC Python tutorial: it checks the name it is given and
// answers "Hello, <name>!".
//
// The greeter knows nothing of HTTP or of the protocol a call arrived in;
// connect-go turns its errors into the right code for gRPC, gRPC-Web and
// Connect clients alike.
package greeter

import (
	"context"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// Greeter answers the RPCs of rpc_package.HelloWorldService.
// The zero value is not usable; call New.
type Greeter struct{}

var _ rpc_packageconnect.HelloWorldServiceHandler = (*Greeter)(nil)

// New returns a Greeter.
func New() *Greeter {
	return &Greeter{}
}

// SayHello greets req.Name, or answers invalid_argument when the name breaks
// the rule described by ValidateName.
func (g *Greeter) SayHello(_ context.Context, req *rpc.HelloRequest) (*rpc.HelloReply, error) {
	if err := ValidateName(req.GetName()); err != nil {
		return nil, err
	}
	return &rpc.HelloReply{Message: Greeting(req.GetName())}, nil
}

// Greeting returns the greeting for name: "Hello, <name>!".
func Greeting(name string) string {
	return "Hello, " + name + "!"
}
