package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
	"github.com/hellorpc/hellorpc/web"
)

// pageAssets are the paths of the files that index.html loads: its first
// (inline) script names the full page's module and the chunks that module
// imports, which it fetches beside it.
type pageAssets struct {
	script   string
	preloads []string
}

func (a pageAssets) all() []string { return append([]string{a.script}, a.preloads...) }

var (
	bootRef   = regexp.MustCompile(`<script data-app="\.(/assets/[^"]+)" data-preload="([^"]*)">`)
	importRef = regexp.MustCompile(`from\s*"\./([^"]+)"`)
)

// assetsOf reads index.html from h and returns the assets it loads.
func assetsOf(t *testing.T, h http.Handler) pageAssets {
	t.Helper()
	body, _ := io.ReadAll(get(t, h, http.MethodGet, "/", nil).Body)
	m := bootRef.FindSubmatch(body)
	assert.True(t, m != nil, "index.html has "+bootRef.String())
	a := pageAssets{script: string(m[1])}
	for p := range strings.FieldsSeq(string(m[2])) {
		a.preloads = append(a.preloads, strings.TrimPrefix(p, "."))
	}
	return a
}

// hashedName is how build.mjs names what esbuild writes: name-HASH.ext.
var hashedName = regexp.MustCompile(`^/assets/[a-z]+-[A-Z0-9]{8}\.(js|css)$`)

func TestHandlerSendsHashedAssetsImmutable(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	a := assetsOf(t, h)
	script, _ := io.ReadAll(get(t, h, http.MethodGet, a.script, nil).Body)
	var imported []string
	for _, m := range importRef.FindAllSubmatch(script, -1) {
		imported = append(imported, "/assets/"+string(m[1]))
	}
	assert.True(t, len(imported) > 0, "the page's script imports a chunk")
	assert.Equal(t, a.preloads, imported, "index.html preloads the chunks that its script imports")
	for _, p := range a.all() {
		assert.True(t, hashedName.MatchString(p), "asset name carries a content hash: "+p)
		res := get(t, h, http.MethodGet, p, nil)
		assert.Equal(t, res.StatusCode, http.StatusOK, "status of "+p)
		assert.Equal(t, res.Header.Get("Cache-Control"), "public, max-age=31536000, immutable", "Cache-Control of "+p)
		want := map[string]string{".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}[path.Ext(p)]
		assert.Equal(t, res.Header.Get("Content-Type"), want, "Content-Type of "+p)
		assert.Equal(t, res.Header.Get("Content-Security-Policy"), web.ContentSecurityPolicy(), "CSP of "+p)
	}
}

func TestHandlerPrefersBrotliAndSendsContentLength(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	script := assetsOf(t, h).script
	for accept, want := range map[string]string{
		"gzip, deflate, br, zstd": "br", // what Chromium sends
		"br;q=0.5, gzip":          "gzip",
		"*":                       "br",
		"gzip;q=0.5, identity":    "",
		"identity":                "",
		"br;q=0, gzip;q=0":        "",
		"":                        "",
		"BR":                      "br",
		"gzip;q=bogus, br;q=0.1":  "br",
	} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			res := get(t, h, method, script, http.Header{"Accept-Encoding": {accept}})
			what := method + " with Accept-Encoding " + strconv.Quote(accept)
			assert.Equal(t, res.Header.Get("Content-Encoding"), want, "Content-Encoding, "+what)
			assert.Equal(t, res.Header.Get("Vary"), "Accept-Encoding", "Vary, "+what)
			body, _ := io.ReadAll(res.Body)
			length := res.Header.Get("Content-Length")
			assert.True(t, length != "", "Content-Length, "+what)
			if method == http.MethodGet {
				assert.Equal(t, length, strconv.Itoa(len(body)), "Content-Length is the body's, "+what)
			}
			again := get(t, h, method, script, http.Header{"Accept-Encoding": {accept}, "If-None-Match": {res.Header.Get("ETag")}})
			assert.Equal(t, again.StatusCode, http.StatusNotModified, "revalidation, "+what)
		}
	}
}

func TestHandlerHidesPrecompressedForms(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	for _, p := range []string{"/index.html.gz", "/index.html.br", assetsOf(t, h).script + ".br"} {
		assert.Equal(t, get(t, h, http.MethodGet, p, nil).StatusCode, http.StatusNotFound, "GET "+p)
	}
}

// TestPrecompressedFormsMatchTheirFiles fetches every file of the page in
// each encoding and checks that it decodes to the file: gzip here, brotli
// with Node's zlib (Go's standard library has no brotli).
func TestPrecompressedFormsMatchTheirFiles(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	var paths []string
	err := fs.WalkDir(os.DirFS("static"), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".gz") && !strings.HasSuffix(p, ".br") {
			paths = append(paths, "/"+p)
		}
		return err
	})
	assert.NoError(t, err, "list static/")
	node, nodeErr := exec.LookPath("node")
	for _, p := range paths {
		plain, _ := io.ReadAll(get(t, h, http.MethodGet, p, nil).Body)
		for _, coding := range []string{"gzip", "br"} {
			res := get(t, h, http.MethodGet, p, http.Header{"Accept-Encoding": {coding}})
			if res.Header.Get("Content-Encoding") == "" {
				assert.True(t, len(plain) < 1024 || !strings.Contains(res.Header.Get("Content-Type"), "text"),
					"a text file of "+strconv.Itoa(len(plain))+" bytes has a "+coding+" form: "+p)
				continue
			}
			packed, _ := io.ReadAll(res.Body)
			var got []byte
			switch coding {
			case "gzip":
				zr, err := gzip.NewReader(bytes.NewReader(packed))
				assert.NoError(t, err, "gzip header of "+p)
				got, err = io.ReadAll(zr)
				assert.NoError(t, err, "gunzip "+p)
			case "br":
				if nodeErr != nil {
					testenv.Missing(t, "node (to decode brotli)", nodeErr)
				}
				cmd := exec.Command(node, "-e", `process.stdout.write(require("zlib").brotliDecompressSync(require("fs").readFileSync(0)))`)
				cmd.Stdin = bytes.NewReader(packed)
				var err error
				got, err = cmd.Output()
				assert.NoError(t, err, "brotli-decode "+p)
			}
			assert.True(t, bytes.Equal(got, plain), coding+" form of "+p+" decodes to the file (run npm run build)")
		}
	}
}
