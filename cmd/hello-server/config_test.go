package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/cli"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

var update = flag.Bool("update", false, "rewrite the generated part of docs/configuration.md")

// goRuntimeVariables are the environment variables of Go's runtime that a
// flag mirrors instead of a HELLORPC_ one: -gc-percent and -memory-limit.
var goRuntimeVariables = map[string]bool{"GOGC": true, "GOMEMLIMIT": true}

// TestEveryFlagHasAnEnvironmentVariable walks the flags and the environment
// map: each flag has its variable, each variable its flag, and setting the
// variable sets the flag.
func TestEveryFlagHasAnEnvironmentVariable(t *testing.T) {
	var o options
	fs := o.flagSet(io.Discard)
	flags := 0
	fs.VisitAll(func(f *flag.Flag) {
		flags++
		env := envNames[f.Name]
		if env == "" {
			t.Errorf("-%s has no environment variable in envNames", f.Name)
			return
		}
		if !strings.HasPrefix(env, "HELLORPC_") && !goRuntimeVariables[env] {
			t.Errorf("-%s falls back to %s, not a HELLORPC_ variable", f.Name, env)
		}
	})
	assert.True(t, flags > 20, fmt.Sprintf("hello-server's flags found: %d", flags))
	seen := map[string]string{}
	for name, env := range envNames {
		if fs.Lookup(name) == nil {
			t.Errorf("envNames maps %s to %s, but there is no flag -%s", env, name, name)
		}
		if other, ok := seen[env]; ok {
			t.Errorf("%s falls back to -%s and -%s", env, other, name)
		}
		seen[env] = name
	}

	// Each variable sets its flag: to a value the flag takes, other than its
	// default.
	candidates := []string{"true", "false", "7", "7s", "127.0.0.1:7", "debug", "off", "100MiB", "json", "a"}
	for name, env := range envNames {
		var probe options
		probeSet := probe.flagSet(io.Discard)
		f := probeSet.Lookup(name)
		if f == nil {
			continue // reported above
		}
		value := ""
		for _, c := range candidates {
			if err := f.Value.Set(c); err == nil && f.Value.String() != f.DefValue {
				value = f.Value.String()
				break
			}
		}
		assert.True(t, value != "", "a value other than the default for -"+name)
		var o options
		fs := o.flagSet(io.Discard)
		assert.NoError(t, fs.Parse(nil), "parse no arguments")
		getenv := func(v string) string {
			if v == env {
				return value
			}
			return ""
		}
		assert.NoError(t, cli.ApplyEnv(fs, envNames, getenv), env+"="+value)
		assert.Equal(t, fs.Lookup(name).Value.String(), value, "-"+name+" from "+env)
	}
}

// TestTelemetryFromTheEnvironment checks the variable that -telemetry
// lacked.
func TestTelemetryFromTheEnvironment(t *testing.T) {
	getenv := func(v string) string {
		if v == "HELLORPC_TELEMETRY" {
			return "true"
		}
		return ""
	}
	o, err := parseConfig(nil, getenv, io.Discard)
	assert.NoError(t, err, "parse HELLORPC_TELEMETRY=true")
	assert.True(t, o.telemetry, "telemetry on from HELLORPC_TELEMETRY")
	o, err = parseConfig([]string{"-telemetry=false"}, getenv, io.Discard)
	assert.NoError(t, err, "parse -telemetry=false")
	assert.True(t, !o.telemetry, "the flag wins over the variable")
}

// TestMaxCallDurationZeroIsNoCap checks -max-call-duration: 10m by default,
// 0 turns the cap off (server.Config's zero value), a negative one is refused.
func TestMaxCallDurationZeroIsNoCap(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseConfig(nil, none, io.Discard)
	assert.NoError(t, err, "parse no flags")
	assert.Equal(t, o.cfg.MaxCallDuration, server.DefaultMaxCallDuration, "-max-call-duration by default")
	o, err = parseConfig([]string{"-max-call-duration", "0"}, none, io.Discard)
	assert.NoError(t, err, "parse -max-call-duration 0")
	assert.Equal(t, o.cfg.MaxCallDuration, time.Duration(0), "-max-call-duration 0: server.Config's no cap")
	_, err = parseConfig([]string{"-max-call-duration", "-1s"}, none, io.Discard)
	assert.Contains(t, assert.Error(t, err, "parse -max-call-duration -1s").Error(), "-max-call-duration -1s must not be negative", "the refusal")
}

