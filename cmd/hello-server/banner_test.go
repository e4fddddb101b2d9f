package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestBannerListsWhatIsServed starts hello-server with a debug listener,
// with and without -telemetry, and requests every address and path that its
// start-up output lists: each must be served, and /metrics must be listed
// exactly when it is.
func TestBannerListsWhatIsServed(t *testing.T) {
	for _, telemetry := range []bool{false, true} {
		name := "without telemetry"
		args := []string{"-debug-addr", "127.0.0.1:0"}
		if telemetry {
			name = "with telemetry"
			args = append(args, "-telemetry")
		}
		t.Run(name, func(t *testing.T) {
			s := startRun(t, args...)
			banner := map[string]string{} // "page", "try", "debug": the rest of the line
			for len(banner) < 3 {
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

			// "http://host:port/a, /b and /c"
			paths := regexp.MustCompile(`, | and `).Split(banner["debug"], -1)
			base, first, ok := strings.Cut(strings.TrimPrefix(paths[0], "http://"), "/")
			assert.True(t, ok, "a debug address and path: "+banner["debug"])
			paths[0] = "/" + first
			listed := false
			for _, p := range paths {
				listed = listed || p == "/metrics"
				res, err := http.Get("http://" + base + p)
				assert.NoError(t, err, "GET "+p)
				res.Body.Close()
				assert.Equal(t, res.StatusCode, http.StatusOK, "GET "+p+", which the banner lists")
			}
			assert.Equal(t, listed, telemetry, "/metrics listed: "+banner["debug"])
			if !telemetry {
				res, err := http.Get("http://" + base + "/metrics")
				assert.NoError(t, err, "GET /metrics")
				res.Body.Close()
				assert.Equal(t, res.StatusCode, http.StatusNotFound, "/metrics without -telemetry")
			}
		})
	}
}
