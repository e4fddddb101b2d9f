package server_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// streamForms are the forms that can carry streams (all but Connect GET).
func streamForms() []form {
	var out []form
	for _, f := range forms {
		if f.method == http.MethodPost {
			out = append(out, f)
		}
	}
	return out
}

func TestLotsOfRepliesArriveIncrementallyEveryForm(t *testing.T) {
	g := &servertest.Gate{}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: g.Pace}})
	want := greeter.Greetings("eric")
	for f, tr := range cells(streamForms()) {
		t.Run(f.name+"/"+tr.name, func(t *testing.T) {
			release := g.Arm()
			client := rpc_packageconnect.NewHelloWorldServiceClient(tr.client(t), srv.URL, f.opts...)
			stream, err := client.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, "LotsOfReplies")
			defer stream.Close()
			// The server holds every reply after the first until the gate
			// opens: receiving the first proves it was not buffered.
			assert.True(t, stream.Receive(), "first reply arrives while the server holds the rest")
			got := []string{stream.Msg().GetMessage()}
			close(release)
			for stream.Receive() {
				got = append(got, stream.Msg().GetMessage())
			}
			assert.NoError(t, stream.Err(), "end of stream")
			assert.Equal(t, got, want, "replies")
			seen := srv.LastRequest()
			assert.Equal(t, seen.Proto, tr.proto, "HTTP version")
			assert.Equal(t, seen.Path, rpc_packageconnect.HelloWorldServiceLotsOfRepliesProcedure, "path")
		})
	}
}

func TestLotsOfRepliesInvalidName(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, f := range streamForms() {
		client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
		stream, err := client.LotsOfReplies(ctx(t), &rpc.HelloRequest{})
		assert.NoError(t, err, "LotsOfReplies")
		assert.True(t, !stream.Receive(), "no reply for an empty name")
		assertInvalidName(t, stream.Err())
		stream.Close()
	}
}

func TestLotsOfGreetingsEveryForm(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for f, tr := range cells(streamForms()) {
		t.Run(f.name+"/"+tr.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(tr.client(t), srv.URL, f.opts...)
			stream, err := client.LotsOfGreetings(ctx(t))
			assert.NoError(t, err, "LotsOfGreetings")
			for _, name := range []string{"a", "b", "c"} {
				assert.NoError(t, stream.Send(&rpc.HelloRequest{Name: name}), "send "+name)
			}
			reply, err := stream.CloseAndReceive()
			assert.NoError(t, err, "CloseAndReceive")
			assert.Equal(t, reply.GetMessage(), "Hello, a, b and c!", "reply")
			assert.Equal(t, srv.LastRequest().Proto, tr.proto, "HTTP version")
		})
	}
}

func TestBidiHelloAnswersEachNameAsItArrives(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, f := range streamForms() {
		t.Run(f.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
			stream, err := client.BidiHello(ctx(t))
			assert.NoError(t, err, "BidiHello")
			for _, name := range []string{"a", "b", "c"} {
				// Each reply arrives before the next name is sent.
				assert.NoError(t, stream.Send(&rpc.HelloRequest{Name: name}), "send "+name)
				reply, err := stream.Receive()
				assert.NoError(t, err, "receive the reply to "+name)
				assert.Equal(t, reply.GetMessage(), "Hello, "+name+"!", "reply")
			}
			assert.NoError(t, stream.CloseRequest(), "CloseRequest")
			_, err = stream.Receive()
			assert.ErrorIs(t, err, io.EOF, "end of stream")
			assert.NoError(t, stream.CloseResponse(), "CloseResponse")
			assert.Equal(t, srv.LastRequest().Proto, "HTTP/2.0", "HTTP version")
		})
	}
}

func TestBidiOverHTTP1FailsClearly(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	for _, f := range streamForms() {
		t.Run(f.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, f.opts...)
			stream, err := client.BidiHello(ctx(t))
			assert.NoError(t, err, "BidiHello")
			_ = stream.Send(&rpc.HelloRequest{Name: "a"})
			_, err = stream.Receive()
			assert.Error(t, err, "bidi over HTTP/1.1")
			assert.True(t, !errors.Is(err, io.EOF), "the error is not a clean end: "+err.Error())
			assert.Contains(t, err.Error(), "HTTP", "error names the HTTP version problem")
			_ = stream.CloseResponse()
		})
	}
	// What any client sees on the wire: 505 HTTP Version Not Supported.
	req, _ := http.NewRequestWithContext(ctx(t), http.MethodPost,
		srv.URL+rpc_packageconnect.HelloWorldServiceBidiHelloProcedure, nil)
	req.Header.Set("Content-Type", "application/connect+proto")
	res, err := servertest.HTTP1Client(t).Do(req)
	assert.NoError(t, err, "raw bidi request over HTTP/1.1")
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusHTTPVersionNotSupported, "status")
}

