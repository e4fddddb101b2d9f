package validation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/validation"
)

// interceptor is built once: compiling the rules takes milliseconds.
var interceptor = sync.OnceValues(func() (connect.Interceptor, error) {
	return validation.New(&rpc.HelloRequest{})
})

// sayHello calls a unary handler that answers "ok" through the interceptor.
func sayHello(t testing.TB, name string) error {
	t.Helper()
	interceptor, err := interceptor()
	assert.NoError(t, err, "validation.New")
	reached := false
	call := interceptor.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		reached = true
		return connect.NewResponse(&rpc.HelloReply{Message: "ok"}), nil
	})
	_, err = call(context.Background(), connect.NewRequest(&rpc.HelloRequest{Name: name}))
	if err == nil && !reached {
		t.Fatalf("name %q: no error, but the handler was not called", name)
	}
	if err != nil && reached {
		t.Fatalf("name %q: error %v, but the handler was called", name, err)
	}
	return err
}

func TestRulesOfHelloRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		label, name, wantErr string
	}{
		{"simple", "eric", ""},
		{"unicode", "世界", ""},
		{"exactly the limit in code points", strings.Repeat("é", 100), ""},
		{"emoji count once each", strings.Repeat("😀", 100), ""},
		{"empty", "", "invalid name: name must not be empty"},
		{"one past the limit", strings.Repeat("a", 101), "invalid name: name must be at most 100 characters, got 101"},
		{"combining marks count", strings.Repeat("e\u0301", 51), "invalid name: name must be at most 100 characters, got 102"},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			err := sayHello(t, tt.name)
			if tt.wantErr == "" {
				assert.NoError(t, err, "valid name")
				return
			}
			assertContract(t, err, tt.wantErr)
		})
	}
}

// assertContract checks err against the wire contract: invalid_argument,
// the message, a google.rpc.BadRequest naming the field with the message's
// description, then buf.validate.Violations.
func assertContract(t testing.TB, err error, wantMessage string) {
	t.Helper()
	var connectErr *connect.Error
	assert.True(t, errors.As(err, &connectErr), "error is a *connect.Error")
	assert.Equal(t, connectErr.Code(), connect.CodeInvalidArgument, "code")
	assert.Equal(t, connectErr.Message(), wantMessage, "message")
	details := connectErr.Details()
	assert.Equal(t, len(details), 2, "details")
	badRequest, err := details[0].Value()
	assert.NoError(t, err, "decode the first detail")
	violations, ok := badRequest.(*errdetails.BadRequest)
	assert.True(t, ok, "first detail is a google.rpc.BadRequest")
	assert.Equal(t, len(violations.GetFieldViolations()), 1, "field violations")
	assert.Equal(t, violations.GetFieldViolations()[0].GetField(), "name", "field")
	assert.Equal(t, "invalid name: "+violations.GetFieldViolations()[0].GetDescription(), wantMessage, "description")
	second, err := details[1].Value()
	assert.NoError(t, err, "decode the second detail")
	_, ok = second.(*validate.Violations)
	assert.True(t, ok, "second detail is a buf.validate.Violations")
}

// FuzzRules checks the interceptor against the rule the proto states: a
// name (valid UTF-8: decoding refuses anything else before the rules) is
// accepted when it has 1 to 100 code points, and refused otherwise in the
// wire contract's shape.
func FuzzRules(f *testing.F) {
	for _, seed := range []string{"eric", "", "世界", strings.Repeat("é", 100), strings.Repeat("é", 101), "\x00", "e\u0301"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			t.Skip("invalid UTF-8 never reaches the rules")
		}
		err := sayHello(t, name)
		n := utf8.RuneCountInString(name)
		switch {
		case n == 0:
			assertContract(t, err, "invalid name: name must not be empty")
		case n > 100:
			assertContract(t, err, fmt.Sprintf("invalid name: name must be at most 100 characters, got %d", n))
		default:
			assert.NoError(t, err, "valid name")
		}
	})
}

func ExampleNew() {
	interceptor, err := validation.New(&rpc.HelloRequest{})
	if err != nil {
		panic(err)
	}
	call := interceptor.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		return connect.NewResponse(&rpc.HelloReply{Message: "Hello!"}), nil
	})
	_, err = call(context.Background(), connect.NewRequest(&rpc.HelloRequest{Name: ""}))
	fmt.Println(connect.CodeOf(err))
	fmt.Println(err)
	// Output:
	// invalid_argument
	// invalid_argument: invalid name: name must not be empty
}

// TestValidatesOnlyTheTypesItIsGiven serves SayHello, whose request is a
// HelloRequest, through connect-go with an interceptor given HelloRequest
// and with one given no type: only the first refuses an empty name, so a
// service mounted beside the greeter is left to its own rules.
func TestValidatesOnlyTheTypesItIsGiven(t *testing.T) {
	t.Parallel()
	none, err := validation.New()
	assert.NoError(t, err, "validation.New()")
	hello, err := interceptor()
	assert.NoError(t, err, "validation.New(HelloRequest)")
	for _, tc := range []struct {
		name        string
		interceptor connect.Interceptor
		want        int
	}{
		{"given HelloRequest", hello, http.StatusBadRequest},
		{"given no type", none, http.StatusOK},
	} {
		_, h := rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(greeter.Options{}), connect.WithInterceptors(tc.interceptor))
		for _, path := range []string{rpc_packageconnect.HelloWorldServiceSayHelloProcedure, rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure} {
			body, contentType := `{"name":""}`, "application/json"
			if path == rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure { // a stream: one enveloped message
				body, contentType = "\x00\x00\x00\x00\x0b"+body, "application/connect+json"
			}
			req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
			req.Header.Set("Content-Type", contentType)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			refused := w.Code == http.StatusBadRequest || strings.Contains(w.Body.String(), "invalid_argument")
			assert.Equal(t, refused, tc.want == http.StatusBadRequest, fmt.Sprintf("%s, %s with an empty name refused (%d %s)", tc.name, path, w.Code, w.Body))
		}
	}
}
