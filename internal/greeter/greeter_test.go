package greeter_test

import (
	"context"
	"fmt"
	"testing"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func TestSayHello(t *testing.T) {
	t.Parallel()
	g := greeter.New(greeter.Options{})
	reply, err := g.SayHello(context.Background(), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "SayHello")
	assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
}

func ExampleGreeter_SayHello() {
	reply, err := greeter.New(greeter.Options{}).SayHello(context.Background(), &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		panic(err)
	}
	fmt.Println(reply.GetMessage())
	// Output: Hello, eric!
}
