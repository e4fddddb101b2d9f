package server_test

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	v1 "github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1"
	"github.com/hellorpc/hellorpc/internal/conformance/gen/connectrpc/conformance/v1/conformancev1connect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// mountedService is a second service for Config.Services: Unary answers
// "deadline" or "none" as its context has a deadline or not, after waiting
// for hold, when the request's data is "hold", to close.
type mountedService struct {
	conformancev1connect.UnimplementedConformanceServiceHandler
	held chan struct{} // a call holds
	hold chan struct{} // closed: held calls answer
}

func (s *mountedService) Unary(ctx context.Context, req *connect.Request[v1.UnaryRequest]) (*connect.Response[v1.UnaryResponse], error) {
	if string(req.Msg.GetRequestData()) == "hold" {
		s.held <- struct{}{}
		<-s.hold
	}
	answer := "none"
	if _, ok := ctx.Deadline(); ok {
		answer = "deadline"
	}
	return connect.NewResponse(&v1.UnaryResponse{Payload: &v1.ConformancePayload{Data: []byte(answer)}}), nil
}

func (s *mountedService) mount(opts ...connect.HandlerOption) (string, http.Handler) {
	return conformancev1connect.NewConformanceServiceHandler(s, opts...)
}

func newMountedService() *mountedService {
	return &mountedService{held: make(chan struct{}, 1), hold: make(chan struct{})}
}

// TestMountedServiceIsServedAsTheGreeter checks Config.Services: a mounted
// service answers in every protocol through the server's middleware (the
// access log records its calls), health and reflection list it, and the
// in-flight limit counts its calls.
func TestMountedServiceIsServedAsTheGreeter(t *testing.T) {
	t.Parallel()
	svc := newMountedService()
	logs := &servertest.Buffer{}
	srv := servertest.Start(t, server.Config{
		MaxInflight: 1,
		Logger:      slog.New(slog.NewJSONHandler(logs, nil)),
		Services:    []server.Service{svc.mount},
	})
	h2c := servertest.H2CClient(t)
	for _, opt := range []connect.ClientOption{connect.WithGRPC(), connect.WithGRPCWeb(), connect.WithProtoJSON()} {
		res, err := conformancev1connect.NewConformanceServiceClient(h2c, srv.URL, opt).Unary(ctx(t), connect.NewRequest(&v1.UnaryRequest{}))
		assert.NoError(t, err, "call of the mounted service")
		assert.Equal(t, string(res.Msg.GetPayload().GetData()), "deadline", "the mounted service's answer (the client sent its timeout)")
	}
	srv.WaitIdle(t) // a line is written once its handler returns
	assert.Contains(t, logs.String(), `"path":"`+conformancev1connect.ConformanceServiceUnaryProcedure+`","protocol":"grpc"`, "the access log of the mounted service's calls")

	status, body := post(t, h2c, srv.URL+"/grpc.health.v1.Health/Check", `{"service":"`+conformancev1connect.ConformanceServiceName+`"}`)
	assert.Equal(t, status, http.StatusOK, "health of the mounted service")
	assert.Equal(t, body, `{"status":"SERVING_STATUS_SERVING"}`, "health of the mounted service")

	stream := grpcreflect.NewClient(h2c, srv.URL, connect.WithGRPC()).NewStream(ctx(t))
	names, err := stream.ListServices()
	assert.NoError(t, err, "ListServices")
	assert.True(t, slices.Contains(names, conformancev1connect.ConformanceServiceName), "reflection lists the mounted service")
	_, err = stream.FileContainingSymbol(conformancev1connect.ConformanceServiceName)
	assert.NoError(t, err, "reflection describes the mounted service")
	_, _ = stream.Close()

	// One call in flight, the most it takes: the next is shed.
	client := conformancev1connect.NewConformanceServiceClient(h2c, srv.URL)
	held := make(chan error, 1)
	go func() {
		_, err := client.Unary(ctx(t), connect.NewRequest(&v1.UnaryRequest{RequestData: []byte("hold")}))
		held <- err
	}()
	<-svc.held
	_, err = client.Unary(ctx(t), connect.NewRequest(&v1.UnaryRequest{}))
	assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "a call of the mounted service beyond MaxInflight")
	close(svc.hold)
	assert.NoError(t, <-held, "the held call")
}

// TestNoCallCapByDefault checks Config.MaxCallDuration's zero value: no cap,
// so a call without a client deadline has none, and one with a client
// deadline has it; a cap puts a deadline on every call.
func TestNoCallCapByDefault(t *testing.T) {
	t.Parallel()
	svc := newMountedService()
	srv := servertest.Start(t, server.Config{Services: []server.Service{svc.mount}})
	capped := servertest.Start(t, server.Config{MaxCallDuration: 1 << 40, Services: []server.Service{svc.mount}})
	for _, tc := range []struct {
		url     string
		timeout bool
		want    string
	}{
		{srv.URL, false, "none"},
		{srv.URL, true, "deadline"},
		{capped.URL, false, "deadline"},
	} {
		call := ctx(t)
		if !tc.timeout {
			call = context.WithoutCancel(call) // no deadline for the client to send
		}
		for _, opt := range []connect.ClientOption{connect.WithGRPC(), connect.WithProtoJSON()} {
			res, err := conformancev1connect.NewConformanceServiceClient(servertest.H2CClient(t), tc.url, opt).Unary(call, connect.NewRequest(&v1.UnaryRequest{}))
			assert.NoError(t, err, "call of the mounted service")
			assert.Equal(t, string(res.Msg.GetPayload().GetData()), tc.want, "the call's deadline (client's timeout: "+map[bool]string{true: "yes", false: "no"}[tc.timeout]+", server "+tc.url+")")
		}
	}
}

// TestServicesThatCannotBeMounted checks that New refuses, with a message
// naming the fault, a service whose prefix is taken or malformed.
func TestServicesThatCannotBeMounted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		service server.Service
		want    string
	}{
		{"the greeter again", func(opts ...connect.HandlerOption) (string, http.Handler) {
			return rpc_packageconnect.NewHelloWorldServiceHandler(greeter.New(greeter.Options{}), opts...)
		}, "rpc_package.HelloWorldService, which is already served"},
		{"a path, not a service", func(...connect.HandlerOption) (string, http.Handler) {
			return "/a/b/", http.NotFoundHandler()
		}, `returned path prefix "/a/b/"`},
		{"no handler", func(...connect.HandlerOption) (string, http.Handler) {
			return "/acme.Foo/", nil
		}, `returned path prefix "/acme.Foo/" (and a handler: false)`},
	} {
		got := func() (p any) {
			defer func() { p = recover() }()
			server.New(server.Config{Services: []server.Service{tc.service}})
			return nil
		}()
		msg, _ := got.(string)
		assert.True(t, strings.Contains(msg, tc.want), tc.name+": New panics with "+tc.want+", got "+msg)
	}
}
