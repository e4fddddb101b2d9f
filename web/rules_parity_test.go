package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// parityNames are the names whose verdicts the server and the page must
// agree on. jsJSON spells, as a JSON string, the name as the page holds it
// (UTF-16) when it cannot be the Go string: invalid UTF-8 is, in
// JavaScript, a lone surrogate.
var parityNames = []struct {
	label  string
	name   string
	jsJSON string
}{
	{label: "empty", name: ""},
	{label: "ascii", name: "eric"},
	{label: "100 ASCII", name: strings.Repeat("a", 100)},
	{label: "101 ASCII", name: strings.Repeat("a", 101)},
	{label: "100 emoji (200 UTF-16 units)", name: strings.Repeat("😀", 100)},
	{label: "101 emoji", name: strings.Repeat("😀", 101)},
	{label: "50 e + combining acute (100 code points)", name: strings.Repeat("e\u0301", 50)},
	{label: "51 e + combining acute (102 code points)", name: strings.Repeat("e\u0301", 51)},
	{label: "20 ZWJ families (100 code points)", name: strings.Repeat("👨\u200d👩\u200d👧", 20)},
	{label: "21 ZWJ families (105 code points)", name: strings.Repeat("👨\u200d👩\u200d👧", 21)},
	{label: "one space", name: " "},
	{label: "whitespace only", name: " \t\n\u00a0\u3000"},
	{label: "100 CJK", name: strings.Repeat("世", 100)},
	{label: "NUL", name: "\x00"},
	{label: "invalid UTF-8", name: "er\xffic", jsJSON: `"er\ud800ic"`},
}

// TestNameRuleParity runs one table of names through the server (SayHello
// in Connect proto, whose body can carry any bytes) and through the page's
// check under Node (src/rules.ts, @bufbuild/protovalidate), and asserts
// that both reach the same verdict with the same message. The one message
// that differs by design is invalid UTF-8: the server refuses it while
// decoding, before the rules, and the page says why in the rules' words.
func TestNameRuleParity(t *testing.T) {
	t.Parallel()
	js := pageVerdicts(t)
	srv := servertest.Start(t, server.Config{})
	client := servertest.HTTP1Client(t)
	for i, row := range parityNames {
		t.Run(row.label, func(t *testing.T) {
			code, message := serverVerdict(t, client, srv.URL, row.name)
			page := js[i]
			if code == "" {
				assert.True(t, page == nil, "the server accepts "+row.label+"; the page must too, got "+deref(page))
				return
			}
			assert.Equal(t, code, "invalid_argument", "the server's code for "+row.label)
			assert.True(t, page != nil, "the server refuses "+row.label+" ("+message+"); the page must too")
			if row.jsJSON != "" {
				assert.Contains(t, message, "invalid UTF-8", "the server's message")
				assert.Equal(t, *page, "invalid name: name must be valid UTF-8", "the page's message")
				return
			}
			assert.Equal(t, *page, message, "the page's message is the server's")
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "valid"
	}
	return *s
}

// serverVerdict calls SayHello with name and returns "" when it is answered,
// else the error's code and message.
func serverVerdict(t *testing.T, client *http.Client, base, name string) (code, message string) {
	t.Helper()
	body := protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), name)
	req, err := http.NewRequest(http.MethodPost, base+"/rpc_package.HelloWorldService/SayHello", bytes.NewReader(body))
	assert.NoError(t, err, "new request")
	req.Header.Set("Content-Type", "application/proto")
	res, err := client.Do(req)
	assert.NoError(t, err, "SayHello")
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK {
		return "", ""
	}
	var e struct{ Code, Message string }
	assert.NoError(t, json.NewDecoder(res.Body).Decode(&e), "decode the error")
	return e.Code, e.Message
}

// pageVerdicts bundles interop/rules.ts for Node and returns its verdicts
// for parityNames, in order.
func pageVerdicts(t *testing.T) []*string {
	t.Helper()
	esbuild := "node_modules/.bin/esbuild"
	if _, err := os.Stat(esbuild); err != nil {
		testenv.Missing(t, "esbuild (npm ci --prefix web)", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Missing(t, "node", err)
	}
	bundle := filepath.Join(t.TempDir(), "rules.mjs")
	out, err := exec.Command(esbuild, "interop/rules.ts", "--bundle", "--platform=node", "--format=esm",
		"--log-level=warning", "--outfile="+bundle).CombinedOutput()
	assert.NoError(t, err, "bundle interop/rules.ts: "+string(out))
	// JSON from Go writes invalid UTF-8 as U+FFFD; the JavaScript form of
	// that row is spelled out instead.
	var names []json.RawMessage
	for _, row := range parityNames {
		if row.jsJSON != "" {
			names = append(names, json.RawMessage(row.jsJSON))
			continue
		}
		b, err := json.Marshal(row.name)
		assert.NoError(t, err, "encode "+row.label)
		names = append(names, b)
	}
	input, err := json.Marshal(names)
	assert.NoError(t, err, "encode the names")
	cmd := exec.Command(node, bundle)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	assert.NoError(t, err, "node rules.mjs: "+stderr.String())
	var verdicts []*string
	assert.NoError(t, json.Unmarshal(out, &verdicts), "decode the verdicts: "+string(out))
	assert.Equal(t, len(verdicts), len(parityNames), "verdicts")
	return verdicts
}
