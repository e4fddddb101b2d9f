package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// TestPageClearsThePreviousCallOnAPageSideError makes a call, then one
// that the page refuses itself (the API base URL is no http(s) URL): no row
// may still show the first call's values.
func TestPageClearsThePreviousCallOnAPageSideError(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	got := call(t, ctx, srv.URL+"/", "connect-json", "eric")
	assert.Equal(t, got.Reply, "Hello, eric!", "first call")
	assert.Equal(t, len(eval[string](t, ctx, `document.getElementById("trace-id").textContent`)), 32, "a trace id is shown")

	browsertest.Do(t, ctx, 10*time.Second,
		chromedp.SetValue(chromedp.ID("api"), "ftp://example.com"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("result").dataset.state = "idle"`),
		chromedp.Click(chromedp.ID("send")),
	)
	got = waitOutcome(t, ctx, "a call to an ftp: API")
	assert.Equal(t, got.State, "error", "state")
	assert.Contains(t, got.Reply, "must be an http: or https: URL", "error shown")
	assert.Equal(t, got.Protocol, "none (not sent)", "protocol row")
	assert.Equal(t, got.ContentType, "none (not sent)", "Content-Type row")
	assert.Equal(t, got.RoundTrip, "—", "round trip row")
	assert.Equal(t, eval[string](t, ctx, `document.getElementById("trace-id").textContent`), "—", "trace row")
	assert.Contains(t, eval[string](t, ctx, `document.getElementById("wire-summary").textContent`), "not sent", "wire view")
}

// TestPageFormWorksBeforeItsScript sends the form with JavaScript off, as
// when Enter is pressed before the script has run: the browser loads the
// page again with the fields in the query, and no broken URL. With
// JavaScript on, that address makes the call it describes, with no warning
// about the empty ?api=.
func TestPageFormWorksBeforeItsScript(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	browsertest.Do(t, ctx, 20*time.Second,
		scriptsDisabled(true),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("send")),
		// The DOM domain, not a script: scripts are off.
		chromedp.SetAttributeValue(chromedp.CSS(`#protocol option[value="grpcweb-text"]`), "selected", ""),
		chromedp.SetAttributeValue(chromedp.ID("name"), "value", "zoe"),
	)
	// Enter sends the form: the page goes away under the key event, which
	// may report so; the new page's load event says it is back.
	browsertest.Do(t, ctx, 20*time.Second, devtools(func(ctx context.Context, tab *chromedp.Target) error {
		loads := cdp.Events(ctx, tab, page.LoadEventFired)
		if _, err := chromedp.SendKeys(chromedp.ID("name"), kb.Enter)(ctx, tab); err != nil && !strings.Contains(err.Error(), "navigated") {
			return err
		}
		for _, err := range loads {
			return err
		}
		return nil
	}))
	sent, err := url.Parse(eval[string](t, ctx, `location.href`))
	assert.NoError(t, err, "parse the address")
	assert.Equal(t, sent.Path, "/", "the form loads the page again")
	q := sent.Query()
	assert.Equal(t, q.Get("name"), "zoe", "name in the address")
	assert.Equal(t, q.Get("protocol"), "grpcweb-text", "protocol in the address")
	assert.Equal(t, q.Get("call"), "unary", "the button pressed")
	assert.Equal(t, eval[string](t, ctx, `document.getElementById("reply").textContent`),
		"Press Send (or Enter) to call SayHello.", "nothing happens without JavaScript")

	browsertest.Do(t, ctx, 10*time.Second, scriptsDisabled(false))
	got := outcomeOf(t, ctx, sent.String())
	assert.Equal(t, got.State, "ok", "state (reply "+got.Reply+")")
	assert.Equal(t, got.Reply, "Hello, zoe!", "the call the address describes")
	assert.Contains(t, got.Protocol, "gRPC-Web, text", "in its protocol")
	assert.True(t, eval[bool](t, ctx, `document.getElementById("api-notice").hidden`), "no warning about ?api=")

	// The stream button sends call=stream, and the address streams.
	got2 := eval[string](t, ctx, `(() => { const u = new URL(location.href); u.searchParams.set("call", "stream"); return u.href; })()`)
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(got2),
		chromedp.Poll[chromedp.Void](`document.getElementById("stream-result").dataset.state === "done"`),
	)
	assert.Equal(t, eval[int](t, ctx, `document.querySelectorAll("#greetings li").length`), len(greeter.Greetings("zoe")), "greetings")
}