// TestStreamIdleTimeoutZeroIsNone checks -stream-idle-timeout: 1m by
// default, 0 turns it off (server.Config's negative; its zero is the
// default), a negative one is refused.
func TestStreamIdleTimeoutZeroIsNone(t *testing.T) {
	none := func(string) string { return "" }
	o, err := parseConfig(nil, none, io.Discard)
	assert.NoError(t, err, "parse no flags")
	assert.Equal(t, o.cfg.StreamIdleTimeout, server.DefaultStreamIdleTimeout, "-stream-idle-timeout by default")
	o, err = parseConfig([]string{"-stream-idle-timeout", "0"}, none, io.Discard)
	assert.NoError(t, err, "parse -stream-idle-timeout 0")
	assert.True(t, o.cfg.StreamIdleTimeout < 0, "-stream-idle-timeout 0: none in server.Config")
	_, err = parseConfig([]string{"-stream-idle-timeout", "-1s"}, none, io.Discard)
	assert.Contains(t, assert.Error(t, err, "parse -stream-idle-timeout -1s").Error(), "must not be negative", "the refusal")
}

// TestMetricsOnByDefault checks -metrics-addr: on at :9464 without flags,
// off with "" or "off", the latter from HELLORPC_METRICS_ADDR too (an empty
// variable is no setting).
func TestMetricsOnByDefault(t *testing.T) {
	env := map[string]string{}
	getenv := func(v string) string { return env[v] }
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{nil, "", ":9464"},
		{[]string{"-metrics-addr", ""}, "", ""},
		{[]string{"-metrics-addr", "off"}, "", ""},
		{nil, "off", ""},
		{nil, "127.0.0.1:9100", "127.0.0.1:9100"},
		{[]string{"-metrics-addr", ":9200"}, "off", ":9200"},
	} {
		env["HELLORPC_METRICS_ADDR"] = tt.env
		o, err := parseConfig(tt.args, getenv, io.Discard)
		assert.NoError(t, err, fmt.Sprintf("parse %q", tt.args))
		assert.Equal(t, o.metricsAddr, tt.want, fmt.Sprintf("%q with HELLORPC_METRICS_ADDR=%q", tt.args, tt.env))
	}
}

// The generated table of docs/configuration.md sits between these lines.
const (
	docFile  = "../../docs/configuration.md"
	docBegin = "<!-- The table is generated from hello-server's flags: go test ./cmd/hello-server -run TestConfigurationDoc -update -->\n"
	docEnd   = "<!-- end of the generated table -->\n"
)

// TestConfigurationDoc checks that docs/configuration.md lists every flag
// as hello-server defines it: name, variable, default and meaning, in a
// table generated from the flags (-update rewrites it).
func TestConfigurationDoc(t *testing.T) {
	var o options
	fs := o.flagSet(io.Discard)
	want := configurationTable(fs)
	doc, err := os.ReadFile(docFile)
	assert.NoError(t, err, "read "+docFile)
	before, rest, ok := strings.Cut(string(doc), docBegin)
	assert.True(t, ok, docFile+" has the line "+docBegin)
	table, after, ok := strings.Cut(rest, docEnd)
	assert.True(t, ok, docFile+" has the line "+docEnd)
	if table == want {
		return
	}
	if *update {
		assert.NoError(t, os.WriteFile(docFile, []byte(before+docBegin+want+docEnd+after), 0o644), "write "+docFile)
		return
	}
	t.Errorf("%s is not what the flags say; run go test ./cmd/hello-server -run TestConfigurationDoc -update\ngot:\n%s\nwant:\n%s", docFile, table, want)
}

// configurationTable is the Markdown table of fs's flags, in name order.
func configurationTable(fs *flag.FlagSet) string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			arg = " " + arg
		}
		def, meaning := documentedDefault(f, usage)
		meaning = strings.ReplaceAll(meaning, "|", `\|`)
		fmt.Fprintf(&b, "| `-%s%s` | `%s` | %s | %s |\n", f.Name, arg, envNames[f.Name], def, meaning)
	})
	return b.String()
}

// documentedDefault returns a flag's default as the documentation shows it,
// and its usage without it. A default that depends on the machine or means
// something is said in the usage, as "(default …)" or ", by default …;";
// any other is the flag's own.
func documentedDefault(f *flag.Flag, usage string) (def, meaning string) {
	if i := strings.Index(usage, " (default "); i >= 0 {
		if j := strings.Index(usage[i:], ")"); j >= 0 {
			return usage[i+len(" (default ") : i+j], usage[:i] + usage[i+j+1:]
		}
	}
	if i := strings.Index(usage, ", by default "); i >= 0 {
		if j := strings.Index(usage[i:], ";"); j >= 0 {
			return usage[i+len(", by default ") : i+j], usage[:i] + usage[i+j:]
		}
	}
	if f.DefValue == "" {
		return "none", usage
	}
	return "`" + f.DefValue + "`", usage
}
