package server_test

import (
	"net/http"
	"testing"
	"time"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestMaxConnectionAgeRetiresConnections keeps calling over one client for
// several connection ages: the server retires its connections (GOAWAY for
// h2c, Connection: close for HTTP/1.1), the client opens new ones, and no
// call fails.
func TestMaxConnectionAgeRetiresConnections(t *testing.T) {
	t.Parallel()
	for name, client := range map[string]func(testing.TB) *http.Client{"h2c": servertest.H2CClient, "HTTP/1.1": servertest.HTTP1Client} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := servertest.Start(t, server.Config{MaxConnectionAge: 200 * time.Millisecond, MaxConnectionAgeGrace: time.Second})
			c := rpc_packageconnect.NewHelloWorldServiceClient(client(t), srv.URL)
			start := time.Now()
			calls := 0
			// Several ages, and on a loaded machine on until the third
			// connection (at most 30 s): progress, not the clock, decides.
			for time.Since(start) < 1500*time.Millisecond || (srv.Connections() < 3 && time.Since(start) < 30*time.Second) {
				_, err := c.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
				assert.NoError(t, err, "a call while connections are retired")
				calls++
				time.Sleep(10 * time.Millisecond)
			}
			t.Logf("%d calls over %d connections", calls, srv.Connections())
			assert.True(t, srv.Connections() >= 3, "connections were retired and replaced")
		})
	}
}
