package server_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// Series of health's budget in the scrape.
const (
	checksRefusedConn = `hellorpc_health_refused_total{kind="check",reason="connection"}`
	checksRefusedFull = `hellorpc_health_refused_total{kind="check",reason="server"}`
	checksEvicted     = `hellorpc_health_evicted_total{kind="check"}`
	watchesRefused    = `hellorpc_health_refused_total{kind="watch",reason="server"}`
	watchesEvicted    = `hellorpc_health_evicted_total{kind="watch"}`
)

// TestHealthRefusalsAreCounted reads health's budget in the scrape, with 4
// Check slots and 2 Watch slots:
//   - a silent Check (the oldest), then a connection of 6 silent Checks:
//     the connection's fourth ends the first to make room (it is answered
//     resource_exhausted, saying why), its fifth and sixth are refused by
//     the connection's bound; a second connection of 4 silent Checks ends 4
//     more: 5 evicted, 2 refused (connection), none refused (server);
//   - two Watch streams answered, which are not silent: a third Watch is
//     refused (server).
//
// On main there was no such series.
func TestHealthRefusalsAreCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	cfg := attackConfig()
	cfg.Metrics, cfg.MaxHealthChecks, cfg.MaxHealthWatches = m, 4, 2
	srv := servertest.Start(t, cfg)
	addr := srv.Listener.Addr().String()

	first := make(chan string, 1)
	go func() { first <- silentHTTPCall(srv.URL + healthCheck) }()
	waitFor(t, "the first silent Check reaches the server", func() bool { return srv.RequestsTo(healthCheck) == 1 })
	a := openSilent(t, addr, healthCheck, 6, nil)
	var outcome string
	select {
	case outcome = <-first:
	case <-time.After(20 * time.Second):
		t.Fatal("the oldest silent Check was not ended within 20 s")
	}
	assert.True(t, strings.HasPrefix(outcome, "grpc-status 8: ") && strings.Contains(outcome, "to make room"),
		"the oldest silent Check, ended to make room: "+truncate(outcome))
	t.Logf("the oldest silent Check: %s", outcome)
	waitFor(t, "the connection's 2 Checks past its 4 refused", func() bool { return a.answered.Load() >= 2 })
	openSilent(t, addr, healthCheck, 4, nil)
	waitFor(t, "5 silent Checks ended", func() bool { return scrape(t, m.Handler())[checksEvicted] >= 5 })

	client := grpchealth.NewClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC())
	for i := range 2 {
		events := client.Watch(watchCtx(t), &grpchealth.CheckRequest{})
		assert.Equal(t, nextEvent(t, events, "Watch").Response.Status, grpchealth.StatusServing, "Watch "+string(rune('1'+i)))
	}
	select {
	case ev := <-client.Watch(watchCtx(t), &grpchealth.CheckRequest{}):
		assert.Equal(t, connect.CodeOf(ev.Err), connect.CodeResourceExhausted, "a third Watch: "+errText(ev.Err))
	case <-time.After(20 * time.Second):
		t.Fatal("a third Watch was not answered within 20 s")
	}

	got := scrape(t, m.Handler())
	for series, want := range map[string]float64{
		checksEvicted: 5, checksRefusedConn: 2, checksRefusedFull: 0, watchesRefused: 1, watchesEvicted: 0,
	} {
		assert.Equal(t, got[series], want, series)
	}
}

// silentHTTPCall sends the request headers of a gRPC call to target over h2c
// and then nothing, and returns its outcome (the gRPC status and message),
// or why it has none, within 20 s. It does not fail the test: it runs in a
// goroutine of its own.
func silentHTTPCall(target string) string {
	body, stall := io.Pipe()
	defer stall.Close()
	waiting, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(waiting, http.MethodPost, target, body)
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	res, err := (&http.Client{Transport: &http.Transport{Protocols: unencryptedHTTP2()}}).Do(req)
	if err != nil {
		return err.Error()
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	status, message := res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message")
	if status == "" {
		status, message = res.Header.Get("Grpc-Status"), res.Header.Get("Grpc-Message")
	}
	if m, err := url.PathUnescape(message); err == nil {
		message = m
	}
	return "grpc-status " + status + ": " + message
}

// unencryptedHTTP2 is the protocols of an h2c client.
func unencryptedHTTP2() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}

// waitFor waits until ok, for at most 30 s, or fails with what.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within 30 s: %s", what)
		}
	}
}
