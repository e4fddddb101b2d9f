// Package lograte limits the log lines that clients can cause: net/http
// writes one to http.Server.ErrorLog for each failed TLS handshake, each
// GOAWAY with an error code a peer sends, each connection error, and a peer
// that repeats them would fill the log (and drop the lines that matter) at
// no cost to itself. A Handler passes on, per connection (the peer address
// the line names, "from host:port"), a few lines and then one per period,
// and over all connections a burst and then a steady rate; it counts what
// it drops, and the next line it passes says how many were dropped.
package lograte

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Handler. The zero value is valid.
type Options struct {
	// PerConnection is how many lines that name one peer address may pass
	// at once; after them, one per Period. Default 3.
	PerConnection int
	// Global is how many lines may pass at once over all peers; after them,
	// one per Period/Global. Default 50.
	Global int
	// Period is over what time the limits refill. Default 10s.
	Period time.Duration
}

// maxPeers bounds the peer addresses a Handler remembers: past it, it
// forgets them all (and each gets its burst again, within the global limit).
const maxPeers = 4096

// Handler passes the records of next at the rates of its Options.
type Handler struct {
	next       slog.Handler
	opts       Options
	suppressed *atomic.Int64

	mu     *sync.Mutex
	global *bucket
	peers  map[string]*bucket
	now    func() time.Time
}

// New returns a Handler that passes next's records at the rates of opts.
func New(next slog.Handler, opts Options) *Handler {
	if opts.PerConnection <= 0 {
		opts.PerConnection = 3
	}
	if opts.Global <= 0 {
		opts.Global = 50
	}
	if opts.Period <= 0 {
		opts.Period = 10 * time.Second
	}
	h := &Handler{next: next, opts: opts, suppressed: new(atomic.Int64), mu: new(sync.Mutex),
		peers: map[string]*bucket{}, now: time.Now}
	h.global = newBucket(opts.Global, opts.Period)
	return h
}

// Suppressed returns how many lines the Handler (and those derived from it
// by WithAttrs and WithGroup) dropped.
func (h *Handler) Suppressed() int64 { return h.suppressed.Load() }

// Enabled reports whether next handles level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes r to next if the limits allow it, with the count of lines
// dropped since the last that passed; else it drops and counts it.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	peer := peerOf(r.Message)
	h.mu.Lock()
	now := h.now()
	ok := true
	if peer != "" {
		b := h.peers[peer]
		if b == nil {
			if len(h.peers) >= maxPeers {
				clear(h.peers)
			}
			b = newBucket(h.opts.PerConnection, h.opts.Period*time.Duration(h.opts.PerConnection))
			h.peers[peer] = b
		}
		ok = b.take(now)
	}
	ok = ok && h.global.take(now)
	h.mu.Unlock()
	if !ok {
		h.suppressed.Add(1)
		return nil
	}
	if n := h.suppressed.Load(); n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int64("log_lines_suppressed_total", n))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs returns a Handler that shares h's limits and counts.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(attrs)
	return &c
}

// WithGroup returns a Handler that shares h's limits and counts.
func (h *Handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	return &c
}

// peerOf returns the peer address a net/http line names ("... from
// 192.0.2.1:5678: ..."), or "".
func peerOf(msg string) string {
	_, rest, ok := strings.Cut(msg, " from ")
	if !ok {
		return ""
	}
	addr, _, _ := strings.Cut(rest, " ")
	return strings.TrimSuffix(addr, ":")
}

// bucket is a token bucket: size tokens, refilled over period.
type bucket struct {
	size   int
	period time.Duration
	tokens float64
	last   time.Time // of the last take; zero before the first
}

func newBucket(size int, period time.Duration) *bucket {
	return &bucket{size: size, period: period, tokens: float64(size)}
}

// take takes a token at now if there is one.
func (b *bucket) take(now time.Time) bool {
	if d := now.Sub(b.last); d > 0 && !b.last.IsZero() {
		b.tokens = min(float64(b.size), b.tokens+float64(b.size)*d.Seconds()/b.period.Seconds())
	}
	if now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
