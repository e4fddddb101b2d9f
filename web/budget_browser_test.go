package web_test

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/browsertest"
)

// criticalPathBudget is the most that a first greeting may cost on a cold
// load, in bytes transferred (headers included): the page, its assets and
// the call.
const criticalPathBudget = 50_000

// transfer is what DevTools saw of one request.
type transfer struct {
	url      string
	encoding string  // the response's Content-Encoding
	bytes    float64 // transferred, headers included (encodedDataLength)
}

// transferLog records every request of a tab, by request id.
type transferLog struct {
	mu   sync.Mutex
	byID map[network.RequestID]*transfer
}

func (l *transferLog) entry(id network.RequestID) *transfer {
	if l.byID[id] == nil {
		l.byID[id] = &transfer{}
	}
	return l.byID[id]
}

// byURL returns the finished transfers by URL.
func (l *transferLog) byURL() map[string]transfer {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]transfer)
	for _, tr := range l.byID {
		out[tr.url] = *tr
	}
	return out
}

// logTransfers enables the network domain of the tab and records its
// requests until the test ends.
func logTransfers(t testing.TB, ctx context.Context) *transferLog {
	t.Helper()
	l := &transferLog{byID: make(map[network.RequestID]*transfer)}
	listen, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	browsertest.Do(t, ctx, 10*time.Second, devtools(func(ctx context.Context, tab *chromedp.Target) error {
		record(l, &wg, cdp.Events(listen, tab, network.RequestWillBeSent), func(ev network.EventRequestWillBeSent) {
			l.entry(ev.RequestID).url = ev.Request.URL
		})
		record(l, &wg, cdp.Events(listen, tab, network.ResponseReceived), func(ev network.EventResponseReceived) {
			for k, v := range ev.Response.Headers {
				if strings.EqualFold(k, "Content-Encoding") {
					l.entry(ev.RequestID).encoding = fmt.Sprint(v)
				}
			}
		})
		record(l, &wg, cdp.Events(listen, tab, network.LoadingFinished), func(ev network.EventLoadingFinished) {
			l.entry(ev.RequestID).bytes = ev.EncodedDataLength
		})
		_, err := cdp.Call(ctx, tab, network.Enable, network.EnableParams{})
		return err
	}))
	return l
}

// record applies each of events to l, under its lock, until they end.
func record[E any](l *transferLog, wg *sync.WaitGroup, events iter.Seq2[E, error], apply func(E)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev, err := range events {
			if err != nil {
				return
			}
			l.mu.Lock()
			apply(ev)
			l.mu.Unlock()
		}
	}()
}

// pathTimeline is what the page's own timing says of a load: the URLs
// requested before it showed the first greeting, and after.
type pathTimeline struct {
	Before []string `json:"before"`
	After  []string `json:"after"`
}

const readTimeline = `(() => {
	const greeting = performance.getEntriesByName("greeting")[0].startTime;
	const resources = performance.getEntriesByType("resource");
	return {
		before: [location.href, ...resources.filter((e) => e.startTime < greeting).map((e) => e.name)],
		after: resources.filter((e) => e.startTime >= greeting).map((e) => e.name),
	};
})()`

// TestPageFirstGreetingFitsTheByteBudget loads the page cold (a fresh
// profile) at an address that asks for a call, and adds up what crossed
// the network before the first greeting showed: at most criticalPathBudget
// bytes, every text asset sent with brotli, no request but the page and the
// call (each one more is a round trip), and the name's rules (the
// validator, most of the code) loaded only after the greeting.
func TestPageFirstGreetingFitsTheByteBudget(t *testing.T) {
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	log := logTransfers(t, ctx)
	got := outcomeOf(t, ctx, srv.URL+"/?name=eric")
	assert.Equal(t, got.Reply, "Hello, eric!", "first greeting")
	poll[bool](t, ctx, "the rules to load after the greeting", rulesReady)
	timeline := eval[pathTimeline](t, ctx, readTimeline)

	transfers := log.byURL()
	total, sawCall := 0.0, false
	for _, u := range timeline.Before {
		tr, ok := transfers[u]
		assert.True(t, ok, "DevTools saw the request for "+u)
		assert.True(t, tr.bytes > 0, "DevTools saw the transfer of "+u)
		assert.True(t, !strings.Contains(u, "/assets/rules-"), "the rules load after the first greeting, not "+u)
		if strings.Contains(u, "/assets/") || strings.HasSuffix(u, "/?name=eric") {
			assert.Equal(t, tr.encoding, "br", "Content-Encoding of "+u)
		}
		sawCall = sawCall || strings.HasSuffix(u, "/SayHello")
		total += tr.bytes
		t.Logf("%6.0f bytes  %s %s", tr.bytes, tr.encoding, u)
	}
	t.Logf("%6.0f bytes before the first greeting (budget %d)", total, criticalPathBudget)
	assert.True(t, sawCall, "the call is on the critical path")
	assert.Equal(t, len(timeline.Before), 2, fmt.Sprintf("requests before the first greeting: the page and the call only (%v)", timeline.Before))
	assert.True(t, total <= criticalPathBudget, fmt.Sprintf("%.0f bytes before the first greeting, over the budget of %d", total, criticalPathBudget))
	rulesAfter := false
	for _, u := range timeline.After {
		rulesAfter = rulesAfter || strings.Contains(u, "/assets/rules-")
	}
	assert.True(t, rulesAfter, fmt.Sprintf("the rules loaded after the greeting (after: %v)", timeline.After))
}
