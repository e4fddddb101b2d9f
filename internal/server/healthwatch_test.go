package server_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// startDrainable serves server.New(cfg) on 127.0.0.1 with Serve, as
// hello-server does, and returns its URL and a function that begins its
// drain (as SIGTERM does: Serve's context ends); the server is closed when
// the test ends. Give cfg a long DrainDelay to keep it serving while the
// test looks.
func startDrainable(t *testing.T, cfg server.Config) (url string, drain func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen on 127.0.0.1")
	srv := server.New(cfg)
	serveCtx, drain := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, ln) }()
	t.Cleanup(func() {
		drain()
		_ = srv.Close()
		assert.NoError(t, <-done, "serve")
	})
	return "http://" + ln.Addr().String(), drain
}

// watchProtocols are the protocols of the Watch tests, by name.
var watchProtocols = []struct {
	name string
	opts []connect.ClientOption
}{
	{"gRPC", []connect.ClientOption{connect.WithGRPC()}},
	{"Connect", nil},
}

// nextEvent returns the next event of a Watch, failing the test if the
// stream ends first, or if none comes within 20 s.
func nextEvent(t *testing.T, events <-chan grpchealth.WatchEvent, what string) grpchealth.WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatalf("%s: the Watch stream ended, with no error, before an event", what)
		}
		if ev.Err != nil {
			t.Fatalf("%s: the Watch stream ended: %v (code %v)", what, ev.Err, connect.CodeOf(ev.Err))
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no event within 20 s", what)
	}
	return grpchealth.WatchEvent{}
}

// watchCtx is the context of a Watch stream of a test: generous, and ended
// with the test.
func watchCtx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return c
}

// TestHealthWatchSeesTheDrain: a grpc.health.v1 Watch, of the server and
// of a service, over gRPC (h2c) and Connect, gets SERVING, then NOT_SERVING
// on the same stream once the server starts draining: what grpc-go's
// client-side health checking and Envoy follow. On main every Watch was
// answered unimplemented (quietChecker hid StaticChecker's Watch).
func TestHealthWatchSeesTheDrain(t *testing.T) {
	t.Parallel()
	for _, p := range watchProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			url, drain := startDrainable(t, server.Config{DrainDelay: time.Hour})
			client := grpchealth.NewClient(servertest.H2CClient(t), url, p.opts...)
			watches := map[string]<-chan grpchealth.WatchEvent{}
			for _, service := range []string{"", rpc_packageconnect.HelloWorldServiceName} {
				watches[service] = client.Watch(watchCtx(t), &grpchealth.CheckRequest{Service: service})
				ev := nextEvent(t, watches[service], "Watch of "+strconv.Quote(service))
				assert.Equal(t, ev.Response.Status, grpchealth.StatusServing, "first status of "+strconv.Quote(service))
			}
			drain()
			for service, events := range watches {
				ev := nextEvent(t, events, "Watch of "+strconv.Quote(service)+" once draining")
				assert.Equal(t, ev.Response.Status, grpchealth.StatusNotServing, "status of "+strconv.Quote(service)+" once draining")
			}
		})
	}
}

