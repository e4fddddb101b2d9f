package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestDrainLosesNoAcceptedCall runs a bounded mixed-protocol load, signals
// the server mid-load (once the clients have counted loadBeforeSignal
// successes and every stream its first reply, however long that takes), and
// checks that every call the server accepted succeeded at the client, and
// that open streams ended cleanly.
func TestDrainLosesNoAcceptedCall(t *testing.T) {
	const loadBeforeSignal = 200
	logs := &servertest.Buffer{}
	s := startRunLogging(t, logs, "-drain-grace", "300ms", "-shutdown-timeout", "30s", "-reply-interval", "1h")

	h1 := &http.Client{Transport: &http.Transport{}}
	h2cProtocols := new(http.Protocols)
	h2cProtocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2cProtocols}}
	clients := map[string]rpc_packageconnect.HelloWorldServiceClient{
		"grpc":        rpc_packageconnect.NewHelloWorldServiceClient(h2c, s.url, connect.WithGRPC()),
		"connect":     rpc_packageconnect.NewHelloWorldServiceClient(h1, s.url, connect.WithProtoJSON()),
		"grpcweb":     rpc_packageconnect.NewHelloWorldServiceClient(h1, s.url, connect.WithGRPCWeb()),
		"connect-h2c": rpc_packageconnect.NewHelloWorldServiceClient(h2c, s.url),
	}

	var (
		signalled  atomic.Bool
		successes  atomic.Int64
		failures   atomic.Int64
		earlyFails = make(chan error, 100)
		wg         sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for name, client := range clients {
		for range 3 {
			wg.Go(func() {
				for range 5000 { // bounded
					before := !signalled.Load()
					_, err := client.SayHello(ctx, &rpc.HelloRequest{Name: "eric"})
					switch {
					case err == nil:
						successes.Add(1)
					case before && !signalled.Load():
						earlyFails <- errors.New(name + ": " + err.Error())
					default:
						failures.Add(1)
					}
					if signalled.Load() && err != nil {
						return // refused after the signal: this worker is done
					}
				}
			})
		}
	}
	// Streams that outlive the grace period (their second reply is an hour away).
	streamErrs := make(chan error, 4)
	var opened atomic.Int64
	for _, client := range []rpc_packageconnect.HelloWorldServiceClient{clients["grpc"], clients["connect-h2c"], clients["grpc"], clients["grpcweb"]} {
		wg.Go(func() {
			stream, err := client.LotsOfReplies(ctx, &rpc.HelloRequest{Name: "eric"})
			if err != nil {
				streamErrs <- err
				return
			}
			defer stream.Close()
			for first := true; stream.Receive(); first = false {
				if first {
					opened.Add(1)
				}
			}
			streamErrs <- stream.Err()
		})
	}

	// The load is running and the streams are open: counted, not timed.
	for successes.Load() < loadBeforeSignal || opened.Load() < 4 {
		if ctx.Err() != nil || len(streamErrs) > 0 {
			t.Fatalf("before the signal: %d calls succeeded (want %d), %d of 4 streams open, %d calls and %d streams failed",
				successes.Load(), loadBeforeSignal, opened.Load(), len(earlyFails), len(streamErrs))
		}
		time.Sleep(5 * time.Millisecond)
	}
	signalled.Store(true)
	signalAt := time.Now()
	s.cancel()
	select {
	case err := <-s.done:
		assert.NoError(t, err, "run after the signal")
		s.done <- err
	case <-time.After(time.Minute):
		t.Fatal("run did not return within a minute of the signal")
	}
	drainTook := time.Since(signalAt)
	wg.Wait()
	close(earlyFails)
	close(streamErrs)
	for err := range earlyFails {
		t.Errorf("a call failed before the signal: %v", err)
	}
	for err := range streamErrs {
		if connect.CodeOf(err) != connect.CodeUnavailable {
			t.Errorf("an open stream ended with %v, want unavailable after the grace period", err)
		}
	}

	// Every SayHello the server logged as handled must have succeeded at the
	// client, and none may have failed at the server.
	var accepted, notOK int64
	for line := range strings.Lines(logs.String()) {
		if strings.Contains(line, "msg=request") && strings.Contains(line, "path=/rpc_package.HelloWorldService/SayHello") {
			accepted++
			if !strings.Contains(line, "code=ok") {
				notOK++
				t.Errorf("the server logged a failed call: %s", line)
			}
		}
	}
	t.Logf("drain: %d calls accepted by the server, %d succeeded at the clients, %d refused after the signal; run returned %v after the signal",
		accepted, successes.Load(), failures.Load(), drainTook.Round(time.Millisecond))
	assert.Equal(t, successes.Load(), accepted, "calls the clients saw succeed = calls the server accepted")
	assert.Equal(t, notOK, int64(0), "accepted calls that failed")
	assert.True(t, accepted > 100, "the load ran")
	assert.Contains(t, logs.String(), "msg=draining", "drain logged")
}

// TestDrainDelayKeepsServingOutOfRotation signals the server and checks the
// drain delay: health (grpc.health.v1 over Connect JSON, and /readyz) says
// NOT_SERVING at once, liveness stays up, and calls, on new connections too,
// still succeed during the delay; then run returns. The delay is long enough
// for a loaded machine to do all that in its first half.
func TestDrainDelayKeepsServingOutOfRotation(t *testing.T) {
	const delay = 6 * time.Second
	s := startRun(t, "-drain-delay", delay.String())
	get := func(path string) (int, string) {
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // a new connection each time
		res, err := c.Get(s.url + path)
		assert.NoError(t, err, "GET "+path)
		defer res.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, res.Body)
		return res.StatusCode, b.String()
	}
	status, body := get("/readyz")
	assert.Equal(t, status, http.StatusOK, "readyz before the drain ("+body+")")

	signalled := time.Now()
	s.cancel()
	for time.Since(signalled) < delay/2 { // run notices the signal at once, but not synchronously
		if status, body = get("/readyz"); status != http.StatusOK {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, status, http.StatusServiceUnavailable, "readyz once draining ("+body+")")
	status, _ = get("/healthz")
	assert.Equal(t, status, http.StatusOK, "healthz once draining")
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Post(s.url+"/grpc.health.v1.Health/Check", "application/json", strings.NewReader("{}"))
	assert.NoError(t, err, "health check")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, string(b), `{"status":"SERVING_STATUS_NOT_SERVING"}`, "gRPC health once draining")

	client := rpc_packageconnect.NewHelloWorldServiceClient(c, s.url, connect.WithProtoJSON())
	calls := 0
	for calls == 0 || time.Since(signalled) < delay/2 {
		_, err := client.SayHello(t.Context(), &rpc.HelloRequest{Name: "eric"})
		assert.NoError(t, err, "a call on a new connection during the drain delay")
		calls++
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case err := <-s.done:
		assert.NoError(t, err, "run")
		s.done <- nil // for the cleanup
	case <-time.After(delay + 10*time.Second):
		t.Fatal("run did not return after the drain delay")
	}
	took := time.Since(signalled)
	t.Logf("%d calls succeeded during the delay; run returned %v after the signal", calls, took)
	assert.True(t, took >= delay, "run waited out the delay")
}
