// Package web serves hellorpc's browser page: the static files under
// static/, embedded into the binary so that the server needs no files on disk
// and no npm at run time.
//
// Handler answers GET and HEAD only, from a table built once at start: a path
// is looked up in that table and never touches a file system, so no path,
// however encoded, reaches anything outside static/. Every file carries a
// strong ETag (a hash of its content) and "Cache-Control: no-cache", so
// browsers revalidate cheaply and never run a stale bundle. Text files are
// gzipped once at start and sent so to clients that accept gzip. Every
// answer carries a Content-Security-Policy (ContentSecurityPolicy),
// X-Frame-Options DENY and Referrer-Policy no-referrer.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// contentTypes maps file extensions to Content-Types. It is fixed here rather
// than read from the machine's mime.types, which differ between systems.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".yaml": "application/yaml", // RFC 9512
}

// ContentSecurityPolicy is sent with every file of the page: scripts,
// styles and everything else from the page's own origin only; calls
// (connect-src) to the own origin or any http: or https: origin, since the
// page may call an API elsewhere (?api=); no framing, no plugins, no <base>,
// forms posting only home. The icon is an empty data: URL.
const ContentSecurityPolicy = "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// file is one embedded file, ready to serve.
type file struct {
	body        []byte
	etag        string
	contentType string
	gzipped     []byte // body compressed, or nil when that does not pay
}

// Handler returns the http.Handler that serves the embedded page at "/" and
// its assets by name. Unknown paths get 404 (so a gRPC call to an unknown
// service reads as unimplemented); methods other than GET and HEAD get 405.
func Handler() http.Handler {
	files := load()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method "+r.Method+" not allowed: the page is read with GET", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		body, etag := f.body, f.etag
		if f.gzipped != nil {
			h.Set("Vary", "Accept-Encoding")
			if acceptsGzip(r) {
				body, etag = f.gzipped, strings.TrimSuffix(f.etag, `"`)+`-gzip"`
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", etag)
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}

// load reads every embedded file into a table keyed by its path below static/.
func load() map[string]file {
	files := make(map[string]file)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ctype, ok := contentTypes[path.Ext(p)]
		if !ok {
			ctype = "application/octet-stream"
		}
		files[strings.TrimPrefix(p, "static/")] = file{
			body:        body,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
			contentType: ctype,
			gzipped:     compress(body),
		}
		return nil
	})
	if err != nil {
		// The files are compiled in: failing to read them is a build defect.
		panic("web: reading embedded files: " + err.Error())
	}
	return files
}

// compress returns body gzipped, or nil when that saves less than a tenth.
func compress(body []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(body)
	_ = zw.Close()
	if buf.Len() > len(body)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// without refusing it (q=0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			q := strings.ReplaceAll(params, " ", "")
			return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
		}
	}
	return false
}
