package server_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestEveryMetricIsDocumented scrapes a server's metrics and looks up each
// family it exports (rpc_ and hellorpc_; the Go collectors' go_ and
// process_ are documented as a group) in docs/observability.md's table.
func TestEveryMetricIsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../docs/observability.md")
	assert.NoError(t, err, "read docs/observability.md")
	m := metrics.New()
	servertest.Start(t, server.Config{Metrics: m})
	families := 0
	for line := range strings.Lines(exposition(t, m.Handler())) {
		fields := strings.Fields(line)
		if len(fields) < 3 || fields[0] != "#" || fields[1] != "TYPE" {
			continue
		}
		name := fields[2]
		if !strings.HasPrefix(name, "rpc_") && !strings.HasPrefix(name, "hellorpc_") {
			continue
		}
		families++
		assert.True(t, strings.Contains(string(doc), "`"+name+"`"), "docs/observability.md's table names "+name)
	}
	assert.True(t, families >= 10, "the scrape has the server's metric families")
}
