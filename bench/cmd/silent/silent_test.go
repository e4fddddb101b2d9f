package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// serve runs hello-server's handler on a loopback port for the test and
// returns its address.
func serve(t *testing.T, cfg server.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- server.New(cfg).Serve(t.Context(), ln) }()
	t.Cleanup(func() { <-done })
	return ln.Addr().String()
}

// Of 10 silent streams asked for on a connection that takes 4, 4 are
// opened and held, and each ends the way the server ends it: a unary call
// at -body-timeout, a client stream at -stream-idle-timeout, both with
// deadline_exceeded (the timeouts are short; the wait for them is not).
func TestHoldsWhatTheServerTakesAndRecordsItsEnd(t *testing.T) {
	addr := serve(t, server.Config{DrainDelay: -1, MaxConcurrentStreams: 4,
		BodyTimeout: 300 * time.Millisecond, StreamIdleTimeout: 300 * time.Millisecond})
	for name, want := range map[string]string{"unary": "HTTP 504 deadline_exceeded", "client-stream": "HTTP 200 deadline_exceeded"} {
		t.Run(name, func(t *testing.T) {
			h, err := hold(addr, kinds[name], 10, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			assert.Equal(t, h.opened, 4, "streams opened of 10 asked for, the server taking 4")
			for deadline := time.Now().Add(time.Minute); h.held() > 0 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			endings := h.close()
			assert.Equal(t, len(endings), 4, "streams the server ended")
			for _, e := range endings {
				assert.Equal(t, e.how, want, "how the server ended a stream")
				assert.True(t, e.at >= 300*time.Millisecond, "a stream was held for the timeout, not answered at once: ended at "+e.at.String())
			}
		})
	}
}

// goroutines from /debug/vars, VmRSS from /proc, an answer's status and
// Connect code (unary error, end-stream message).
func TestParsesTheServersFigures(t *testing.T) {
	assert.Equal(t, goroutinesIn([]byte(`{"cmdline": ["x"], "goroutines": 116, "memstats": {}}`)), 116, "goroutinesIn")
	assert.Equal(t, goroutinesIn([]byte(`{"cmdline": ["x"]}`)), -1, "goroutinesIn")
	assert.Equal(t, goroutinesIn([]byte(`not json`)), -1, "goroutinesIn")
	assert.Equal(t, rssIn(strings.NewReader("Name:\thello-server\nVmHWM:\t  40000 kB\nVmRSS:\t   34816 kB\n")), int64(34816<<10), "rssIn")
	assert.Equal(t, rssIn(strings.NewReader("Name:\thello-server\n")), int64(-1), "rssIn")
	assert.Equal(t, answer(429, []byte(`{"code":"resource_exhausted","message":"busy"}`)), "HTTP 429 resource_exhausted", "answer")
	assert.Equal(t, answer(200, []byte("\x02\x00\x00\x00\x30"+`{"error": {"code": "deadline_exceeded"}}`)), "HTTP 200 deadline_exceeded", "answer")
	assert.Equal(t, answer(502, nil), "HTTP 502", "answer")
}

// A non-loopback address, an unknown kind, a count or time not positive, or
// too many streams are refused; the defaults are the brief's.
func TestRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-addr", "10.0.0.1:50080"},
		{"-debug-addr", "example.com:80"},
		{"-kind", "bidi"},
		{"-conns", "0"},
		{"-hold", "-1s"},
		{"-streams", "20000"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted it", args)
		}
	}
	o, err := parseFlags(nil)
	assert.NoError(t, err, "parseFlags of no flags")
	assert.Equal(t, variant(o), "unary, 3 conns × 200 streams", "the default variant")
	assert.Equal(t, o.hold, 8*time.Second, "the default -hold")
}

// The row groups the endings by how, first first, counts the streams still
// held, and names the first and last refused normal call.
func TestRow(t *testing.T) {
	r := result{label: "abc", variant: "unary, 3 conns × 200 streams", opened: 600, hold: 8 * time.Second,
		endings: []ending{
			{at: 5100 * time.Millisecond, how: "HTTP 504 deadline_exceeded"},
			{at: 100 * time.Millisecond, how: "HTTP 429 resource_exhausted"},
			{at: 5000 * time.Millisecond, how: "HTTP 504 deadline_exceeded"},
		},
		before: gauges{goroutines: 8, rss: 24 << 20},
		peak:   peaks{held: 512, goroutines: 532, rss: 39 << 20},
		calls: []call{
			{at: 200 * time.Millisecond, latency: time.Millisecond, how: "HTTP 429 resource_exhausted"},
			{at: 5400 * time.Millisecond, latency: 3 * time.Millisecond, ok: true, how: "HTTP 200"},
			{at: 5600 * time.Millisecond, latency: 2 * time.Second, how: "error: timeout"},
			{at: 7800 * time.Millisecond, latency: 2 * time.Millisecond, ok: true, how: "HTTP 200"},
		},
	}
	assert.Equal(t, r.row(), "| abc | unary, 3 conns × 200 streams | 600 / 512 | "+
		"1 HTTP 429 resource_exhausted at 0.1 s; 2 HTTP 504 deadline_exceeded at 5.0 s–5.1 s; 597 still held at 8.0 s (the end) | "+
		"8 → 532 | 24 MiB → 39 MiB | 2 / 4 | 2.0 ms / 3.0 ms | 2: first HTTP 429 resource_exhausted at 0.2 s, last at 5.6 s |", "the row")
}
