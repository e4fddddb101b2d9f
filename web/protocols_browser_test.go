package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// TestPageCallsInGRPCWebTextAndREST covers the protocol choices beyond those
// of TestPageSameOrigin and TestPageCrossOrigin: gRPC-Web text mode and
// REST, same-origin and cross-origin (allowed and refused), with the rules'
// messages from the page and, before the page has loaded its rules, from
// the server.
func TestPageCallsInGRPCWebTextAndREST(t *testing.T) {
	ctx := browsertest.New(t)
	page := servertest.Start(t, server.Config{})
	allowing := servertest.Start(t, server.Config{CORSOrigins: []string{page.URL}})
	refusing := servertest.Start(t, server.Config{CORSOrigins: []string{"http://elsewhere.example"}})
	long := strings.Repeat("x", 101)
	for _, c := range []struct {
		protocol, contentType, path, requestType string
	}{
		{"grpcweb-text", "application/grpc-web-text+proto", "/rpc_package.HelloWorldService/SayHello", "application/grpc-web-text"},
		{"rest", "application/json", "/v1/hello/eric", ""},
	} {
		t.Run(c.protocol, func(t *testing.T) {
			for origin, api := range map[string]*servertest.Server{"same-origin": page, "cross-origin": allowing} {
				pageURL := page.URL + "/?api=" + url.QueryEscape(api.URL)
				got := call(t, ctx, pageURL, c.protocol, "eric")
				assert.Equal(t, got.State, "ok", origin+" state (reply: "+got.Reply+")")
				assert.Equal(t, got.Reply, "Hello, eric!", origin+" reply")
				assert.Equal(t, got.ContentType, c.contentType, origin+" Content-Type shown")
				assert.Equal(t, api.LastRequestTo(c.path).ContentType, c.requestType, origin+" Content-Type the server saw")
			}

			got := call(t, ctx, page.URL+"/", c.protocol, long)
			assert.Equal(t, got.Reply, "Invalid argument: invalid name: name must be at most 100 characters, got 101"+checkedInPage,
				"the page's check")
			// Sent from the address, before the rules load: the server's check.
			got = outcomeOf(t, ctx, page.URL+"/?protocol="+c.protocol+"&name="+long)
			assert.Equal(t, got.State, "error", "state for a long name, checked by the server")
			assert.Equal(t, got.Reply, "Invalid argument: invalid name: name must be at most 100 characters, got 101",
				"the server's check")

			got = call(t, ctx, page.URL+"/?api="+url.QueryEscape(refusing.URL), c.protocol, "eric")
			assert.Equal(t, got.State, "error", "state with the origin not allowed")
			assert.Contains(t, got.Reply, "Network or CORS failure", "error shown")
		})
	}
}
