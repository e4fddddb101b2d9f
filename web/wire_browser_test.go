package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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

// wireCase is one call whose wire view and copied commands are checked.
type wireCase struct {
	protocol   string
	restStream string // "ndjson" or "sse", for REST streams
	stream     bool
}

func (c wireCase) String() string {
	kind := "unary"
	if c.stream {
		kind = "stream"
	}
	return c.protocol + "/" + kind + map[string]string{"sse": "/sse"}[c.restStream]
}

// wireCases are every protocol choice, unary and streaming ("Connect GET"
// streams as Connect JSON; REST streams as NDJSON and as server-sent events).
func wireCases() []wireCase {
	var cases []wireCase
	for _, p := range []string{"connect-json", "connect-binary", "connect-get", "grpcweb-binary", "grpcweb-json", "grpcweb-text", "rest"} {
		cases = append(cases, wireCase{protocol: p}, wireCase{protocol: p, stream: true})
	}
	return append(cases, wireCase{protocol: "rest", restStream: "sse", stream: true})
}

// wireShown is what the wire view shows of the last call.
type wireShown struct {
	RequestLine  string `json:"requestLine"`
	ResponseLine string `json:"responseLine"`
	Headers      string `json:"headers"`
	Body         string `json:"body"` // base64 of the response body's bytes
	Trailers     string `json:"trailers"`
	Curl         string `json:"curl"`
	GRPCurl      string `json:"grpcurl"`
}

const readWire = `(() => {
	const text = (id) => document.getElementById(id).textContent;
	return {requestLine: text("wire-request-line"), responseLine: text("wire-response-line"),
		headers: text("wire-response-headers"), body: document.getElementById("wire-response-body").dataset.base64,
		trailers: text("wire-trailers"), curl: text("curl-command"), grpcurl: text("grpcurl-command")};
})()`

// lastCall makes the call of c on the page at pageURL and returns the wire
// view once it shows the call.
func lastCall(t *testing.T, ctx context.Context, pageURL string, c wireCase) wireShown {
	t.Helper()
	button, done := "send", `document.getElementById("result").dataset.state === "ok"`
	if c.stream {
		button, done = "stream", `document.getElementById("stream-result").dataset.state === "done"`
	}
	browsertest.Do(t, ctx, 20*time.Second,
		chromedp.Navigate(pageURL+"/?protocol="+c.protocol+"&rest-stream="+c.restStream),
		chromedp.WaitVisible(chromedp.ID(button)),
		chromedp.Click(chromedp.ID(button)),
		chromedp.Poll[chromedp.Void](done),
		chromedp.Poll[chromedp.Void](`!document.getElementById("copy-curl").disabled`),
	)
	return eval[wireShown](t, ctx, readWire)
}

// copied clicks the copy button id and returns what it put on the clipboard.
func copied(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	browsertest.Do(t, ctx, 10*time.Second,
		chromedp.Evaluate[chromedp.Void](`document.getElementById("copy-status").textContent = ""`),
		chromedp.Click(chromedp.ID(id)),
	)
	status := poll[string](t, ctx, "the page to copy", `document.getElementById("copy-status").textContent`)
	assert.True(t, strings.HasPrefix(status, "Copied"), "the page copied: "+status)
	return eval[string](t, ctx, `navigator.clipboard.readText()`)
}

