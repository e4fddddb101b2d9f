package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestClientsThatCancelAtTheirDeadlineAreNotCut: a client whose calls all
// outlive their 50 ms deadline (the handler is slower than that) cancels
// each one, and its HTTP/2 transport resets the stream (RST_STREAM CANCEL),
// as grpc-go and connect-go clients do under overload, when the server is
// too busy to end the call at the deadline itself. The deadline does not
// reach the server here (withoutTimeout), so that the client's reset, not
// the server's deadline_exceeded, ends every call, as it does under
// overload. 640 such calls on one connection reset all its streams; they
// are no rapid reset (each stream lived its deadline), so the flood guard
// must not cut the connection: every call ends deadline_exceeded, none
// unavailable, and no connection is counted flooded or closed by the server.
//
// The "2ms" rows cancel each call at 2 ms from its start, or once its first
// reply has come if that is later, as a client whose deadline is shorter
// than the guard's minResetAge (10 ms) and that the server answered in
// time: its streams are young when reset, but answered
// (the reply's HEADERS went out), which a rapid reset never waits for. On
// main they counted as rapid resets and the connection was cut. (A call
// that a 2 ms deadline cancels before any answer still counts, and a client
// of many such may be cut: the guard cannot tell it from a rapid reset.)
// Rapid reset (HEADERS and RST_STREAM at once) is still cut:
// TestHTTP2FloodsGetEnhanceYourCalm/rapid_reset.
func TestClientsThatCancelAtTheirDeadlineAreNotCut(t *testing.T) {
	t.Parallel()
	const calls = 640
	for _, tc := range []struct {
		name     string
		opts     []connect.ClientOption
		deadline time.Duration
		workers  int // calls at once
	}{
		{"gRPC", []connect.ClientOption{connect.WithGRPC()}, 50 * time.Millisecond, 16},
		{"Connect", nil, 50 * time.Millisecond, 16},
		// Two at once, so that the server answers well within 2 ms.
		{"gRPC/2ms, answered", []connect.ClientOption{connect.WithGRPC()}, 2 * time.Millisecond, 2},
		{"Connect/2ms, answered", nil, 2 * time.Millisecond, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := metrics.New()
			slow := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
			srv := servertest.Start(t, server.Config{Metrics: m, Greeter: greeter.Options{Pace: slow}})
			// One connection, as grpc-go keeps: calls past its streams
			// wait for one, no second connection is dialed.
			transport := &http.Transport{Protocols: new(http.Protocols), HTTP2: &http.HTTP2Config{StrictMaxConcurrentRequests: true}}
			transport.Protocols.SetUnencryptedHTTP2(true)
			var (
				dialer       net.Dialer
				serverClosed atomic.Int64
				dialedMu     sync.Mutex
				dialed       []*closeWatch
			)
			transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := dialer.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				w := &closeWatch{Conn: c, byServer: &serverClosed}
				dialedMu.Lock()
				dialed = append(dialed, w)
				dialedMu.Unlock()
				return w, nil
			}
			t.Cleanup(transport.CloseIdleConnections)
			hc := &http.Client{Transport: editHeaders{transport, withoutTimeout}}
			client := rpc_packageconnect.NewHelloWorldServiceClient(hc, srv.URL, tc.opts...)
			var (
				mu    sync.Mutex
				codes = map[connect.Code]int{}
				used  = map[net.Conn]bool{} // the connections calls went on
				wg    sync.WaitGroup
			)
			traced := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
				mu.Lock()
				used[info.Conn] = true
				mu.Unlock()
			}})
			// One call first, so that the workers find its connection
			// rather than each dialing its own.
			first, cancel := context.WithTimeout(traced, 10*time.Second)
			defer cancel()
			_, err := client.SayHello(first, &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, "SayHello")
			for range tc.workers {
				wg.Go(func() {
					for range calls / tc.workers {
						var code connect.Code
						if tc.deadline < 10*time.Millisecond {
							code = callCancelledAfterItsFirstReply(traced, client, tc.deadline)
						} else {
							code = callPastItsDeadline(traced, client, tc.deadline)
						}
						mu.Lock()
						codes[code]++
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			t.Logf("codes of %d calls: %v", calls, codes)
			want := connect.CodeDeadlineExceeded
			if tc.deadline < 10*time.Millisecond {
				want = connect.CodeCanceled
			}
			assert.Equal(t, codes[want], calls, fmt.Sprintf("calls that ended %v (all codes: %v)", want, codes))
			assert.Equal(t, scrape(t, m.Handler())["hellorpc_connections_flooded_total"], float64(0),
				"connections the flood guard cut")
			assert.Equal(t, serverClosed.Load(), int64(0), "connections the server closed")
			// A cut or retired connection is replaced, and the calls after it
			// go on the new one. The client may also dial a connection that it
			// then closes unused (net/http's pool races its HTTP/2 pool, seen
			// under load: 16 dialed, all calls on one): the server did not
			// cause those, and no call went on them.
			dialedMu.Lock()
			for i, c := range dialed {
				t.Logf("connection %d of %d the client dialed: %d bytes written", i+1, len(dialed), c.written.Load())
			}
			dialedMu.Unlock()
			assert.Equal(t, len(used), 1, "connections the calls went on (a cut one is replaced)")
		})
	}
}

// editHeaders is an http.RoundTripper that edits a request's headers, as a
// client or a proxy in front of the server may, and sends it on the
// transport it wraps: clients of one transport share its connections.
type editHeaders struct {
	next http.RoundTripper
	edit func(http.Header)
}

func (e editHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	e.edit(r.Header)
	return e.next.RoundTrip(r)
}

// withoutTimeout keeps a call's deadline from the server: it drops the
// headers that carry it.
func withoutTimeout(h http.Header) {
	h.Del("Grpc-Timeout")
	h.Del("Connect-Timeout-Ms")
}

// callPastItsDeadline calls LotsOfReplies, whose replies after the first
// never come, with deadline, reads until the call ends and returns its code.
func callPastItsDeadline(parent context.Context, client rpc_packageconnect.HelloWorldServiceClient, deadline time.Duration) connect.Code {
	ctx, cancel := context.WithTimeout(parent, deadline)
	defer cancel()
	stream, err := client.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		return connect.CodeOf(err)
	}
	defer stream.Close()
	for stream.Receive() {
	}
	return connect.CodeOf(stream.Err())
}

// callCancelledAfterItsFirstReply calls LotsOfReplies, whose replies after
// the first never come, cancels it at deadline from its start or, if later,
// as soon as its first reply has come, reads until the call ends and
// returns its code.
func callCancelledAfterItsFirstReply(parent context.Context, client rpc_packageconnect.HelloWorldServiceClient, deadline time.Duration) connect.Code {
	start := time.Now()
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stream, err := client.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
	if err != nil {
		return connect.CodeOf(err)
	}
	defer stream.Close()
	if stream.Receive() {
		time.AfterFunc(max(0, deadline-time.Since(start)), cancel)
	}
	for stream.Receive() {
	}
	return connect.CodeOf(stream.Err())
}

// closeWatch is a client's connection that counts in byServer whether it
// was closed by the server: a read failed before the client closed it; and
// the bytes the client wrote on it.
type closeWatch struct {
	net.Conn
	byServer *atomic.Int64
	once     sync.Once
	written  atomic.Int64
}

func (c *closeWatch) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

func (c *closeWatch) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if err != nil {
		c.once.Do(func() { c.byServer.Add(1) })
	}
	return n, err
}

func (c *closeWatch) Close() error {
	c.once.Do(func() {}) // the client's own close
	return c.Conn.Close()
}
