package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/web"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerServesFilesWithTypesAndCaching(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	for path, ctype := range map[string]string{
		"/":             "text/html; charset=utf-8",
		"/index.html":   "text/html; charset=utf-8",
		"/openapi.yaml": "application/yaml",
	} {
		res := get(t, h, http.MethodGet, path, nil)
		assert.Equal(t, res.StatusCode, http.StatusOK, "status of "+path)
		assert.Equal(t, res.Header.Get("Content-Type"), ctype, "Content-Type of "+path)
		assert.Equal(t, res.Header.Get("Cache-Control"), "no-cache", "Cache-Control of "+path)
		assert.Equal(t, res.Header.Get("Content-Security-Policy"), web.ContentSecurityPolicy(), "CSP of "+path)
		assert.Contains(t, web.ContentSecurityPolicy(), "frame-ancestors 'none'", "CSP forbids framing")
		assert.Contains(t, web.ContentSecurityPolicy(), "connect-src 'self' http: https:;", "CSP limits calls to http(s)")
		assert.Equal(t, res.Header.Get("X-Frame-Options"), "DENY", "X-Frame-Options of "+path)
		assert.Equal(t, res.Header.Get("Referrer-Policy"), "no-referrer", "Referrer-Policy of "+path)
		etag := res.Header.Get("ETag")
		assert.True(t, len(etag) > 2, "ETag of "+path)
		res = get(t, h, http.MethodGet, path, http.Header{"If-None-Match": {etag}})
		assert.Equal(t, res.StatusCode, http.StatusNotModified, "revalidation of "+path)
	}
}

func TestHandlerGzipsForClientsThatAcceptIt(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	script := assetsOf(t, h).script
	plain := get(t, h, http.MethodGet, script, nil)
	want, _ := io.ReadAll(plain.Body)
	assert.Equal(t, plain.Header.Get("Content-Encoding"), "", "encoding without Accept-Encoding")

	res := get(t, h, http.MethodGet, script, http.Header{"Accept-Encoding": {"gzip, deflate"}})
	assert.Equal(t, res.Header.Get("Content-Encoding"), "gzip", "Content-Encoding")
	assert.Equal(t, res.Header.Get("Vary"), "Accept-Encoding", "Vary")
	assert.True(t, res.Header.Get("ETag") != plain.Header.Get("ETag"), "gzip variant has its own ETag")
	zr, err := gzip.NewReader(res.Body)
	assert.NoError(t, err, "gzip reader")
	got, err := io.ReadAll(zr)
	assert.NoError(t, err, "gunzip")
	assert.Equal(t, string(got), string(want), "decompressed body")
	assert.True(t, res.ContentLength < int64(len(want))/2, "compressed size is smaller")

	res = get(t, h, http.MethodGet, script, http.Header{"Accept-Encoding": {"gzip;q=0"}})
	assert.Equal(t, res.Header.Get("Content-Encoding"), "", "encoding when gzip is refused")
}

func TestHandlerRefusesOtherMethodsAndUnknownPaths(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	assert.Equal(t, get(t, h, http.MethodPost, "/", nil).StatusCode, http.StatusMethodNotAllowed, "POST /")
	assert.Equal(t, get(t, h, http.MethodHead, "/", nil).StatusCode, http.StatusOK, "HEAD /")
	for _, path := range []string{"/nope", "/static/index.html", "/../web.go", "/%2e%2e/web.go", "/web.go", "/src/main.ts"} {
		assert.Equal(t, get(t, h, http.MethodGet, path, nil).StatusCode, http.StatusNotFound, "GET "+path)
	}
}
