package lograte

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestLinesArePassedAtTheirRates logs, with the clock stopped, lines from
// many peers and lines naming none, then advances the clock.
func TestLinesArePassedAtTheirRates(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	h := New(slog.NewTextHandler(&out, nil), Options{})
	now := time.Unix(1_000_000, 0)
	h.now = func() time.Time { return now }
	log := slog.NewLogLogger(h, slog.LevelWarn)
	for i := range 10_000 {
		log.Printf("http: TLS handshake error from 192.0.2.1:%d: EOF", 1000+i%3) // three connections
	}
	assert.Equal(t, strings.Count(out.String(), "\n"), 9, "three lines per connection")
	for range 10_000 {
		log.Printf("http2: received GOAWAY [FrameHeader GOAWAY len=8], starting graceful shutdown")
	}
	assert.Equal(t, strings.Count(out.String(), "\n"), 50, "the global burst")
	assert.Equal(t, h.Suppressed(), int64(20_000-50), "lines dropped")

	now = now.Add(time.Second) // a second refills 5 of the global 50 per 10 s
	for i := range 100 {
		log.Printf("http2: server connection error from 192.0.2.2:%d: PROTOCOL_ERROR", i)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	assert.Equal(t, len(lines), 55, "lines after a second")
	assert.Contains(t, lines[50], fmt.Sprintf("log_lines_suppressed_total=%d", 20_000-50), "the next line says how many were dropped")
}

// TestEnabledFollowsTheNextHandler: the limiter filters nothing by level.
func TestEnabledFollowsTheNextHandler(t *testing.T) {
	t.Parallel()
	h := New(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError}), Options{})
	assert.True(t, !h.Enabled(context.Background(), slog.LevelWarn), "WARN off under an ERROR handler")
	assert.True(t, h.Enabled(context.Background(), slog.LevelError), "ERROR on")
}
