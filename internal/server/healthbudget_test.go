package server_test

import (
	"context"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

const (
	healthCheck = "/grpc.health.v1.Health/Check"
	healthWatch = "/grpc.health.v1.Health/Watch"
)

// attackConfig is a server that only the bounds under test protect from
// silent streams: 250 streams a connection (-max-streams' old default, as
// in issue #23), the body and idle timeouts far off.
func attackConfig() server.Config {
	return server.Config{MaxConcurrentStreams: 250, BodyTimeout: time.Hour, StreamIdleTimeout: time.Hour}
}

// openAllSilent opens conns connections of n silent streams to path each,
// and waits until the server has ended at least want of them (for at most
// 30 s); it returns the connections and the streams ended.
func openAllSilent(t *testing.T, addr, path string, conns, n int, want int64) ([]*silentConn, int64) {
	t.Helper()
	all := make([]*silentConn, conns)
	for i := range all {
		all[i] = openSilent(t, addr, path, n, nil)
	}
	answered := func() (sum int64) {
		for _, s := range all {
			sum += s.answered.Load()
		}
		return sum
	}
	for deadline := time.Now().Add(30 * time.Second); answered() < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	return all, answered()
}

// rssMiB is the process's resident memory, from /proc (0 where there is none).
func rssMiB() int {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return kib >> 10
		}
	}
	return 0
}

// TestHealthWatchStreamsAreBounded is issue #23's finding 3, bounded: 20
// connections of 250 health Watch streams that send HEADERS and nothing
// more. On main all 5,000 were held (a goroutine each; 200 connections held
// 50,000 and 1.1 GB); now each connection holds at most 16 and the rest are
// answered resource_exhausted at once, and a normal call and a health check
// still answer.
func TestHealthWatchStreamsAreBounded(t *testing.T) {
	const conns, streams = 20, 250
	srv := servertest.Start(t, attackConfig())
	goroutines, rss := runtime.NumGoroutine(), rssMiB()
	want := int64(conns * (streams - server.MaxHealthWatchesPerConn))
	_, answered := openAllSilent(t, srv.Listener.Addr().String(), healthWatch, conns, streams, want)
	runtime.GC()
	t.Logf("silent Watch streams: %d opened, %d held, %d refused; goroutines %d -> %d, RSS %d -> %d MiB",
		conns*streams, conns*streams-int(answered), answered, goroutines, runtime.NumGoroutine(), rss, rssMiB())
	assert.True(t, answered >= want, "silent Watch streams refused at once: "+strconv.FormatInt(answered, 10)+
		", want at least "+strconv.FormatInt(want, 10)+" (16 held per connection)")

	client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	reply, err := client.SayHello(ctx(t), &rpc.HelloRequest{Name: "eric"})
	assert.NoError(t, err, "a normal call while the Watch streams are held")
	assert.Equal(t, reply.GetMessage(), "Hello, eric!", "reply")
	status, body := healthStatus(t, servertest.HTTP1Client(t), srv.URL)
	assert.Equal(t, status, http.StatusOK, "a health check while the Watch streams are held: "+body)
}

// TestHealthAnswersWhileEverySlotIsHeld holds every in-flight slot (3
// connections of 200 silent calls, no per-connection share: finding 2) and
// 20 × 250 silent Watch streams (finding 3): every kind of health check
// still answers, neither shed by the in-flight limit nor refused by the
// Watch streams' budget (the calls past the slots were shed: the attack is
// in place; a second on, the silent calls start to yield their slots one by
// one, pressure.go). The time each took is logged; the issue asks for
// under 1 s.
func TestHealthAnswersWhileEverySlotIsHeld(t *testing.T) {
	cfg := attackConfig()
	cfg.MaxInflight, cfg.MaxInflightPerConn = 256, -1
	srv := servertest.Start(t, cfg)
	addr := srv.Listener.Addr().String()
	_, shed := openAllSilent(t, addr, sayHello, 3, 200, 3*200-256)
	assert.True(t, shed >= 3*200-256, "silent calls past the slots shed: "+strconv.FormatInt(shed, 10))
	openAllSilent(t, addr, healthWatch, 20, 250, 20*(250-server.MaxHealthWatchesPerConn))

	for _, path := range []string{"/healthz", "/readyz"} {
		start := time.Now()
		res, err := servertest.HTTP1Client(t).Get(srv.URL + path)
		assert.NoError(t, err, "GET "+path)
		res.Body.Close()
		assert.Equal(t, res.StatusCode, http.StatusOK, "GET "+path)
		t.Logf("GET %s answered in %v", path, time.Since(start))
	}
	start := time.Now()
	status, body := healthStatus(t, servertest.HTTP1Client(t), srv.URL)
	assert.Equal(t, status, http.StatusOK, "Check over Connect: "+body)
	t.Logf("Check over Connect answered in %v", time.Since(start))
	start = time.Now()
	code, text := grpcCheck(t, srv.URL)
	assert.Equal(t, code, "ok", "Check over gRPC: "+truncate(text))
	t.Logf("Check over gRPC answered in %v", time.Since(start))
}

// grpcCheck calls grpc.health.v1 Check for the server over gRPC (h2c) and
// returns the code it is answered with.
func grpcCheck(t *testing.T, url string) (string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), http.MethodPost, url+healthCheck, strings.NewReader("\x00\x00\x00\x00\x00"))
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	res, err := servertest.H2CClient(t).Do(req)
	assert.NoError(t, err, "Check over gRPC")
	_, code, text := outcome(t, res)
	return code, text
}

