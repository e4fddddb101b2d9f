package web_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
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
