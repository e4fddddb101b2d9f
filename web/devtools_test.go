package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// devtools is a step that sends DevTools commands to the tab.
func devtools(do func(ctx context.Context, tab *chromedp.Target) error) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tab *chromedp.Target) (chromedp.Void, error) {
		return chromedp.Void{}, do(ctx, tab)
	}
}

// mediaFeatures emulates CSS media features, such as
// prefers-color-scheme, in place of those emulated before.
func mediaFeatures(features map[string]string) chromedp.Action[chromedp.Void] {
	return devtools(func(ctx context.Context, tab *chromedp.Target) error {
		var list []*emulation.MediaFeature
		for name, value := range features {
			list = append(list, &emulation.MediaFeature{Name: name, Value: value})
		}
		_, err := cdp.Call(ctx, tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: list})
		return err
	})
}

// scriptsDisabled turns the tab's JavaScript off (true) or on.
func scriptsDisabled(off bool) chromedp.Action[chromedp.Void] {
	return devtools(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: off})
		return err
	})
}

// allowClipboard lets pages of origin read the clipboard, so that a test
// can read what the page copied, and has the tab act as focused (the
// clipboard serves only a focused page, and tests in parallel take the
// focus away).
func allowClipboard(t *testing.T, ctx context.Context, origin string) {
	t.Helper()
	browsertest.Do(t, ctx, 10*time.Second, devtools(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true})
		return err
	}))
	c := chromedp.FromContext(ctx)
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := cdp.Call(ctx, c.Browser, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSettingGranted,
			Origin:     origin,
		})
		assert.NoError(t, err, "grant "+name+" to "+origin)
	}
}

// eval evaluates a JavaScript expression in the tab (awaiting a promise)
// and returns its value.
func eval[T any](t testing.TB, ctx context.Context, expression string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression, chromedp.EvalAwaitPromise))
	assert.NoError(t, err, "evaluate "+expression)
	return v
}

// poll waits until the expression is truthy and returns its value.
func poll[T any](t testing.TB, ctx context.Context, what, expression string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expression))
	assert.NoError(t, err, "wait for "+what)
	return v
}