// TestHealthChecksHaveTheirOwnBudget bounds silent Check calls: 4 on a
// connection, past which resource_exhausted at once; -max-health-checks in
// all, past which a new Check ends the oldest silent one (resource_exhausted)
// and takes its slot; /healthz is never refused. On main every silent Check
// was held (before the budget), then a Check past -max-health-checks was
// refused.
func TestHealthChecksHaveTheirOwnBudget(t *testing.T) {
	t.Parallel()
	t.Run("per connection", func(t *testing.T) {
		t.Parallel()
		srv := servertest.Start(t, attackConfig())
		_, refused := openAllSilent(t, srv.Listener.Addr().String(), healthCheck, 1, 10, 10-server.MaxHealthChecksPerConn)
		assert.Equal(t, refused, int64(10-server.MaxHealthChecksPerConn), "silent checks past the connection's 4 refused")
		code, text := grpcCheck(t, srv.URL)
		assert.Equal(t, code, "ok", "a Check on another connection: "+truncate(text))
	})
	t.Run("in all", func(t *testing.T) {
		t.Parallel()
		cfg := attackConfig()
		cfg.MaxHealthChecks = 8
		srv := servertest.Start(t, cfg)
		_, ended := openAllSilent(t, srv.Listener.Addr().String(), healthCheck, 4, 4, 16-8)
		assert.Equal(t, ended, int64(16-8), "silent checks ended to make room past -max-health-checks")
		code, text := grpcCheck(t, srv.URL)
		assert.Equal(t, code, "ok", "a Check past the budget, which a silent one holds: "+truncate(text))
		res, err := servertest.HTTP1Client(t).Get(srv.URL + "/healthz")
		assert.NoError(t, err, "GET /healthz")
		res.Body.Close()
		assert.Equal(t, res.StatusCode, http.StatusOK, "GET /healthz while the Check budget is taken")
	})
}

// TestSilentChecksCannotLockOutARealOne is issue #23's silent-Check flood:
// 16 connections of 4 silent grpc.health.v1 Checks (HEADERS, no body) take
// all 64 Check slots; a real Check, over gRPC (h2c) and over Connect, still
// answers SERVING, within a 4 s client deadline while -body-timeout is 30 s:
// only the eviction of a silent holder can explain it. On main it was
// answered resource_exhausted ("too many health checks: 64 in progress").
func TestSilentChecksCannotLockOutARealOne(t *testing.T) {
	t.Parallel()
	const conns = server.DefaultMaxHealthChecks / server.MaxHealthChecksPerConn
	for _, p := range watchProtocols {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			cfg := attackConfig()
			cfg.BodyTimeout = 30 * time.Second
			srv := servertest.Start(t, cfg)
			silent, _ := openAllSilent(t, srv.Listener.Addr().String(), healthCheck, conns, server.MaxHealthChecksPerConn, 0)
			for deadline := time.Now().Add(30 * time.Second); srv.RequestsTo(healthCheck) < server.DefaultMaxHealthChecks && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			assert.Equal(t, srv.RequestsTo(healthCheck), server.DefaultMaxHealthChecks, "silent Checks that reached the server")

			checkCtx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
			defer cancel()
			start := time.Now()
			res, err := grpchealth.NewClient(servertest.H2CClient(t), srv.URL, p.opts...).Check(checkCtx, &grpchealth.CheckRequest{})
			assert.NoError(t, err, "a real Check while silent ones hold every slot")
			assert.Equal(t, res.Status, grpchealth.StatusServing, "status")
			ended := 0
			for _, s := range silent {
				ended += int(s.answered.Load())
			}
			t.Logf("answered in %v; silent Checks ended so far: %d", time.Since(start), ended)
		})
	}
}

// TestSilentWatchesCannotLockOutARealOne: 2 connections of 16 silent Watch
// streams take all 32 Watch slots (-max-health-watches 32); a real Watch
// still gets SERVING, within a 4 s deadline while -body-timeout is 30 s: it
// ends a silent one and takes its slot. Before the eviction it was answered
// resource_exhausted ("too many health Watch streams: 32 in progress").
func TestSilentWatchesCannotLockOutARealOne(t *testing.T) {
	t.Parallel()
	const watches = 2 * server.MaxHealthWatchesPerConn
	cfg := attackConfig()
	cfg.BodyTimeout, cfg.MaxHealthWatches = 30*time.Second, watches
	srv := servertest.Start(t, cfg)
	openAllSilent(t, srv.Listener.Addr().String(), healthWatch, 2, server.MaxHealthWatchesPerConn, 0)
	for deadline := time.Now().Add(30 * time.Second); srv.RequestsTo(healthWatch) < watches && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, srv.RequestsTo(healthWatch), watches, "silent Watch streams that reached the server")
	watchCtx, cancel := context.WithTimeout(t.Context(), 4*time.Second)
	defer cancel()
	events := grpchealth.NewClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC()).Watch(watchCtx, &grpchealth.CheckRequest{})
	assert.Equal(t, nextEvent(t, events, "a real Watch while silent ones hold every slot").Response.Status, grpchealth.StatusServing, "status")
}
