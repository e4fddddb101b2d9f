package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// grpcWebPage bundles web/interop/grpcweb.ts (Google's grpc-web runtime) with
// esbuild and returns a directory holding it and its index.html.
func grpcWebPage(t *testing.T) string {
	t.Helper()
	esbuild := "node_modules/.bin/esbuild"
	if _, err := os.Stat(esbuild); err != nil {
		testenv.Missing(t, "esbuild (npm ci --prefix web)", err)
	}
	dir := t.TempDir()
	out, err := exec.Command(esbuild, "interop/grpcweb.ts", "--bundle", "--format=esm", "--log-level=warning",
		"--outfile="+filepath.Join(dir, "grpcweb.js")).CombinedOutput()
	assert.NoError(t, err, "bundle the grpc-web page: "+string(out))
	html := `<!doctype html><html><head><meta charset="utf-8"><title>grpc-web</title>` +
		`<script type="module" src="grpcweb.js"></script></head><body></body></html>`
	assert.NoError(t, os.WriteFile(filepath.Join(dir, "index.html"), []byte(html), 0o644), "write page")
	return dir
}

type grpcWebEvent struct {
	Kind, Text string
}

// startGRPCWebCall opens the page and starts one call; it returns the call's id.
func startGRPCWebCall(t *testing.T, ctx context.Context, pageURL, rpc, format string) int {
	t.Helper()
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "true"`),
	)
	id, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`window.hello.call(%q, "eric", %q)`, rpc, format)))
	assert.NoError(t, err, "start the call")
	return id
}

// grpcWebEvents waits until the call has at least n events (or is done when
// n is 0) and returns them.
func grpcWebEvents(t *testing.T, ctx context.Context, id, n int) []grpcWebEvent {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	cond := fmt.Sprintf(`window.hello.calls[%d].done`, id)
	if n > 0 {
		cond = fmt.Sprintf(`window.hello.calls[%d].events.length >= %d`, id, n)
	}
	events, err := chromedp.Run(ctx, chromedp.Poll[[]grpcWebEvent](fmt.Sprintf(
		`%s ? window.hello.calls[%d].events.map(e => ({kind: e.kind, text: e.text})) : null`, cond, id)))
	assert.NoError(t, err, "wait for the call's events")
	return events
}

func data(events []grpcWebEvent) []string {
	var out []string
	for _, e := range events {
		if e.Kind == "data" {
			out = append(out, e.Text)
		}
	}
	return out
}

// TestGoogleGRPCWebClient drives Google's grpc-web runtime in Chromium, in
// text mode (application/grpc-web-text, its default) and binary mode, unary
// and server streaming, same-origin and cross-origin, with no proxy. In text
// mode the stream is asserted incremental: the first greeting shows while the
// server still holds the rest.
func TestGoogleGRPCWebClient(t *testing.T) {
	ctx := browsertest.New(t)
	pageDir := grpcWebPage(t)
	assets := http.StripPrefix("/grpcweb/", http.FileServer(http.Dir(pageDir)))
	gate := &servertest.Gate{}
	sameOrigin := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: gate.Pace}},
		func(api http.Handler) http.Handler {
			mux := http.NewServeMux()
			mux.Handle("/grpcweb/", assets)
			mux.Handle("/", api)
			return mux
		})
	page := httptest.NewServer(http.FileServer(http.Dir(pageDir)))
	defer page.Close()
	crossOrigin := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: gate.Pace}, CORSOrigins: []string{page.URL}})

	origins := map[string]struct {
		pageURL string
		api     *servertest.Server
	}{
		"same-origin":  {sameOrigin.URL + "/grpcweb/", sameOrigin},
		"cross-origin": {page.URL + "/?api=" + url.QueryEscape(crossOrigin.URL), crossOrigin},
	}
	want := greeter.Greetings("eric")
	for origin, o := range origins {
		for format, contentType := range map[string]string{"text": "application/grpc-web-text", "binary": "application/grpc-web+proto"} {
			t.Run(origin+"/"+format, func(t *testing.T) {
				id := startGRPCWebCall(t, ctx, o.pageURL, "unary", format)
				events := grpcWebEvents(t, ctx, id, 0)
				assert.Equal(t, data(events), []string{"Hello, eric!"}, fmt.Sprintf("unary events %v", events))
				assert.Equal(t, o.api.LastRequestTo("/rpc_package.HelloWorldService/SayHello").ContentType, contentType, "Content-Type the server saw")

				release := gate.Arm()
				if format == "binary" {
					// The runtime's binary mode reads the response only when it is
					// complete (an XHR arraybuffer): it streams, but not incrementally.
					close(release)
				}
				id = startGRPCWebCall(t, ctx, o.pageURL, "server-stream", format)
				if format == "text" {
					first := grpcWebEvents(t, ctx, id, 1)
					assert.Equal(t, first, []grpcWebEvent{{"data", want[0]}}, "the first greeting arrives while the server holds the rest")
					close(release)
				}
				events = grpcWebEvents(t, ctx, id, 0)
				assert.Equal(t, data(events), want, fmt.Sprintf("streamed events %v", events))
				assert.Equal(t, events[len(events)-1].Kind, "end", "the stream ends cleanly")
				assert.True(t, !strings.Contains(fmt.Sprint(events), "error"), "no error")
			})
		}
	}
}
