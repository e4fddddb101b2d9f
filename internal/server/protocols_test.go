package server_test

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"buf.build/gen/go/bufbuild/protovalidate/protocolbuffers/go/buf/validate"
	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/errdetails"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// form is one way of calling SayHello on the wire.
type form struct {
	name        string
	opts        []connect.ClientOption
	http2Only   bool   // gRPC needs HTTP/2
	method      string // HTTP method the form uses
	contentType string // request Content-Type, "" for GET
}

var forms = []form{
	{"connect-json", []connect.ClientOption{connect.WithProtoJSON()}, false, http.MethodPost, "application/json"},
	{"connect-proto", nil, false, http.MethodPost, "application/proto"},
	{"connect-get-proto", []connect.ClientOption{connect.WithHTTPGet()}, false, http.MethodGet, ""},
	{"connect-get-json", []connect.ClientOption{connect.WithHTTPGet(), connect.WithProtoJSON()}, false, http.MethodGet, ""},
	{"grpc-proto", []connect.ClientOption{connect.WithGRPC()}, true, http.MethodPost, "application/grpc"},
	{"grpc-json", []connect.ClientOption{connect.WithGRPC(), connect.WithProtoJSON()}, true, http.MethodPost, "application/grpc+json"},
	{"grpcweb-proto", []connect.ClientOption{connect.WithGRPCWeb()}, false, http.MethodPost, "application/grpc-web+proto"},
	{"grpcweb-json", []connect.ClientOption{connect.WithGRPCWeb(), connect.WithProtoJSON()}, false, http.MethodPost, "application/grpc-web+json"},
}

// transport is one HTTP version a client may use.
type transport struct {
	name   string
	proto  string
	client func(testing.TB) *http.Client
}

var transports = []transport{
	{"http1", "HTTP/1.1", servertest.HTTP1Client},
	{"h2c", "HTTP/2.0", servertest.H2CClient},
}

// cells yields every form of fs with every transport it can use: gRPC only
// over HTTP/2.
func cells(fs []form) iter.Seq2[form, transport] {
	return func(yield func(form, transport) bool) {
		for _, f := range fs {
			for _, tr := range transports {
				if f.http2Only && tr.proto != "HTTP/2.0" {
					continue
				}
				if !yield(f, tr) {
					return
				}
			}
		}
	}
}

// concurrently runs each subtest added with run at the same time, and
// returns when all have ended. Unlike t.Parallel, it is not held to
// -parallel (GOMAXPROCS by default, 2 here): for subtests that mostly wait
// on timers and deadlines.
func concurrently(t *testing.T, add func(run func(name string, f func(*testing.T)))) {
	var wg sync.WaitGroup
	add(func(name string, f func(*testing.T)) {
		wg.Go(func() { t.Run(name, f) })
	})
	wg.Wait()
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSayHelloEveryForm(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for f, tr := range cells(forms) {
		t.Run(f.name+"/"+tr.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(tr.client(t), srv.URL, f.opts...)
			reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, "SayHello")
			assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
			seen := srv.LastRequest()
			assert.Equal(t, seen.Proto, tr.proto, "HTTP version used")
			assert.Equal(t, seen.Method, f.method, "HTTP method used")
			assert.Equal(t, seen.ContentType, f.contentType, "request Content-Type")
			assert.Equal(t, seen.Path, rpc_packageconnect.HelloWorldServiceSayHelloProcedure, "path")
		})
	}
}

func TestSayHelloInvalidArgumentEveryForm(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	names := map[string]string{
		"empty":    "",
		"too-long": strings.Repeat("é", 101),
	}
	for _, f := range forms {
		for label, name := range names {
			t.Run(f.name+"/"+label, func(t *testing.T) {
				client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
				_, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: name})
				assertInvalidName(t, err)
			})
		}
	}
}

// assertInvalidName checks that err is invalid_argument about the field name,
// with a google.rpc.BadRequest detail naming it.
func assertInvalidName(t *testing.T, err error) {
	t.Helper()
	var connectErr *connect.Error
	if !errors.As(err, &connectErr) {
		t.Fatalf("got error %v (%T), want a *connect.Error", err, err)
	}
	assert.Equal(t, connectErr.Code(), connect.CodeInvalidArgument, "code")
	assert.Contains(t, connectErr.Message(), "invalid name: ", "message")
	assert.Contains(t, connectErr.Message(), "name must", "message")
	// The contract's google.rpc.BadRequest, then protovalidate's own detail.
	details := connectErr.Details()
	assert.Equal(t, len(details), 2, "number of details")
	value, err := details[0].Value()
	assert.NoError(t, err, "decode detail")
	badRequest, ok := value.(*errdetails.BadRequest)
	assert.True(t, ok, "detail is a google.rpc.BadRequest")
	assert.Equal(t, len(badRequest.GetFieldViolations()), 1, "field violations")
	assert.Equal(t, badRequest.GetFieldViolations()[0].GetField(), "name", "violated field")
	assert.True(t, strings.HasSuffix(connectErr.Message(), badRequest.GetFieldViolations()[0].GetDescription()),
		"the message ends with the violation's description")
	value, err = details[1].Value()
	assert.NoError(t, err, "decode detail")
	violations, ok := value.(*validate.Violations)
	assert.True(t, ok, "second detail is a buf.validate.Violations")
	assert.Equal(t, len(violations.GetViolations()), 1, "violations")
	assert.Contains(t, violations.GetViolations()[0].GetRuleId(), "name.", "rule id")
}

func TestGRPCOverHTTP1IsRefusedClearly(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})

	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithGRPC())
	_, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.Error(t, err, "gRPC over HTTP/1.1")
	assert.Contains(t, err.Error(), "505", "client error")

	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, srv.URL+rpc_packageconnect.HelloWorldServiceSayHelloProcedure,
		strings.NewReader("\x00\x00\x00\x00\x06\x0a\x04eric"))
	req.Header.Set("Content-Type", "application/grpc")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "raw gRPC request over HTTP/1.1")
	defer res.Body.Close()
	body := readAll(t, res)
	assert.Equal(t, res.StatusCode, http.StatusHTTPVersionNotSupported, "status")
	assert.Contains(t, body, "gRPC requires HTTP/2", "body")
}

func TestUnknownProcedureIsUnimplemented(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, f := range forms {
		if f.method == http.MethodGet {
			continue // a GET client needs a side-effect-free method; Nope is not declared so
		}
		for _, path := range []string{"/rpc_package.HelloWorldService/Nope", "/other.Service/SayHello"} {
			t.Run(f.name+path, func(t *testing.T) {
				client := connect.NewClient[rpc.HelloRequest, rpc.HelloReply](servertest.H2CClient(t), srv.URL+path, f.opts...)
				_, err := client.CallUnary(ctx(t), connect.NewRequest(&rpc.HelloRequest{Name: "eric"}))
				assert.Equal(t, connect.CodeOf(err), connect.CodeUnimplemented, "code for "+path)
			})
		}
	}
	res, err := servertest.HTTP1Client(t).Get(srv.URL + "/no/such/page")
	assert.NoError(t, err, "GET unknown path")
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusNotFound, "status of unknown path")
}
