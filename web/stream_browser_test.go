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

func TestPageStreamsIncrementally(t *testing.T) {
	ctx := browsertest.New(t)
	hold := &servertest.Gate{}
	srv := servertest.Start(t, server.Config{Greeter: greeter.Options{Pace: hold.Pace}})
	want := greeter.Greetings("eric")
	for protocol, contentType := range map[string]string{
		"connect-json":   "application/connect+json",
		"connect-binary": "application/connect+proto",
		"grpcweb-binary": "application/grpc-web+proto",
		"grpcweb-json":   "application/grpc-web+json",
	} {
		t.Run(protocol, func(t *testing.T) {
			release := hold.Arm()
			browsertest.Do(t, ctx, 20*time.Second,
				chromedp.Navigate(srv.URL+"/?protocol="+protocol),
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
		})
	}
}
