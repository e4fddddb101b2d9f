package web_test

import (
	"bytes"
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
	"github.com/hellorpc/hellorpc/web"
)

// pageHold holds the server's answers for the page itself (GET / and
// /index.html, not its assets or calls) while it is on, each at most for
// bound, and counts those it let go because the bound passed.
type pageHold struct {
	on, timedOut atomic.Bool
	release      chan struct{}
	bound        time.Duration
}

func (h *pageHold) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.on.Load() && (r.URL.Path == "/" || r.URL.Path == "/index.html") {
			select {
			case <-h.release:
			case <-r.Context().Done():
			case <-time.After(h.bound):
				h.timedOut.Store(true)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// TestPageSecondVisitNeedsNoRoundTripForThePage visits the page, waits
// until its service worker controls it, and visits it again at an address
// that asks for a call while the server holds every answer for the page
// itself: the page shows the greeting all the same (the worker answered
// from its copy; only the call went to the server), and the worker's
// refresh of its copy is what the server held.
func TestPageSecondVisitNeedsNoRoundTripForThePage(t *testing.T) {
	ctx := browsertest.New(t)
	hold := &pageHold{release: make(chan struct{}), bound: 30 * time.Second}
	srv := servertest.Start(t, server.Config{}, hold.wrap)
	t.Cleanup(func() { close(hold.release) })

	browsertest.Do(t, ctx, 20*time.Second, chromedp.Navigate(srv.URL+"/"), chromedp.Poll[chromedp.Void](rulesReady))
	poll[bool](t, ctx, "the service worker to control the page", `navigator.serviceWorker.controller !== null`)
	pages := srv.RequestsTo("/")

	hold.on.Store(true)
	browsertest.Do(t, ctx, 40*time.Second, chromedp.Navigate(srv.URL+"/?name=eric"))
	got := waitOutcome(t, ctx, "a call on the second visit")
	assert.Equal(t, got.Reply, "Hello, eric!", "greeting on the second visit")
	assert.True(t, !hold.timedOut.Load(), "the greeting showed while the server held the page")
	for i := 0; i < 400 && srv.RequestsTo("/") == pages; i++ { // at most 20 s
		time.Sleep(50 * time.Millisecond)
	}
	assert.True(t, srv.RequestsTo("/") > pages, "the worker refreshes its copy behind the visit")
}

// upgrade stands for a new build of the server once on: the page names its
// module by another name (renamed), which serves the same file, and the
// old name is gone (404).
type upgrade struct {
	on               atomic.Bool
	oldName, renamed string // paths of the page's module
}

func (u *upgrade) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !u.on.Load() {
			next.ServeHTTP(w, r)
			return
		}
		switch r.URL.Path {
		case u.oldName:
			http.NotFound(w, r)
		case u.renamed:
			r = r.Clone(r.Context())
			r.URL.Path = u.oldName
			next.ServeHTTP(w, r)
		case "/", "/index.html":
			r = r.Clone(r.Context())
			r.Header.Del("Accept-Encoding") // the body as it is, to rename in
			r.Header.Del("If-None-Match")
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			body := bytes.ReplaceAll(rec.Body.Bytes(), []byte("."+u.oldName), []byte("."+u.renamed))
			maps.Copy(w.Header(), rec.Header())
			w.Header().Set("ETag", `"upgraded"`)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// TestPageRenewsACopyOlderThanTheServer visits the page until its service
// worker has a copy, then "upgrades" the server (the page's module has a
// new name, the old one is gone) and empties the browser's HTTP cache: the
// next visit gets the old copy, whose module no longer loads; the page
// renews the copy and reloads, once, and then runs the new build.
func TestPageRenewsACopyOlderThanTheServer(t *testing.T) {
	ctx := browsertest.New(t)
	u := &upgrade{oldName: assetsOf(t, web.Handler()).script, renamed: "/assets/main-UPGRADED.js"}
	srv := servertest.Start(t, server.Config{}, u.wrap)
	browsertest.Do(t, ctx, 20*time.Second, chromedp.Navigate(srv.URL+"/"), chromedp.Poll[chromedp.Void](rulesReady))
	poll[bool](t, ctx, "the service worker to control the page", `navigator.serviceWorker.controller !== null`)

	u.on.Store(true)
	browsertest.Do(t, ctx, 20*time.Second, devtools(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := cdp.Call(ctx, tab, network.ClearBrowserCache, cdp.Empty{})
		return err
	}), chromedp.Navigate(srv.URL+"/?name=eric"))
	// The page reloads under the poll, which then starts again.
	const upgraded = `document.querySelector("script[data-app]").dataset.app.includes("UPGRADED") &&
		document.documentElement.dataset.rules === "ready" &&
		document.getElementById("reply").textContent === "Hello, eric!" &&
		sessionStorage.getItem("hellorpc-reloaded") === null`
	var err error
	for range 10 {
		if err = runFor(ctx, 10*time.Second, chromedp.Poll[chromedp.Void](upgraded)); err == nil {
			break
		}
	}
	assert.NoError(t, err, "wait for the page to run the new build")
	assert.Equal(t, srv.RequestsTo(u.oldName) > 0, true, "the old module was asked for (and was gone)")
}

// runFor runs step, bounded by timeout.
func runFor(ctx context.Context, timeout time.Duration, step chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := chromedp.Run(ctx, step)
	return err
}
