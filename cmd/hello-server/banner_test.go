package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestBannerListsWhatIsServed starts hello-server with a debug listener,
// with metrics on and off, and requests every address and path that its
// start-up output lists: each must be served, the metrics line must be there
// exactly when metrics are, and neither listener serves the other's paths
// (pprof stays off the metrics listener, which may face the network).
func TestBannerListsWhatIsServed(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		metrics bool
	}{
		{"metrics on", nil, true},
		{"metrics off", []string{"-metrics-addr", ""}, false},
		{"metrics off by name", []string{"-metrics-addr", "off"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := startRun(t, append([]string{"-debug-addr", "127.0.0.1:0"}, tt.args...)...)
			banner := map[string]string{} // "page", "try", "metrics", "debug": the rest of the line
			for banner["debug"] == "" {   // the last line
				select {
				case line := <-s.stdout:
					label, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
					assert.True(t, ok, "a labelled line: "+line)
					banner[label] = strings.TrimSpace(rest)
				case <-t.Context().Done():
					t.Fatalf("the output ended after %d lines: %v", len(banner), banner)
				}
			}
			// The banner says localhost; the server listens on 127.0.0.1.
			local := func(u string) string { return strings.Replace(u, "localhost", "127.0.0.1", 1) }

			res, err := http.Get(local(banner["page"]))
			assert.NoError(t, err, "GET the page "+banner["page"])
			res.Body.Close()
			assert.Equal(t, res.StatusCode, http.StatusOK, "GET the page "+banner["page"])

			try := regexp.MustCompile(`-d '([^']*)' (\S+)$`).FindStringSubmatch(banner["try"])
			assert.Equal(t, len(try), 3, "a curl command with a body and a URL: "+banner["try"])
			res, err = http.Post(local(try[2]), "application/json", strings.NewReader(try[1]))
			assert.NoError(t, err, "try "+banner["try"])
			res.Body.Close()
			assert.Equal(t, res.StatusCode, http.StatusOK, "try "+banner["try"])

			_, listed := banner["metrics"]
			assert.Equal(t, listed, tt.metrics, "metrics listed: "+banner["metrics"])
			debug := servedPaths(t, banner["debug"])
			if tt.metrics {
				metrics := servedPaths(t, banner["metrics"])
				assert.Equal(t, get(t, metrics+"/debug/pprof/"), http.StatusNotFound, "pprof on the metrics listener")
				assert.Equal(t, get(t, debug+"/metrics"), http.StatusNotFound, "metrics on the debug listener")
			}
		})
	}
}

// servedPaths requests every path of a banner line, "http://host:port/a,
// /b", checks that each is served, and returns "http://host:port".
func servedPaths(t *testing.T, line string) string {
	t.Helper()
	paths := strings.Split(line, ", ")
	base, first, ok := strings.Cut(strings.TrimPrefix(paths[0], "http://"), "/")
	assert.True(t, ok, "an address and a path: "+line)
	paths[0] = "/" + first
	for _, p := range paths {
		assert.Equal(t, get(t, "http://"+base+p), http.StatusOK, "GET "+p+", which the banner lists: "+line)
	}
	return "http://" + base
}

// get returns the HTTP status of a GET of url.
func get(t *testing.T, url string) int {
	t.Helper()
	res, err := http.Get(url)
	assert.NoError(t, err, "GET "+url)
	res.Body.Close()
	return res.StatusCode
}
