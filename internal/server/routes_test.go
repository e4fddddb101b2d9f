package server_test

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpcreflect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	body, err := io.ReadAll(res.Body)
	assert.NoError(t, err, "read body")
	return string(body)
}

// post sends a Connect JSON request and returns the status and body.
func post(t *testing.T, client *http.Client, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, url, strings.NewReader(body))
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	assert.NoError(t, err, "POST "+url)
	defer res.Body.Close()
	return res.StatusCode, readAll(t, res)
}

func TestHealthIsServing(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, tr := range transports {
		for _, service := range []string{"", rpc_packageconnect.HelloWorldServiceName} {
			status, body := post(t, tr.client(t), srv.URL+"/grpc.health.v1.Health/Check", `{"service":"`+service+`"}`)
			assert.Equal(t, status, http.StatusOK, "health status code for "+service)
			assert.Equal(t, body, `{"status":"SERVING_STATUS_SERVING"}`, "health of "+service)
		}
	}
	status, body := post(t, servertest.HTTP1Client(t), srv.URL+"/grpc.health.v1.Health/Check", `{"service":"no.Such"}`)
	assert.Equal(t, status, http.StatusNotFound, "health of unknown service")
	assert.Contains(t, body, `"code":"not_found"`, "health of unknown service")
}

func TestReflectionListsServices(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	client := grpcreflect.NewClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	stream := client.NewStream(ctx(t))
	names, err := stream.ListServices()
	assert.NoError(t, err, "ListServices")
	_, _ = stream.Close()
	var got []string
	for _, n := range names {
		got = append(got, string(n))
	}
	slices.Sort(got)
	want := []string{
		"grpc.health.v1.Health",
		"grpc.reflection.v1.ServerReflection",
		"grpc.reflection.v1alpha.ServerReflection",
		"rpc_package.HelloWorldService",
	}
	assert.Equal(t, got, want, "services listed by reflection v1")

	// v1alpha, which older grpcurl versions use, by hand: one framed
	// ServerReflectionRequest{list_services: "*"} (field 7).
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost,
		srv.URL+"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
		strings.NewReader("\x00\x00\x00\x00\x03\x3a\x01*"))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	res, err := servertest.H2CClient(t).Do(req)
	assert.NoError(t, err, "v1alpha ServerReflectionInfo")
	body := readAll(t, res)
	res.Body.Close()
	assert.Equal(t, res.Trailer.Get("Grpc-Status"), "0", "v1alpha grpc-status")
	for _, name := range want {
		assert.Contains(t, body, name, "v1alpha list")
	}
}

func TestPageIsServed(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	client := servertest.HTTP1Client(t)
	res, err := client.Get(srv.URL + "/")
	assert.NoError(t, err, "GET /")
	body := readAll(t, res)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "status")
	assert.Equal(t, res.Header.Get("Content-Type"), "text/html; charset=utf-8", "Content-Type")
	assert.Contains(t, body, "<title>hellorpc", "page")
	etag := res.Header.Get("ETag")
	assert.True(t, etag != "", "ETag is set")

	req, _ := http.NewRequestWithContext(ctx(t), http.MethodGet, srv.URL+"/", nil)
	req.Header.Set("If-None-Match", etag)
	res, err = client.Do(req)
	assert.NoError(t, err, "conditional GET /")
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusNotModified, "status of revalidation")

	status, _ := post(t, client, srv.URL+"/", "{}")
	assert.Equal(t, status, http.StatusMethodNotAllowed, "POST to the page")
}

func TestCORS(t *testing.T) {
	t.Parallel()
	const allowed, other = "http://page.example", "http://evil.example"
	preflight := func(t *testing.T, srv *servertest.Server, origin string) *http.Response {
		req, _ := http.NewRequestWithContext(ctx(t), http.MethodOptions, srv.URL+rpc_packageconnect.HelloWorldServiceSayHelloProcedure, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		// Sorted and lower-case, as browsers send them.
		req.Header.Set("Access-Control-Request-Headers", "connect-protocol-version,content-type")
		res, err := servertest.HTTP1Client(t).Do(req)
		assert.NoError(t, err, "preflight")
		res.Body.Close()
		return res
	}

	configured := servertest.Start(t, server.Config{CORSOrigins: []string{allowed}})
	res := preflight(t, configured, allowed)
	assert.Equal(t, res.StatusCode, http.StatusNoContent, "preflight status for allowed origin")
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), allowed, "allowed origin")
	assert.Contains(t, strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "connect-protocol-version", "allowed headers")

	res = preflight(t, configured, other)
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), "", "Allow-Origin for another origin")
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Headers"), "", "Allow-Headers for another origin")

	// The actual call from the allowed origin carries the CORS headers too.
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost, configured.URL+rpc_packageconnect.HelloWorldServiceSayHelloProcedure, strings.NewReader(`{"name":"eric"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Origin", allowed)
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "cross-origin POST")
	body := readAll(t, res)
	res.Body.Close()
	assert.Equal(t, body, `{"message":"Hello, eric!"}`, "cross-origin reply")
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), allowed, "Allow-Origin on the call")

	// By default no origin is allowed: same-origin only.
	unconfigured := servertest.Start(t, server.Config{})
	res = preflight(t, unconfigured, allowed)
	assert.Equal(t, res.Header.Get("Access-Control-Allow-Origin"), "", "Allow-Origin with no origins configured")
}

// TestIdleH2CConnectionOutlivesReadHeaderTimeout guards against
// golang/go#80876: a healthy h2c connection must not be closed once it has
// been idle longer than ReadHeaderTimeout.
func TestIdleH2CConnectionOutlivesReadHeaderTimeout(t *testing.T) {
	t.Parallel()
	const readHeaderTimeout = time.Second // roomy: the first call must reach the server within it, also on a loaded machine
	srv := servertest.Start(t, server.Config{ReadHeaderTimeout: readHeaderTimeout})
	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	for i := range 2 {
		if i > 0 {
			time.Sleep(3 * readHeaderTimeout)
		}
		reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "SayHello")
		assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
	}
	assert.Equal(t, srv.Connections(), int64(1), "connections accepted (the idle one must have been reused)")
}
