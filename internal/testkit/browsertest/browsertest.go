// Package browsertest starts Debian's Chromium, headless, for tests that
// drive hellorpc's page in a real browser with chromedp.
//
// When Chromium is missing the test skips with a message, or fails under
// HELLORPC_REQUIRE_ALL=1 (see package testenv).
package browsertest

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/testkit/chromium"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// New starts a headless Chromium with a fresh profile and returns a chromedp
// context for one tab in it. The browser stops when the test ends. Under
// -short the test skips.
func New(t testing.TB) context.Context {
	t.Helper()
	testenv.SkipIfShort(t, "Chromium")
	path, err := chromium.Path()
	if err != nil {
		testenv.Missing(t, "Chromium (apt-get install chromium)", err)
	}
	opts := chromium.Options(path, t.TempDir())
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		testenv.Missing(t, "a working Chromium at "+path, err)
	}
	return ctx
}

// Do runs steps on the browser of ctx, bounded by timeout.
func Do(t testing.TB, ctx context.Context, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}
