package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// The slow phone of the page's targets (docs/page.md): 562.5 ms of latency a
// request, 1.6 Mbps down, 750 kbps up, and a CPU four times slower than
// this machine's.
const (
	phoneLatencyMs = 562.5
	phoneDownBps   = 1.6e6 / 8
	phoneUpBps     = 750e3 / 8
	phoneCPUFactor = 4
)

// sendOnLoad, run in the page before its own scripts, sends the form as
// soon as the page's script has run (DOMContentLoaded waits for module
// scripts), as a person pressing Send at the first chance would, and
// notes when the reply shows a greeting (window.firstGreetingAt, ms since
// navigation start). It reads only the form and the reply, so it measures
// earlier versions of the page alike.
const sendOnLoad = `addEventListener("DOMContentLoaded", () => {
	const reply = document.getElementById("reply");
	new MutationObserver(() => {
		if (window.firstGreetingAt === undefined && reply.textContent.startsWith("Hello,")) {
			window.firstGreetingAt = performance.now();
		}
	}).observe(reply, {childList: true, characterData: true, subtree: true});
	document.getElementById("hello-form").requestSubmit();
});`

// loadTimes is what one load measured, in ms since navigation start, and
// the bytes transferred before the greeting (headers included).
type loadTimes struct {
	FirstPaint    float64 `json:"firstPaint"`
	ScriptReady   float64 `json:"scriptReady"`
	FirstGreeting float64 `json:"firstGreeting"`
	Bytes         float64 `json:"bytes"`
}

const readLoadTimes = `(() => {
	const nav = performance.getEntriesByType("navigation")[0];
	const paint = performance.getEntriesByName("first-contentful-paint")[0];
	const before = performance.getEntriesByType("resource").filter((e) => e.startTime < window.firstGreetingAt);
	return {firstPaint: paint ? paint.startTime : 0, scriptReady: nav.domContentLoadedEventStart,
		firstGreeting: window.firstGreetingAt,
		bytes: before.reduce((n, e) => n + e.transferSize, nav.transferSize)};
})()`

// slowPhone turns the slow phone's throttling on or off.
func slowPhone(on bool) chromedp.Action[chromedp.Void] {
	return devtools(func(ctx context.Context, tab *chromedp.Target) error {
		conditions := []*network.Conditions{}
		rate := 1.0
		if on {
			conditions = append(conditions, &network.Conditions{Latency: phoneLatencyMs, DownloadThroughput: phoneDownBps, UploadThroughput: phoneUpBps})
			rate = phoneCPUFactor
		}
		if _, err := cdp.Call(ctx, tab, network.EmulateNetworkConditionsByRule,
			network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: conditions}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, tab, emulation.SetCPUThrottlingRate, emulation.SetCPUThrottlingRateParams{Rate: rate})
		return err
	})
}

// workerSettled resolves once the page's service worker, if it has one,
// is active (it has kept its copy of the page).
const workerSettled = `navigator.serviceWorker.getRegistration().then((r) => r && navigator.serviceWorker.ready)`

// measureLoad loads pageURL on the slow phone and returns its times. Cold,
// the browser's cache, and the origin's service workers and Cache Storage,
// are emptied first; warm, the page is loaded once
// unthrottled first and left to settle (the rules loaded, the service
// worker, if any, active), as a visit before would have.
func measureLoad(b *testing.B, ctx context.Context, pageURL string, warm bool) loadTimes {
	b.Helper()
	greeted := `window.firstGreetingAt !== undefined`
	prepare := devtools(func(ctx context.Context, tab *chromedp.Target) error {
		if _, err := cdp.Call(ctx, tab, network.ClearBrowserCache, cdp.Empty{}); err != nil {
			return err
		}
		u, err := url.Parse(pageURL)
		if err != nil {
			return err
		}
		_, err = cdp.Call(ctx, tab, storage.ClearDataForOrigin, storage.ClearDataForOriginParams{
			Origin: u.Scheme + "://" + u.Host, StorageTypes: "service_workers,cache_storage"})
		return err
	})
	if warm {
		prepare = chromedp.Steps(chromedp.Navigate(pageURL), chromedp.Poll[chromedp.Void](greeted),
			chromedp.Poll[chromedp.Void](rulesReady), chromedp.Evaluate[chromedp.Void](workerSettled, chromedp.EvalAwaitPromise))
	}
	browsertest.Do(b, ctx, 60*time.Second,
		prepare,
		slowPhone(true),
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](greeted),
		slowPhone(false),
	)
	return eval[loadTimes](b, ctx, readLoadTimes)
}

// BenchmarkPageFirstGreeting measures the page on a slow phone (DevTools
// throttling, see slowPhone): first paint, script ready, first greeting
// (the reply to Send pressed as soon as the script has run), cold and
// warm, and the bytes transferred before the greeting. docs/page.md has
// the figures. It takes some seconds a load:
//
//	go test -run '^$' -bench PageFirstGreeting -benchtime 5x ./web/
func BenchmarkPageFirstGreeting(b *testing.B) {
	ctx := browsertest.New(b)
	srv := servertest.Start(b, server.Config{})
	browsertest.Do(b, ctx, 10*time.Second, devtools(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, page.AddScriptToEvaluateOnNewDocument,
			page.AddScriptToEvaluateOnNewDocumentParams{Source: sendOnLoad})
		return err
	}))
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "cold", true: "warm"}[warm]
		b.Run(name, func(b *testing.B) {
			var sum loadTimes
			for b.Loop() {
				m := measureLoad(b, ctx, srv.URL+"/", warm)
				sum.FirstPaint += m.FirstPaint
				sum.ScriptReady += m.ScriptReady
				sum.FirstGreeting += m.FirstGreeting
				sum.Bytes += m.Bytes
			}
			n := float64(b.N)
			b.ReportMetric(sum.FirstPaint/n, "paint-ms")
			b.ReportMetric(sum.ScriptReady/n, "script-ms")
			b.ReportMetric(sum.FirstGreeting/n, "greeting-ms")
			b.ReportMetric(sum.Bytes/n, "bytes")
		})
	}
}