// TestPageSaysWhenTheConnectionBreaksMidStream streams from a server that
// sends one greeting and then drops the connection, as a killed server
// does: the page says the answer broke off, after how many replies.
func TestPageSaysWhenTheConnectionBreaksMidStream(t *testing.T) {
	ctx := browsertest.New(t)
	page := servertest.Start(t, server.Config{})
	die := make(chan struct{})
	dying := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allowAnyOrigin(w, r) {
			return
		}
		w.Header().Set("Content-Type", "application/connect+json")
		w.WriteHeader(http.StatusOK)
		msg := `{"message":"Hello, eric!"}`
		_, _ = fmt.Fprintf(w, "\x00\x00\x00\x00%c%s", len(msg), msg)
		w.(http.Flusher).Flush()
		select { // until the page shows the greeting
		case <-die:
		case <-r.Context().Done():
			return
		}
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close() // no end of stream, no last chunk
		}
	}))
	defer dying.Close()
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(page.URL+"/?protocol=connect-json&api="+url.QueryEscape(dying.URL)),
		chromedp.Click(chromedp.ID("stream")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#greetings li").length === 1`),
	)
	close(die)
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Poll[chromedp.Void](`document.getElementById("stream-result").dataset.state === "error"`))
	assert.Equal(t, eval[int](t, ctx, `document.querySelectorAll("#greetings li").length`), 1, "the greeting that arrived stays")
	status := eval[string](t, ctx, `document.getElementById("stream-status").textContent`)
	assert.Contains(t, status, "Connection lost: the answer from "+dying.URL+" broke off after 1 reply", "status")
	assert.True(t, !strings.Contains(status, "unknown"), "no bare code: "+status)
}

// TestPageDoesNotBlameCORSOnItsOwnOrigin calls an API on the page's own
// origin that drops the connection without an answer: the message asks
// whether the server runs, and does not mention CORS, which cannot apply.
func TestPageDoesNotBlameCORSOnItsOwnOrigin(t *testing.T) {
	ctx := browsertest.New(t)
	var down atomic.Bool
	srv := servertest.Start(t, server.Config{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() && strings.HasPrefix(r.URL.Path, "/rpc_package.") {
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					_ = conn.Close()
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	browsertest.Do(t, ctx, 20*time.Second, chromedp.Navigate(srv.URL+"/"), chromedp.Poll[chromedp.Void](rulesReady))
	down.Store(true)
	browsertest.Do(t, ctx, 10*time.Second, chromedp.Click(chromedp.ID("send")))
	got := waitOutcome(t, ctx, "a call to a server that is gone")
	assert.Equal(t, got.State, "error", "state")
	assert.Equal(t, got.Reply, "Network failure: no answer from "+srv.URL+". Is the server running?", "error shown")
}

// TestPageScrollsStreamedRepliesIntoView streams on a phone-sized screen
// (390×844), where the list of greetings starts below the fold: each
// greeting scrolls into view as it arrives, so the last one ends in view.
func TestPageScrollsStreamedRepliesIntoView(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("stream")),
	)
	below := eval[bool](t, ctx, `document.getElementById("greetings").getBoundingClientRect().top > innerHeight`)
	assert.True(t, below, "on a phone the greetings start below the fold")
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("stream").click()`), // no scrolling to the button first
		chromedp.Poll[chromedp.Void](`document.getElementById("stream-result").dataset.state === "done"`),
	)
	// Smooth scrolling ends on its own time: wait until it has.
	poll[bool](t, ctx, "the last greeting in view", `(() => {
		const r = document.querySelector("#greetings li:last-child").getBoundingClientRect();
		return r.top >= 0 && r.bottom <= innerHeight;
	})()`)
}

// TestPageReadsAnErrorWithoutAConnectBodyAsConnectDoes has a proxy in
// front of the server answer every call with a plain 503 page, as a
// balancer with no backend does: the page's first call (made by its inline
// script, ?name=) and a call of the full page (connect-es) read it alike,
// with the code the Connect protocol gives the HTTP status.
func TestPageReadsAnErrorWithoutAConnectBodyAsConnectDoes(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{}, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/rpc_package.") {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = fmt.Fprint(w, "<html><body><h1>503 Service Unavailable</h1>No server is available.</body></html>\n")
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	first := outcomeOf(t, ctx, srv.URL+"/?name=eric")
	assert.Equal(t, first.State, "error", "state of the first call")
	assert.Equal(t, first.Reply, "unavailable: HTTP 503", "the first call's error")
	full := call(t, ctx, srv.URL+"/", "connect-json", "eric")
	assert.Equal(t, full.Reply, first.Reply, "the full page's error, as the first call's")
}
