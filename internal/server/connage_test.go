package server_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
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

// TestRetiredConnectionServesUntilItsClientReadTheGoAway is a client that
// has not yet read the GOAWAY of a retired connection (a loaded machine):
// it may still open a stream, which the GOAWAY's last stream id (2^31-1)
// promised to serve, so the connection stays open, idle as it is, until the
// client acknowledges the PING that follows the GOAWAY; then it is closed.
func TestRetiredConnectionServesUntilItsClientReadTheGoAway(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{MaxConnectionAge: 100 * time.Millisecond, MaxConnectionAgeGrace: time.Minute})
	addr := srv.Listener.Addr().String()
	conn, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	defer conn.Close()
	assert.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)), "deadline")
	_, err = io.WriteString(conn, h2frame.Preface)
	assert.NoError(t, err, "preface")
	assert.NoError(t, h2frame.Write(conn, h2frame.Settings, 0, 0, nil), "SETTINGS")
	r := bufio.NewReader(conn)
	// The server retires the connection: GOAWAY (2^31-1), then a PING.
	var ping []byte
	for ping == nil {
		f, err := h2frame.Read(r)
		assert.NoError(t, err, "read until the GOAWAY and its PING")
		if last, _, _, ok := f.GoAwayFields(); ok {
			assert.Equal(t, last, uint32(1<<31-1), "the first GOAWAY's last stream id")
		}
		if f.Type == h2frame.Ping && f.Flags&h2frame.Ack == 0 {
			ping = f.Payload
		}
	}
	// Many of the server's checks pass (every 25 ms) while the client, which
	// has not read the GOAWAY, sends nothing.
	time.Sleep(time.Second)
	block := []byte{0x82, 0x86} // :method GET, :scheme http
	block = append(block, h2frame.Literal(":path", "/healthz")...)
	block = append(block, h2frame.Literal(":authority", addr)...)
	assert.NoError(t, h2frame.Write(conn, h2frame.Headers, h2frame.EndHeaders|h2frame.EndStream, 1, block), "a request after the GOAWAY")
	for answered := false; !answered; {
		f, err := h2frame.Read(r)
		assert.NoError(t, err, "the request sent before the client read the GOAWAY is answered")
		answered = f.Type == h2frame.Headers && f.Stream == 1
	}
	// Once the client acknowledges the PING, the idle connection is closed,
	// long before the grace (1 min) ends.
	assert.NoError(t, h2frame.Write(conn, h2frame.Ping, h2frame.Ack, 0, ping), "PING ACK")
	for {
		if _, err := h2frame.Read(r); err != nil {
			assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "the connection is closed, not timed out: "+err.Error())
			return
		}
	}
}
