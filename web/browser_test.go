package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/telemetry"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// ScreenshotDirVar names a directory where the browser test saves its
// screenshot of the page; by default it goes to the test's temp dir.
const ScreenshotDirVar = "HELLORPC_SCREENSHOT_DIR"

// wantContentType is the response Content-Type each protocol choice must show.
var wantContentType = map[string]string{
	"connect-json":   "application/json",
	"connect-binary": "application/proto",
	"connect-get":    "application/json",
	"grpcweb-binary": "application/grpc-web+proto",
	"grpcweb-json":   "application/grpc-web+json",
}

// rulesReady is true once the page has loaded the name's rules, after
// first paint.
const rulesReady = `document.documentElement.dataset.rules === "ready"`

// outcome is what the page shows after a call.
type outcome struct {
	State       string `json:"state"`
	Reply       string `json:"reply"`
	Protocol    string `json:"protocol"`
	ContentType string `json:"contentType"`
	RoundTrip   string `json:"roundTrip"`
}

// call opens pageURL, waits until the page has loaded the name's rules (as
// a person would type after the page has loaded), picks protocol, types
// name, presses Enter and waits for the page to show the outcome.
func call(t *testing.T, ctx context.Context, pageURL, protocol, name string) outcome {
	t.Helper()
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.ID("send")),
		chromedp.Poll[chromedp.Void](rulesReady),
		chromedp.SetValue(chromedp.ID("protocol"), protocol),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""`),
		chromedp.SendKeys(chromedp.ID("name"), name+kb.Enter),
	)
	return waitOutcome(t, ctx, protocol)
}

// outcomeOf opens pageURL, whose query asks for a call (?name=…), and
// waits for the page to show the outcome.
func outcomeOf(t *testing.T, ctx context.Context, pageURL string) outcome {
	t.Helper()
	browsertest.Do(t, ctx, 20*time.Second, chromedp.Navigate(pageURL))
	return waitOutcome(t, ctx, pageURL)
}

// waitOutcome waits for the page to show the outcome of the call of what.
func waitOutcome(t *testing.T, ctx context.Context, what string) outcome {
	t.Helper()
	return poll[outcome](t, ctx, "the outcome of "+what, `(() => {
		const state = document.getElementById("result").dataset.state;
		if (state !== "ok" && state !== "error") return null;
		const text = (id) => document.getElementById(id).textContent;
		return {state, reply: text("reply"), protocol: text("protocol-used"),
			contentType: text("content-type"), roundTrip: text("round-trip")};
	})()`)
}

func TestPageSameOrigin(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	for protocol, contentType := range wantContentType {
		t.Run(protocol, func(t *testing.T) {
			got := call(t, ctx, srv.URL+"/", protocol, "eric")
			assert.Equal(t, got.State, "ok", "state (reply: "+got.Reply+")")
			assert.Equal(t, got.Reply, "Hello, eric!", "reply")
			assert.Equal(t, got.ContentType, contentType, "Content-Type shown")
			assert.Contains(t, got.RoundTrip, " ms", "round trip shown")
			assert.Equal(t, srv.LastRequestTo("/rpc_package.HelloWorldService/SayHello").ContentType, requestContentType(protocol), "Content-Type the server saw")

			got = call(t, ctx, srv.URL+"/", protocol, "")
			assert.Equal(t, got.State, "error", "state for an empty name")
			assert.Equal(t, got.Reply, "Invalid argument: invalid name: name must not be empty"+checkedInPage, "error shown")

			got = call(t, ctx, srv.URL+"/", protocol, strings.Repeat("x", 101))
			assert.Equal(t, got.Reply, "Invalid argument: invalid name: name must be at most 100 characters, got 101"+checkedInPage,
				"error shown for a long name")
		})
	}

	got := call(t, ctx, srv.URL+"/", "connect-json", "eric")
	assert.Equal(t, got.Reply, "Hello, eric!", "reply before the screenshot")
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Click(chromedp.ID("stream")),
		chromedp.Poll[chromedp.Void](`document.getElementById("stream-result").dataset.state === "done"`),
	)
	time.Sleep(500 * time.Millisecond)                           // let the greetings' fade-in finish
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	assert.NoError(t, err, "screenshot")
	dir := os.Getenv(ScreenshotDirVar)
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, "page.png")
	assert.NoError(t, os.WriteFile(path, shot, 0o644), "save screenshot")
	t.Logf("screenshot of the page after a successful call: %s", path)
}

// requestContentType is the request Content-Type each protocol choice sends.
func requestContentType(protocol string) string {
	if protocol == "connect-get" {
		return ""
	}
	return wantContentType[protocol]
}

func TestPageCrossOrigin(t *testing.T) {
	ctx := browsertest.New(t)
	page := servertest.Start(t, server.Config{})
	allowing := servertest.Start(t, server.Config{CORSOrigins: []string{page.URL}})
	refusing := servertest.Start(t, server.Config{CORSOrigins: []string{"http://elsewhere.example"}})
	assert.True(t, page.URL != allowing.URL, "page and API are on different origins")

	for protocol, contentType := range wantContentType {
		t.Run(protocol, func(t *testing.T) {
			got := call(t, ctx, page.URL+"/?api="+url.QueryEscape(allowing.URL), protocol, "eric")
			assert.Equal(t, got.State, "ok", "state with the origin allowed (reply: "+got.Reply+")")
			assert.Equal(t, got.Reply, "Hello, eric!", "reply")
			assert.Equal(t, got.ContentType, contentType, "Content-Type shown")
			assert.Equal(t, allowing.LastRequestTo("/rpc_package.HelloWorldService/SayHello").ContentType, requestContentType(protocol), "Content-Type the API saw")

			got = call(t, ctx, page.URL+"/?api="+url.QueryEscape(refusing.URL), protocol, "eric")
			assert.Equal(t, got.State, "error", "state with the origin not allowed")
			assert.Contains(t, got.Reply, "Network or CORS failure", "error shown")
		})
	}
}

// allowAnyOrigin lets any origin call a stand-in server: it adds the CORS
// header and answers a preflight, reporting true when r was one.
func allowAnyOrigin(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	if r.Method != http.MethodOptions {
		return false
	}
	w.Header().Set("Access-Control-Allow-Methods", "POST, GET")
	w.Header().Set("Access-Control-Allow-Headers", "*")
	w.WriteHeader(http.StatusNoContent)
	return true
}

func TestPageTimeout(t *testing.T) {
	ctx := browsertest.New(t)
	page := servertest.Start(t, server.Config{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowAnyOrigin(w, r) {
			return
		}
		_, _ = io.Copy(io.Discard, r.Body) // then net/http notices the client leave
		select {                           // never answers in time
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer stall.Close()
	got := call(t, ctx, page.URL+"/?timeout=300&api="+url.QueryEscape(stall.URL), "connect-json", "eric")
	assert.Equal(t, got.State, "error", "state")
	assert.Equal(t, got.Reply, "Timed out: no reply within 300 ms.", "error shown")
}

// TestPageRefusesNonHTTPAPIAndEnforcesItsPolicy opens the page with an ?api=
// that is no http(s) URL: the page says it ignored it and calls its own
// origin. Then it checks that the browser enforces the page's
// Content-Security-Policy: an inline script is refused.
func TestPageRefusesNonHTTPAPIAndEnforcesItsPolicy(t *testing.T) {
	ctx := browsertest.New(t)
	page := servertest.Start(t, server.Config{})
	got := call(t, ctx, page.URL+"/?api="+url.QueryEscape("javascript:alert(1)"), "connect-json", "eric")
	assert.Equal(t, got.State, "ok", "state (reply "+got.Reply+")")
	assert.Equal(t, got.Reply, "Hello, eric!", "the call went to the page's own origin")
	evalCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	notice, err := chromedp.Run(evalCtx, chromedp.Evaluate[string](`(() => {
		const n = document.getElementById("api-notice");
		return n.hidden ? "" : n.textContent;
	})()`))
	assert.NoError(t, err, "read the notice")
	assert.Contains(t, notice, "must be an http: or https: URL", "the page says why ?api= was ignored")

	violated, err := chromedp.Run(evalCtx, chromedp.Evaluate[string](`new Promise((resolve) => {
		document.addEventListener("securitypolicyviolation", (e) => resolve(e.effectiveDirective));
		const s = document.createElement("script");
		s.textContent = "window.inlineRan = true";
		document.body.append(s);
		setTimeout(() => resolve(window.inlineRan ? "inline script ran" : "no violation reported"), 2000);
	})`, chromedp.EvalAwaitPromise))
	assert.NoError(t, err, "add an inline script")
	assert.Equal(t, violated, "script-src-elem", "the CSP refuses an inline script")
}

// TestPageCallSharesItsTraceWithTheServer checks that a call from the page
// carries a W3C traceparent: the page shows the trace id, and the server's
// access log line for the call has the same one (its span continues the
// browser's trace), cross-origin too (the preflight allows the header).
func TestPageCallSharesItsTraceWithTheServer(t *testing.T) {
	ctx := browsertest.New(t)
	tel, err := telemetry.New(telemetry.Options{})
	assert.NoError(t, err, "telemetry")
	logs := &servertest.Buffer{}
	page := servertest.Start(t, server.Config{})
	api := servertest.Start(t, server.Config{Telemetry: tel, CORSOrigins: []string{page.URL},
		Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	for _, protocol := range []string{"connect-json", "grpcweb-binary", "connect-get"} {
		got := call(t, ctx, page.URL+"/?api="+url.QueryEscape(api.URL), protocol, "eric")
		assert.Equal(t, got.Reply, "Hello, eric!", protocol+" reply")
		evalCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		shown, err := chromedp.Run(evalCtx, chromedp.Evaluate[string](`document.getElementById("trace-id").textContent`))
		cancel()
		assert.NoError(t, err, "read the trace id")
		assert.Equal(t, len(shown), 32, protocol+": a trace id is shown: "+shown)
		var logged []string
		for line := range strings.Lines(logs.String()) {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["path"] == "/rpc_package.HelloWorldService/SayHello" {
				id, _ := rec["trace_id"].(string)
				logged = append(logged, id)
			}
		}
		assert.True(t, len(logged) > 0 && logged[len(logged)-1] == shown,
			fmt.Sprintf("%s: the server logged the page's trace id %s (logged %v)", protocol, shown, logged))
	}
}

// checkedInPage ends the message of a name that the page refused itself.
const checkedInPage = " (checked in the page; nothing was sent)"

// TestPageChecksTheNameBeforeSending checks that the page applies the
// proto's rules itself: an invalid name is refused with the message the
// server answers for it, and no call reaches the server; a valid one near
// the limit goes through.
func TestPageChecksTheNameBeforeSending(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	for _, name := range []string{"", strings.Repeat("é", 101)} {
		_, want := serverVerdict(t, servertest.HTTP1Client(t), srv.URL, name)
		assert.Contains(t, want, "invalid name: name must", "the server's message")
		before := srv.RequestsTo("/rpc_package.HelloWorldService/SayHello")
		got := call(t, ctx, srv.URL, "connect-json", name)
		assert.Equal(t, got.State, "error", "state for "+strconv.Quote(name))
		assert.Equal(t, got.Reply, "Invalid argument: "+want+checkedInPage, "the page's message")
		assert.Equal(t, srv.RequestsTo("/rpc_package.HelloWorldService/SayHello"), before, "calls that reached the server")
	}
	got := call(t, ctx, srv.URL, "connect-json", strings.Repeat("é", 100))
	assert.Equal(t, got.State, "ok", "state for 100 code points (reply "+got.Reply+")")
}