func TestStreamsRejectBadNamesAndTooManyMessages(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{MaxStreamMessages: 3}})
	for _, f := range streamForms() {
		t.Run(f.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)

			// An invalid name mid-stream ends a bidi stream with invalid_argument.
			bidi, err := client.BidiHello(ctx(t))
			assert.NoError(t, err, "BidiHello")
			assert.NoError(t, bidi.Send(&rpc.HelloRequest{Name: "a"}), "send a")
			_, err = bidi.Receive()
			assert.NoError(t, err, "reply to a")
			_ = bidi.Send(&rpc.HelloRequest{Name: ""})
			_, err = bidi.Receive()
			assertInvalidName(t, err)
			assert.Contains(t, err.Error(), "message 2: name must not be empty", "error")
			_ = bidi.CloseResponse()

			// And a client stream.
			cs, err := client.LotsOfGreetings(ctx(t))
			assert.NoError(t, err, "LotsOfGreetings")
			_ = cs.Send(&rpc.HelloRequest{Name: "a"})
			_ = cs.Send(&rpc.HelloRequest{Name: strings.Repeat("x", 101)})
			_, err = cs.CloseAndReceive()
			assert.Equal(t, connect.CodeOf(err), connect.CodeInvalidArgument, "code for a bad name in a client stream")

			// No names at all.
			cs, err = client.LotsOfGreetings(ctx(t))
			assert.NoError(t, err, "LotsOfGreetings")
			_, err = cs.CloseAndReceive()
			assert.Equal(t, connect.CodeOf(err), connect.CodeInvalidArgument, "code for no names")

			// More names than the cap.
			cs, err = client.LotsOfGreetings(ctx(t))
			assert.NoError(t, err, "LotsOfGreetings")
			for _, name := range []string{"a", "b", "c", "d"} {
				_ = cs.Send(&rpc.HelloRequest{Name: name})
			}
			_, err = cs.CloseAndReceive()
			assert.Equal(t, connect.CodeOf(err), connect.CodeResourceExhausted, "code past the cap")

			bidi, err = client.BidiHello(ctx(t))
			assert.NoError(t, err, "BidiHello")
			var last error
			for _, name := range []string{"a", "b", "c", "d"} {
				_ = bidi.Send(&rpc.HelloRequest{Name: name})
				if _, last = bidi.Receive(); last != nil {
					break
				}
			}
			assert.Equal(t, connect.CodeOf(last), connect.CodeResourceExhausted, "bidi code past the cap")
			_ = bidi.CloseResponse()
		})
	}
}

func TestStreamDeadlines(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: forever}})
	expired := func(err error) bool { return connect.CodeOf(err) == connect.CodeDeadlineExceeded }
	concurrently(t, func(run func(string, func(*testing.T))) {
		for _, f := range streamForms() {
			run(f.name, func(t *testing.T) {
				client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
				short := func(d time.Duration) context.Context {
					c, cancel := context.WithTimeout(t.Context(), d)
					t.Cleanup(cancel)
					return c
				}

				withRoom(t, 300*time.Millisecond, func(d time.Duration) bool {
					replies, err := client.LotsOfReplies(short(d), &rpc.HelloRequest{Name: "eric"})
					if expired(err) {
						return true
					}
					assert.NoError(t, err, "LotsOfReplies")
					defer replies.Close()
					first := replies.Receive()
					if !first && expired(replies.Err()) {
						return true
					}
					assert.True(t, first, "first reply")
					assert.True(t, !replies.Receive(), "the stream ends at the deadline")
					assert.Equal(t, connect.CodeOf(replies.Err()), connect.CodeDeadlineExceeded, "server-stream code")
					return false
				})

				withRoom(t, 300*time.Millisecond, func(d time.Duration) bool {
					bidi, err := client.BidiHello(short(d))
					assert.NoError(t, err, "BidiHello")
					defer func() { _ = bidi.CloseResponse() }()
					sent := bidi.Send(&rpc.HelloRequest{Name: "a"})
					_, err = bidi.Receive()
					if expired(err) {
						return true
					}
					assert.NoError(t, sent, "send")
					assert.NoError(t, err, "reply")
					_, err = bidi.Receive() // the client sends nothing more
					assert.Equal(t, connect.CodeOf(err), connect.CodeDeadlineExceeded, "bidi code")
					return false
				})

				withRoom(t, 300*time.Millisecond, func(d time.Duration) bool {
					c := short(d)
					cs, err := client.LotsOfGreetings(c)
					assert.NoError(t, err, "LotsOfGreetings")
					sent := cs.Send(&rpc.HelloRequest{Name: "a"})
					<-c.Done() // past the deadline
					_, err = cs.CloseAndReceive()
					if sent != nil && expired(err) {
						return true
					}
					assert.NoError(t, sent, "send")
					assert.Equal(t, connect.CodeOf(err), connect.CodeDeadlineExceeded, "client-stream code")
					return false
				})
			})
		}
	})
}

