package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// logsOfOneCall runs hello-server with args, makes one SayHello call, stops
// the server and returns its whole log: run has returned, so every line
// was written.
func logsOfOneCall(t *testing.T, args ...string) string {
	t.Helper()
	logs := &servertest.Buffer{}
	s := startRunLogging(t, logs, args...)
	res, err := http.Post(s.url+"/rpc_package.HelloWorldService/SayHello", "application/json", strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "SayHello")
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "SayHello's status")
	s.stop(t, 30*time.Second)
	return logs.String()
}

// sayHelloLines counts the access lines of SayHello in a text log.
func sayHelloLines(log string) int {
	return strings.Count(log, "msg=request method=POST path=/rpc_package.HelloWorldService/SayHello ")
}

// TestLogFormatJSON checks -log-format json: every line of the log is a
// JSON object with time, level and msg, the access line of the call among
// them with its fields.
func TestLogFormatJSON(t *testing.T) {
	log := logsOfOneCall(t, "-log-format", "json")
	lines, access := 0, 0
	sc := bufio.NewScanner(strings.NewReader(log))
	for sc.Scan() {
		lines++
		var line map[string]any
		assert.NoError(t, json.Unmarshal(sc.Bytes(), &line), "a JSON line: "+sc.Text())
		for _, key := range []string{"time", "level", "msg"} {
			_, ok := line[key]
			assert.True(t, ok, fmt.Sprintf("line %q has %q", sc.Text(), key))
		}
		if line["msg"] == "request" && line["path"] == "/rpc_package.HelloWorldService/SayHello" {
			access++
			assert.Equal(t, line["level"], any("INFO"), "the access line's level")
			assert.Equal(t, line["protocol"], any("connect"), "the access line's protocol")
			assert.Equal(t, line["code"], any("ok"), "the access line's code")
			assert.Equal(t, line["status"], any(float64(200)), "the access line's status")
		}
	}
	assert.True(t, lines >= 2, fmt.Sprintf("lines of log: %d (serving, the call's)\n%s", lines, log))
	assert.Equal(t, access, 1, "access lines of the call in\n"+log)
}

// TestAccessLogWhateverTheLevel checks -access-log: on by default, its lines
// are written at -log-level warn too; off, none is, at any level.
func TestAccessLogWhateverTheLevel(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"-log-level", "warn"}, 1},
		{[]string{"-log-level", "error", "-access-log"}, 1},
		{[]string{"-log-level", "warn", "-access-log=false"}, 0},
		{[]string{"-log-level", "debug", "-access-log=false"}, 0},
		{nil, 1},
	} {
		log := logsOfOneCall(t, tt.args...)
		assert.Equal(t, sayHelloLines(log), tt.want, fmt.Sprintf("access lines of the call with %q in\n%s", tt.args, log))
		if tt.want == 0 {
			assert.True(t, !strings.Contains(log, "msg=request"), fmt.Sprintf("no access line at all with %q in\n%s", tt.args, log))
		}
	}
}

// TestAccessLogFromTheEnvironment checks HELLORPC_ACCESS_LOG and
// HELLORPC_LOG_FORMAT, and that a flag wins over its variable.
func TestAccessLogFromTheEnvironment(t *testing.T) {
	env := map[string]string{"HELLORPC_ACCESS_LOG": "false", "HELLORPC_LOG_FORMAT": "json"}
	getenv := func(v string) string { return env[v] }
	o, err := parseConfig(nil, getenv, io.Discard)
	assert.NoError(t, err, "parse HELLORPC_ACCESS_LOG=false HELLORPC_LOG_FORMAT=json")
	assert.True(t, !o.accessLog, "access log off from HELLORPC_ACCESS_LOG")
	assert.Equal(t, o.logFormat, logFormat("json"), "format from HELLORPC_LOG_FORMAT")
	o, err = parseConfig([]string{"-access-log", "-log-format", "text"}, getenv, io.Discard)
	assert.NoError(t, err, "parse -access-log -log-format text")
	assert.True(t, o.accessLog, "the flag wins over the variable")
	assert.Equal(t, o.logFormat, logFormat("text"), "the flag wins over the variable")
	o, err = parseConfig(nil, func(string) string { return "" }, io.Discard)
	assert.NoError(t, err, "parse no flags")
	assert.True(t, o.accessLog, "access log on by default")
	assert.Equal(t, o.logFormat, logFormat("text"), "text by default")
}

// TestBadLogFormatRefused checks that a -log-format other than text or json
// is refused, from the flag or the variable, naming it and the value.
func TestBadLogFormatRefused(t *testing.T) {
	none := func(string) string { return "" }
	_, err := parseConfig([]string{"-log-format", "xml"}, none, io.Discard)
	msg := assert.Error(t, err, "parse -log-format xml").Error()
	assert.Contains(t, msg, "-log-format", "the refusal names the flag")
	assert.Contains(t, msg, `"xml"`, "the refusal names the value")
	assert.Contains(t, msg, "want text or json", "the refusal says what is taken")

	getenv := func(v string) string {
		if v == "HELLORPC_LOG_FORMAT" {
			return "JSON "
		}
		return ""
	}
	err = run(t.Context(), nil, getenv, io.Discard, io.Discard)
	msg = assert.Error(t, err, "run with HELLORPC_LOG_FORMAT=\"JSON \"").Error()
	assert.Contains(t, msg, `HELLORPC_LOG_FORMAT="JSON "`, "the refusal names the variable and value")
}
