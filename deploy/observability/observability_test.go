// Package observability_test checks deploy/observability against the real
// systems: promtool checks the alert rules and runs their unit tests, every
// metric the rules and the dashboard name is one that hello-server serves,
// and a real Prometheus scrapes a server called in every protocol and
// answers the dashboard's questions (rate per method and protocol, error
// ratio, p99).
package observability_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// lookPath finds a Debian prometheus package's binary, or stops the test.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	testenv.SkipIfShort(t, name)
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Missing(t, name+" (Debian package prometheus)", err)
	}
	return p
}

// TestAlertRules runs promtool on alerts.yml: the rules are valid, and
// alerts_test.yml's unit tests pass (each alert fires where it should, none
// on a healthy instance).
func TestAlertRules(t *testing.T) {
	promtool := lookPath(t, "promtool")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		assert.NoError(t, err, "promtool "+strings.Join(args, " ")+":\n"+string(out))
	}
}

// dashboard is what the test reads of dashboard.json.
type dashboard struct {
	UID, Title string
	Templating struct {
		List []struct{ Name string }
	}
	Panels []struct {
		ID             int
		Type, Title    string
		GridPos        struct{ H, W, X, Y int }
		Targets        []struct{ RefID, Expr string }
		DatasourceKind struct {
			Type string
		} `json:"datasource"`
	}
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("dashboard.json")
	assert.NoError(t, err, "read dashboard.json")
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(b)))
	assert.NoError(t, dec.Decode(&d), "decode dashboard.json")
	return d
}

// dashboardQueries returns the dashboard's queries by panel title, with
// Grafana's variables replaced as Prometheus would see them.
func dashboardQueries(t *testing.T) map[string]string {
	d := readDashboard(t)
	assert.True(t, d.UID != "" && d.Title != "", "the dashboard has a uid and a title")
	assert.True(t, slices.ContainsFunc(d.Templating.List, func(v struct{ Name string }) bool { return v.Name == "datasource" }), "a datasource variable")
	queries := map[string]string{}
	for _, p := range d.Panels {
		assert.True(t, p.ID > 0 && p.Type != "" && p.Title != "" && p.GridPos.W > 0 && p.GridPos.H > 0, "a panel with an id, type, title and place: "+p.Title)
		assert.Equal(t, p.DatasourceKind.Type, "prometheus", p.Title+": datasource")
		assert.Equal(t, len(p.Targets), 1, p.Title+": queries")
		assert.True(t, queries[p.Title] == "", "one panel titled "+p.Title)
		queries[p.Title] = strings.NewReplacer("$__rate_interval", "1m", "$instance", ".*").Replace(p.Targets[0].Expr)
	}
	titles := strings.ToLower(strings.Join(slices.Collect(maps.Keys(queries)), "\n"))
	for _, want := range []string{"calls per second", "error", "p99", "shed", "in flight", "connections", "memory"} {
		assert.True(t, strings.Contains(titles, want), "a panel about "+want)
	}
	return queries
}

// ruleQueries returns the expressions of alerts.yml, by alert.
func ruleQueries(t *testing.T) map[string]string {
	b, err := os.ReadFile("alerts.yml")
	assert.NoError(t, err, "read alerts.yml")
	queries := map[string]string{}
	var alert string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(line, "- alert: "):
			alert = strings.TrimPrefix(line, "- alert: ")
		case line == "expr: |":
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "          ") {
				i++
				queries[alert] += lines[i] + "\n"
			}
		case strings.HasPrefix(line, "expr: "):
			queries[alert] = strings.TrimPrefix(line, "expr: ")
		}
	}
	assert.Equal(t, len(queries), 5, "alerts with an expression")
	return queries
}

var (
	strs       = regexp.MustCompile(`"[^"]*"`)
	braces     = regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]`)
	groupings  = regexp.MustCompile(`\b(by|without|on|ignoring)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*\s*\(?`)
	keywords   = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
)

// metricNames returns the metric names a PromQL expression selects.
func metricNames(expr string) []string {
	expr = groupings.ReplaceAllString(braces.ReplaceAllString(strs.ReplaceAllString(expr, ""), ""), "")
	var names []string
	for _, id := range identifier.FindAllString(expr, -1) {
		if strings.HasSuffix(id, "(") || slices.Contains(keywords, id) {
			continue // a function, an aggregation or a keyword
		}
		names = append(names, strings.TrimSpace(id))
	}
	return names
}

// TestDashboardAndRulesUseServedMetrics checks every metric that the
// dashboard and the rules name against a scrape of a server that has
// served a call ("up" is Prometheus' own).
func TestDashboardAndRulesUseServedMetrics(t *testing.T) {
	m := metrics.New()
	srv := servertest.Start(t, server.Config{Metrics: m})
	res, err := servertest.HTTP1Client(t).Post(srv.URL+"/rpc_package.HelloWorldService/SayHello", "application/json", strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "call")
	res.Body.Close()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	served := map[string]bool{"up": true}
	for line := range strings.SplitSeq(rec.Body.String(), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && !strings.HasPrefix(line, "#") {
			name, _, _ = strings.Cut(name, "{")
			served[name] = true
		}
	}
	checked := 0
	for what, queries := range map[string]map[string]string{"dashboard": dashboardQueries(t), "rule": ruleQueries(t)} {
		for title, expr := range queries {
			names := metricNames(expr)
			assert.True(t, len(names) > 0, what+" "+title+" names a metric: "+expr)
			for _, name := range names {
				checked++
				assert.True(t, served[name], what+" "+title+": "+name+" is served")
			}
		}
	}
	t.Logf("%d metric names checked", checked)
}