func TestCancelledStreamStopsHandlerWithoutLeak(t *testing.T) {
	stopped := make(chan struct{}, 1)
	pace := func(ctx context.Context, _ int) error {
		<-ctx.Done()
		stopped <- struct{}{}
		return ctx.Err()
	}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: pace}})
	for _, f := range streamForms() {
		t.Run(f.name, func(t *testing.T) {
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
			_, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "warm"}) // open the connection first
			assert.NoError(t, err, "warm-up call")
			before := runtime.NumGoroutine()

			callCtx, cancel := context.WithCancel(ctx(t))
			stream, err := client.LotsOfReplies(callCtx, &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, "LotsOfReplies")
			assert.True(t, stream.Receive(), "first reply")
			cancel()
			select {
			case <-stopped:
			case <-time.After(5 * time.Second):
				t.Fatal("handler did not stop within 5s of the client cancelling")
			}
			stream.Close()

			deadline := time.Now().Add(5 * time.Second)
			for runtime.NumGoroutine() > before {
				if time.Now().After(deadline) {
					t.Fatalf("goroutines: %d before the stream, %d after it ended", before, runtime.NumGoroutine())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

func TestMaxCallDurationCapsStreamsWithoutClientDeadline(t *testing.T) {
	t.Parallel()
	forever := func(ctx context.Context, _ int) error { <-ctx.Done(); return ctx.Err() }
	capped := func(t *testing.T, limit time.Duration) *servertest.Server {
		return servertest.Start(t, server.Config{
			MaxCallDuration: limit,
			Greeter:         greeter.Options{Pace: forever},
		})
	}
	const limit = 300 * time.Millisecond
	shared := capped(t, limit)
	concurrently(t, func(run func(string, func(*testing.T))) {
		for _, f := range streamForms() {
			run(f.name, func(t *testing.T) {
				withRoom(t, limit, func(d time.Duration) bool {
					srv := shared
					if d != limit {
						srv = capped(t, d) // a longer cap: a server of its own
					}
					client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)
					stream, err := client.LotsOfReplies(ctx(t), &rpc.HelloRequest{Name: "eric"})
					assert.NoError(t, err, "LotsOfReplies")
					defer stream.Close()
					first := stream.Receive()
					if !first && connect.CodeOf(stream.Err()) == connect.CodeDeadlineExceeded {
						return true
					}
					assert.True(t, first, "first reply")
					assert.True(t, !stream.Receive(), "the server ends the stream at its cap")
					assert.Equal(t, connect.CodeOf(stream.Err()), connect.CodeDeadlineExceeded, f.name+" code at the server's cap")

					bidi, err := client.BidiHello(ctx(t))
					assert.NoError(t, err, "BidiHello")
					_, err = bidi.Receive() // the client sends nothing; the server's cap ends the wait
					assert.Equal(t, connect.CodeOf(err), connect.CodeDeadlineExceeded, f.name+" bidi code at the server's cap")
					_ = bidi.CloseResponse()
					return false
				})
			})
		}
	})
}

func TestLotsOfGreetingsJoinsNamesAsEnglishDoes(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	for names, want := range map[string]string{
		"a":       "Hello, a!",
		"a b":     "Hello, a and b!",
		"a b c d": "Hello, a, b, c and d!",
	} {
		stream, err := client.LotsOfGreetings(ctx(t))
		assert.NoError(t, err, "LotsOfGreetings")
		for _, name := range strings.Fields(names) {
			assert.NoError(t, stream.Send(&rpc.HelloRequest{Name: name}), "send")
		}
		reply, err := stream.CloseAndReceive()
		assert.NoError(t, err, "CloseAndReceive")
		assert.Equal(t, reply.GetMessage(), want, "reply for "+names)
	}
}
