package server_test

import (
	"bufio"
	"encoding/binary"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// TestClientCausedLogLinesAreBounded: clients that send GOAWAY after
// GOAWAY, or fail TLS handshake after handshake, cause a bounded number of
// log lines (a burst of 50, then 5 a second, over all connections), and the
// lines dropped are counted.
func TestClientCausedLogLinesAreBounded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		line   string // what each line caused says
		attack func(t *testing.T, addr string)
		tls    bool
	}{
		{"GOAWAY", "received GOAWAY", func(t *testing.T, addr string) {
			var wg sync.WaitGroup
			for range 10 {
				wg.Go(func() {
					conn, err := net.Dial("tcp", addr)
					if err != nil {
						t.Errorf("dial: %v", err)
						return
					}
					defer conn.Close()
					_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
					w := bufio.NewWriter(conn)
					_, _ = w.WriteString(h2frame.Preface)
					_ = h2frame.Write(w, h2frame.Settings, 0, 0, nil)
					payload := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 0), 1) // PROTOCOL_ERROR
					for range 1000 {
						_ = h2frame.Write(w, h2frame.GoAway, 0, 0, payload)
					}
					_ = w.Flush()
					readGoAway(conn) // until the server ends it
				})
			}
			wg.Wait()
		}, false},
		{"TLS handshake", "handshake error", func(t *testing.T, addr string) {
			for range 200 {
				conn, err := net.Dial("tcp", addr)
				assert.NoError(t, err, "dial")
				_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
				_, _ = conn.Write(make([]byte, 5))  // a record header that is no TLS record
				_, _ = conn.Read(make([]byte, 100)) // until the server closes it
				conn.Close()
			}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs servertest.Buffer
			m := metrics.New()
			cfg := server.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Metrics: m}
			var addr string
			if tc.tls {
				addr, _, _ = startTLS(t, cfg)
			} else {
				addr = servertest.Start(t, cfg).Listener.Addr().String()
			}
			start := time.Now()
			tc.attack(t, addr)
			// Lines are written as net/http reads: give the last a moment,
			// then bound them by the time taken, whatever it was.
			time.Sleep(500 * time.Millisecond)
			lines := strings.Count(logs.String(), tc.line)
			bound := 50 + 5*int(math.Ceil(time.Since(start).Seconds()))
			suppressed := scrape(t, m.Handler())["hellorpc_log_lines_suppressed_total"]
			t.Logf("%d lines in %v (bound %d), %v suppressed", lines, time.Since(start).Round(time.Millisecond), bound, suppressed)
			assert.True(t, lines > 0, "the first lines are logged")
			assert.True(t, lines <= bound, "lines within the rate")
			if tc.tls {
				assert.True(t, suppressed > 0 && float64(lines)+suppressed >= 200, "every failed handshake logged or counted")
			}
		})
	}
}
