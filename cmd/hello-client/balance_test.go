package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestClientBalancesOverSeveralServers runs hello-client against three
// servers with no proxy in between: -addr lists them, and -count calls go to
// each in turn, in every protocol.
func TestClientBalancesOverSeveralServers(t *testing.T) {
	t.Parallel()
	servers := []*servertest.Server{
		servertest.Start(t, server.Config{}), servertest.Start(t, server.Config{}), servertest.Start(t, server.Config{}),
	}
	addrs := servers[0].URL + "," + servers[1].URL + ", " + servers[2].URL
	const path = "/rpc_package.HelloWorldService/SayHello"
	for i, protocol := range []string{"grpc", "grpcweb", "connect"} {
		var stdout bytes.Buffer
		err := run(t.Context(), []string{"-addr", addrs, "-protocol", protocol, "-count", "30"}, noEnv, &stdout, &stdout)
		assert.NoError(t, err, "hello-client over three servers, "+protocol)
		assert.Equal(t, strings.Count(stdout.String(), "Hello, eric!"), 30, "replies")
		for j, srv := range servers {
			assert.Equal(t, srv.RequestsTo(path), 10*(i+1), "calls server "+string(rune('1'+j))+" got, after "+protocol)
		}
	}
}

// TestTargetsFromDNS checks how -addr becomes targets: URLs with addresses
// as they are, and a host name as each address it resolves to, IPv4 before
// IPv6 (a name with both usually names one server on two stacks).
func TestTargetsFromDNS(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]string, error) {
		return map[string][]string{
			"hello.internal": {"10.0.0.1", "10.0.0.2", "10.0.0.3"},
			"localhost":      {"::1", "127.0.0.1"},
			"v6only":         {"fd00::1", "fd00::2"},
		}[host], nil
	}
	addrs, err := splitAddrs("http://hello.internal:50000,http://127.0.0.1:1,http://localhost:2,http://v6only")
	assert.NoError(t, err, "split")
	got, err := targets(t.Context(), addrs, lookup)
	assert.NoError(t, err, "targets")
	want := []target{
		{"10.0.0.1:50000", "hello.internal:50000"}, {"10.0.0.2:50000", "hello.internal:50000"}, {"10.0.0.3:50000", "hello.internal:50000"},
		{"127.0.0.1:1", "127.0.0.1:1"}, {"127.0.0.1:2", "localhost:2"},
		{"[fd00::1]:80", "v6only"}, {"[fd00::2]:80", "v6only"},
	}
	assert.Equal(t, got, want, "targets")

	for _, bad := range []string{"http://a:1,https://b:2", "ftp://x", "http://a:1,", "http://a:1/path"} {
		_, err := splitAddrs(bad)
		assert.Error(t, err, "-addr "+bad)
	}
}
