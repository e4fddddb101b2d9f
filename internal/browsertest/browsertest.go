// Package browsertest starts Debian's Chromium, headless, for tests that
// drive hellorpc's page in a real browser with chromedp.
//
// When Chromium is missing the test skips with a message, or fails under
// HELLORPC_REQUIRE_ALL=1 (see package testenv).
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/testenv"
)

// ChromiumVar names the environment variable that may point at another
// Chromium binary. Default /usr/bin/chromium, else "chromium" on PATH.
const ChromiumVar = "HELLORPC_CHROMIUM"

// New starts a headless Chromium with a fresh profile and returns a chromedp
// context for one tab in it. The browser stops when the test ends.
func New(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv(ChromiumVar)
	if path == "" {
		path = "/usr/bin/chromium"
		if _, err := os.Stat(path); err != nil {
			path = testenv.Command(t, "chromium", "Chromium (apt-get install chromium)")
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(900, 700),
	}
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
func Do(t *testing.T, ctx context.Context, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}
