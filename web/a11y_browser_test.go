package web_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// axeScript is axe-core as npm installs it (web/package.json pins it).
const axeScript = "node_modules/axe-core/axe.min.js"

// axeViolation is one rule that a page breaks, as axe-core reports it.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target  []string `json:"target"`
		Summary string   `json:"failureSummary"`
	} `json:"nodes"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	b.WriteString(v.ID + " (" + v.Help + "):")
	for _, n := range v.Nodes {
		b.WriteString("\n    " + strings.Join(n.Target, " ") + ": " + strings.ReplaceAll(n.Summary, "\n", " "))
	}
	return b.String()
}

// axeRun injects axe-core into the page (DevTools evaluation is not bound
// by the page's Content-Security-Policy) and runs every rule of WCAG 2.x A
// and AA and axe's best practices on the page at rest: its animations (the
// greetings' fade-in) are first brought to their end, else axe measures the
// contrast of text half faded in (seen on a loaded machine: the greetings
// of a stream just done at 3.5:1, #6a6c6f on #121417, which is #e6e8eb on
// its way from opacity 0 to 1).
func axeRun(t *testing.T, ctx context.Context, source string) []axeViolation {
	t.Helper()
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getAnimations().forEach((a) => a.finish())`),
		chromedp.Evaluate[chromedp.Void](source))
	raw := eval[json.RawMessage](t, ctx, `axe.run(document, {runOnly: {type: "tag",
		values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}).then((r) => r.violations)`)
	var violations []axeViolation
	assert.NoError(t, json.Unmarshal(raw, &violations), "decode axe's violations")
	return violations
}

// TestPageIsAccessibleInBothColorSchemes runs axe-core on the page in the
// light and the dark color scheme, in the states that show each kind of
// text: a reply, streamed greetings and the wire view open; an error and
// the notice about a refused ?api=. It wants no violation, colour contrast
// (4.5:1) included.
func TestPageIsAccessibleInBothColorSchemes(t *testing.T) {
	source, err := os.ReadFile(axeScript)
	if err != nil {
		testenv.Missing(t, "axe-core (npm ci --prefix web)", err)
	}
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	for _, scheme := range []string{"light", "dark"} {
		t.Run(scheme, func(t *testing.T) {
			browsertest.Do(t, ctx, 10*time.Second, mediaFeatures(map[string]string{"prefers-color-scheme": scheme}))
			got := call(t, ctx, srv.URL+"/", "grpcweb-binary", "eric")
			assert.Equal(t, got.State, "ok", "state")
			browsertest.Do(t, ctx, 20*time.Second,
				chromedp.Click(chromedp.ID("stream")),
				chromedp.Poll[chromedp.Void](`document.getElementById("stream-result").dataset.state === "done"`),
				chromedp.Evaluate[chromedp.Void](`document.getElementById("wire-details").open = true`),
			)
			dark := eval[bool](t, ctx, `matchMedia("(prefers-color-scheme: dark)").matches`)
			assert.Equal(t, dark, scheme == "dark", "the scheme is emulated")
			for _, v := range axeRun(t, ctx, string(source)) {
				t.Errorf("after a reply and a stream: %s", v)
			}

			got = call(t, ctx, srv.URL+"/?api="+url.QueryEscape("javascript:0"), "connect-json", "")
			assert.Equal(t, got.State, "error", "state")
			for _, v := range axeRun(t, ctx, string(source)) {
				t.Errorf("after an error, with a notice: %s", v)
			}
		})
	}
}
