package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// TestPageStreamsIncrementally streams in every protocol choice: the first
// greeting shows while the server holds the rest. "Connect GET" streams as
// Connect JSON (streams POST); REST streams as NDJSON by default (an
// unknown ?rest-stream= too) or as server-sent events.
func TestPageStreamsIncrementally(t *testing.T) {
	ctx := browsertest.New(t)
	hold := &servertest.Gate{}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: hold.Pace}})
	for query, contentType := range map[string]string{
		"protocol=connect-json":          "application/connect+json",
		"protocol=connect-binary":        "application/connect+proto",
		"protocol=grpcweb-binary":        "application/grpc-web+proto",
		"protocol=grpcweb-json":          "application/grpc-web+json",
		"protocol=grpcweb-text":          "application/grpc-web-text+proto",
		"protocol=rest":                  "application/x-ndjson",
		"protocol=rest&rest-stream=sse":  "text/event-stream",
		"protocol=rest&rest-stream=none": "application/x-ndjson",
		"protocol=connect-get":           "application/connect+json",
	} {
		t.Run(query, func(t *testing.T) {
			streamsIncrementally(t, ctx, hold, srv.URL+"/?"+query, contentType)
		})
	}
}

// streamsIncrementally opens pageURL, streams, and checks that the first
// greeting shows while the server holds the rest, that all arrive, and that
// the status names contentType.
func streamsIncrementally(t *testing.T, ctx context.Context, hold *servertest.Gate, pageURL, contentType string) {
	t.Helper()
	want := greeter.Greetings("eric")
	release := hold.Arm()
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(pageURL),
		chromedp.WaitVisible(chromedp.ID("stream")),
		chromedp.Click(chromedp.ID("stream")),
	)
	wait, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// The first greeting shows while the server still holds the rest.
	first, err := chromedp.Run(wait, chromedp.Poll[string](`(() => {
		const items = document.querySelectorAll("#greetings li");
		return items.length > 0 ? items[0].textContent : null;
	})()`))
	assert.NoError(t, err, "wait for the first greeting")
	assert.Equal(t, first, want[0], "first greeting")
	count, err := chromedp.Run(wait, chromedp.Evaluate[int](`document.querySelectorAll("#greetings li").length`))
	assert.NoError(t, err, "count greetings")
	assert.Equal(t, count, 1, "greetings shown before the server sends the second")

	close(release)
	got, err := chromedp.Run(wait, chromedp.Poll[[]string](`(() => {
		if (document.getElementById("stream-result").dataset.state !== "done") return null;
		return [...document.querySelectorAll("#greetings li")].map((li) => li.textContent);
	})()`))
	assert.NoError(t, err, "wait for the end of the stream")
	assert.Equal(t, got, want, "greetings")
	status, err := chromedp.Run(wait, chromedp.Text(chromedp.ID("stream-status")))
	assert.NoError(t, err, "status")
	assert.Contains(t, status, "("+contentType+")", "status names the Content-Type")
}