// shell runs command with sh, with PATH set to dirs, and returns its output.
func shell(t *testing.T, command string, dirs ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.Env = append(os.Environ(), "PATH="+strings.Join(dirs, ":"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	assert.NoError(t, err, "run "+command+": "+stderr.String())
	return out
}

// textModeBytes decodes a gRPC-Web text body (base64 chunks, each padded)
// to the binary body it carries: where the server flushed, and so where
// the chunks end, differs from call to call.
func textModeBytes(t *testing.T, text []byte) []byte {
	t.Helper()
	var out []byte
	for i := 0; i+4 <= len(text); i += 4 {
		b, err := base64.StdEncoding.DecodeString(string(text[i : i+4]))
		assert.NoError(t, err, "decode text mode body")
		out = append(out, b...)
	}
	return out
}

// TestPageShowsTheWireAndCopiesCurl makes every kind of call the page
// offers and checks its wire view (request line, status, trailers where the
// protocol has them), then copies "as curl", runs the copied command with
// /usr/bin/curl against the same server and checks that it gets the same
// answer, byte for byte; for gRPC-shaped calls it runs the copied grpcurl
// command too.
func TestPageShowsTheWireAndCopiesCurl(t *testing.T) {
	if _, err := os.Stat("/usr/bin/curl"); err != nil {
		testenv.Missing(t, "/usr/bin/curl (apt-get install curl)", err)
	}
	ctx := browsertest.New(t)
	srv := servertest.Start(t, server.Config{})
	allowClipboard(t, ctx, srv.URL)
	// Streams scroll smoothly; a click while the page moves may miss.
	browsertest.Do(t, ctx, 10*time.Second, mediaFeatures(map[string]string{"prefers-reduced-motion": "reduce"}))
	paths := map[bool]map[bool]string{ // by REST, by streaming
		false: {false: "/rpc_package.HelloWorldService/SayHello", true: "/rpc_package.HelloWorldService/LotsOfReplies"},
		true:  {false: "/v1/hello/eric", true: "/v1/hello/eric/replies"},
	}
	for _, c := range wireCases() {
		t.Run(c.String(), func(t *testing.T) {
			shown := lastCall(t, ctx, srv.URL, c)
			rest := c.protocol == "rest"
			method := "POST"
			if rest || (c.protocol == "connect-get" && !c.stream) {
				method = "GET"
			}
			assert.True(t, strings.HasPrefix(shown.RequestLine, method+" "+srv.URL+paths[rest][c.stream]),
				"request line: "+shown.RequestLine)
			assert.True(t, strings.HasPrefix(shown.ResponseLine, "HTTP 200"), "response line: "+shown.ResponseLine)
			assert.Contains(t, shown.Headers, "content-type: ", "response headers")
			switch {
			case strings.HasPrefix(c.protocol, "grpcweb"):
				assert.Contains(t, shown.Trailers, "grpc-status: 0", "gRPC-Web trailers")
			case c.stream && !rest:
				assert.True(t, strings.HasPrefix(shown.Trailers, "end of stream: {"), "Connect end of stream: "+shown.Trailers)
			case rest:
				assert.Equal(t, shown.Trailers, "(none)", "REST has no trailers")
			}

			curl := copied(t, ctx, "copy-curl")
			assert.Equal(t, curl, shown.Curl, "the clipboard holds the command shown")
			assert.True(t, strings.HasPrefix(curl, "curl ") || strings.HasPrefix(curl, "printf "), "a curl command: "+curl)
			got := shell(t, curl, "/usr/bin", "/bin")
			want, err := base64.StdEncoding.DecodeString(shown.Body)
			assert.NoError(t, err, "decode the recorded body")
			assert.True(t, len(want) > 0, "the page recorded the answer's body")
			if c.protocol == "grpcweb-text" {
				got, want = textModeBytes(t, got), textModeBytes(t, want)
			}
			assert.Equal(t, string(got), string(want), "curl gets the answer the page got")

			if rest {
				assert.Equal(t, shown.GRPCurl, "", "no grpcurl command for REST")
				return
			}
			grpcurl, err := testenv.GoInstalled("grpcurl")
			if err != nil {
				testenv.Missing(t, "grpcurl (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)", err)
			}
			command := copied(t, ctx, "copy-grpcurl")
			assert.Equal(t, command, shown.GRPCurl, "the clipboard holds the grpcurl command shown")
			out := string(shell(t, command, filepath.Dir(grpcurl), "/usr/bin", "/bin"))
			wantReplies := []string{"Hello, eric!"}
			if c.stream {
				wantReplies = greeter.Greetings("eric")
			}
			replies := regexp.MustCompile(`"message": "([^"]*)"`).FindAllStringSubmatch(out, -1)
			assert.Equal(t, len(replies), len(wantReplies), "grpcurl replies: "+out)
			for i, r := range replies {
				assert.Equal(t, r[1], wantReplies[i], "grpcurl reply")
			}
		})
	}
}
