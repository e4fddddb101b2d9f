package greeter_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/assert"
	"github.com/hellorpc/hellorpc/internal/greeter"
)

func TestValidateName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"simple", "eric", ""},
		{"unicode", "世界", ""},
		{"exactly the limit in code points", strings.Repeat("é", greeter.MaxNameLength), ""},
		{"empty", "", "invalid name: name must not be empty"},
		{"one past the limit", strings.Repeat("a", greeter.MaxNameLength+1), "invalid name: name must be at most 100 characters, got 101"},
		{"invalid UTF-8", "er\xffic", "invalid name: name must be valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := greeter.ValidateName(tt.input)
			if tt.wantErr == "" {
				assert.NoError(t, err, "ValidateName")
				return
			}
			var connectErr *connect.Error
			assert.True(t, errors.As(err, &connectErr), "error is a *connect.Error")
			assert.Equal(t, connectErr.Code(), connect.CodeInvalidArgument, "code")
			assert.Equal(t, connectErr.Message(), tt.wantErr, "message")
			assert.Equal(t, len(connectErr.Details()), 1, "details")
			assert.Equal(t, connectErr.Details()[0].Type(), "google.rpc.BadRequest", "detail type")
		})
	}
}

func TestSayHello(t *testing.T) {
	t.Parallel()
	g := greeter.New(greeter.Options{})
	reply, err := g.SayHello(context.Background(), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "SayHello")
	assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")

	_, err = g.SayHello(context.Background(), &rpc.HelloRequest{})
	assert.Equal(t, connect.CodeOf(err), connect.CodeInvalidArgument, "code for an empty name")
}

func ExampleGreeter_SayHello() {
	reply, err := greeter.New(greeter.Options{}).SayHello(context.Background(), &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		panic(err)
	}
	fmt.Println(reply.GetMessage())
	// Output: Hello, eric!
}

func ExampleValidateName() {
	err := greeter.ValidateName("")
	fmt.Println(connect.CodeOf(err))
	fmt.Println(err)
	// Output:
	// invalid_argument
	// invalid_argument: invalid name: name must not be empty
}