// TestHealthWatchOfAnUnknownServiceStaysOpen: a Watch of a service the
// server does not know gets SERVICE_UNKNOWN (3) and stays open, as the
// health protocol asks and grpc-go's server does, and the name, 4 KiB here,
// appears nowhere in the reply; a Check of it is still not_found "unknown
// service". On main the Watch was answered unimplemented.
func TestHealthWatchOfAnUnknownServiceStaysOpen(t *testing.T) {
	t.Parallel()
	const serviceUnknown = 3
	name := "no.such." + strings.Repeat("Service", 4096/7)
	srv := servertest.Start(t, server.Config{})
	for _, p := range watchProtocols {
		t.Run(p.name, func(t *testing.T) {
			client := grpchealth.NewClient(servertest.H2CClient(t), srv.URL, p.opts...)
			events := client.Watch(watchCtx(t), &grpchealth.CheckRequest{Service: name})
			ev := nextEvent(t, events, "Watch of an unknown service")
			assert.Equal(t, ev.Response.Status, grpchealth.Status(serviceUnknown), "status of an unknown service")
			// Open: a stream the server closed would end at once.
			select {
			case ev, ok := <-events:
				t.Fatalf("the Watch of an unknown service went on with %+v (open: %v)", ev, ok)
			case <-time.After(500 * time.Millisecond):
			}
			_, err := client.Check(ctx(t), &grpchealth.CheckRequest{Service: name})
			assert.Equal(t, connect.CodeOf(err), connect.CodeNotFound, "Check of an unknown service: "+errText(err))
			assert.True(t, !strings.Contains(errText(err), "Service"), "the Check's error echoes the name: "+truncate(errText(err)))
		})
	}

	t.Run("nothing echoed (Connect, raw)", func(t *testing.T) {
		head, first := rawWatch(t, srv.URL, `{"service":"`+name+`"}`)
		assert.Equal(t, first, `{"status":"SERVING_STATUS_SERVICE_UNKNOWN"}`, "first message")
		assert.True(t, !strings.Contains(head, "Service"), "the reply's headers echo the name: "+truncate(head))
	})
}

// rawWatch calls Watch over Connect (JSON, h2c) with the JSON request msg
// and returns the reply's status line and headers, and its first message.
func rawWatch(t *testing.T, url, msg string) (head, first string) {
	t.Helper()
	body := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(body[1:], uint32(len(msg)))
	body = append(body, msg...)
	req, err := http.NewRequestWithContext(watchCtx(t), http.MethodPost, url+"/grpc.health.v1.Health/Watch", strings.NewReader(string(body)))
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/connect+json")
	res, err := servertest.H2CClient(t).Do(req)
	assert.NoError(t, err, "Watch")
	defer res.Body.Close()
	var h strings.Builder
	h.WriteString(res.Status + "\n")
	assert.NoError(t, res.Header.Write(&h), "headers")
	r := bufio.NewReader(res.Body)
	prefix := make([]byte, 5)
	_, err = io.ReadFull(r, prefix)
	assert.NoError(t, err, "the first message's prefix ("+h.String()+")")
	data := make([]byte, binary.BigEndian.Uint32(prefix[1:]))
	_, err = io.ReadFull(r, data)
	assert.NoError(t, err, "the first message")
	return h.String(), string(data)
}

// TestAnsweredHealthWatchOutlivesTheStreamIdleTimeout: a Watch that has its
// request and has been answered waits, by design, for a status to change;
// the stream idle timeout (200 ms here) leaves it alone, while it ends a
// silent Watch (HEADERS, no request) as before. Two silent Watch streams,
// opened one after the other once Watch streams over gRPC and Connect have
// been answered, are ended by the timeout: the sweeper has then seen the
// answered ones idle for longer than each, twice; yet they still get
// NOT_SERVING when the drain begins. On main (with Watch served) they were
// ended with deadline_exceeded ("stream idle").
func TestAnsweredHealthWatchOutlivesTheStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	url, drain := startDrainable(t, server.Config{StreamIdleTimeout: 200 * time.Millisecond, BodyTimeout: time.Hour, DrainDelay: time.Hour})
	var watches []<-chan grpchealth.WatchEvent
	for _, p := range watchProtocols {
		client := grpchealth.NewClient(servertest.H2CClient(t), url, p.opts...)
		events := client.Watch(watchCtx(t), &grpchealth.CheckRequest{})
		assert.Equal(t, nextEvent(t, events, p.name+" Watch").Response.Status, grpchealth.StatusServing, p.name+" Watch: first status")
		watches = append(watches, events)
	}
	for _, silent := range []string{"first", "second"} {
		code, text := silentCall(t, url, "/grpc.health.v1.Health/Watch", "application/grpc")
		assert.Equal(t, code, "deadline_exceeded", "the "+silent+" silent Watch: "+truncate(text))
	}
	drain()
	for i, events := range watches {
		ev := nextEvent(t, events, watchProtocols[i].name+" Watch once draining")
		assert.Equal(t, ev.Response.Status, grpchealth.StatusNotServing, watchProtocols[i].name+" Watch: status once draining")
	}
}
