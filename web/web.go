// Package web serves hellorpc's browser page: the files under static/, which
// build.mjs makes from src/ (npm run build) and which are embedded into the
// binary, so that the server needs no files on disk and no npm at run time.
//
// Handler answers GET and HEAD only, from a table built once at start: a path
// is looked up in that table and never touches a file system, so no path,
// however encoded, reaches anything outside static/.
//
// Caching: the files under assets/ carry a hash of their content in their
// names, so they are sent "Cache-Control: public, max-age=31536000,
// immutable": a browser keeps them a year without asking again, and a new
// build has new names. Every other file (index.html, which names the current
// assets, and openapi.yaml) is sent "no-cache" with a strong ETag (a hash of
// its content), so browsers revalidate it cheaply and never run a stale page.
//
// Compression: build.mjs writes beside each text file its brotli (.br) and
// gzip (.gz) forms. Handler sends the form the request's Accept-Encoding
// prefers (by q-value; on a tie brotli, then gzip, then the file as it is),
// with its own ETag, "Vary: Accept-Encoding" and its Content-Length. The .br
// and .gz files are not served under their own names.
//
// Every answer carries a Content-Security-Policy (ContentSecurityPolicy:
// the page's own files, and its inline blocks by their hashes),
// X-Frame-Options DENY and Referrer-Policy no-referrer.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
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

// Cache-Control values: hashed assets are kept, everything else revalidated.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// hashedDir holds the files whose names carry a hash of their content.
const hashedDir = "assets/"

// encodings are the precompressed forms, in order of preference: the
// Content-Encoding and the suffix of the file that holds it.
var encodings = []struct{ name, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// variant is one encoding of a file's body.
type variant struct {
	body []byte
	etag string
}

// file is one embedded file, ready to serve.
type file struct {
	contentType  string
	cacheControl string
	identity     variant
	encoded      map[string]variant // by Content-Encoding; none when nothing pays
}

// Handler returns the http.Handler that serves the embedded page at "/" and
// its assets by name. Unknown paths get 404 (so a gRPC call to an unknown
// service reads as unimplemented); methods other than GET and HEAD get 405.
func Handler() http.Handler {
	files := loaded()
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
		h.Set("Cache-Control", f.cacheControl)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", ContentSecurityPolicy())
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		body := f.identity
		if len(f.encoded) > 0 {
			h.Set("Vary", "Accept-Encoding")
			if coding := negotiate(r.Header.Get("Accept-Encoding"), f.encoded); coding != "" {
				body = f.encoded[coding]
				h.Set("Content-Encoding", coding)
			}
		}
		h.Set("ETag", body.etag)
		if matchesETag(r.Header.Get("If-None-Match"), body.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", strconv.Itoa(len(body.body)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			writeBody(w, r, body.body)
		}
	})
}

// lastPart is the most that net/http's HTTP/2 server keeps of a handler's
// writes before it sends them (a larger write goes out at once).
const lastPart = 4 << 10

// writeBody writes body, over HTTP/2 in two parts: the last lastPart bytes
// stay in net/http's buffer until the handler returns and then go out in
// the DATA frame that ends the stream. Written at once, a body larger than
// that buffer would be sent before the handler returns, and the stream
// ended by a separate empty DATA frame, which a proxy may wait for before
// it passes the body on.
func writeBody(w http.ResponseWriter, r *http.Request, body []byte) {
	if r.ProtoMajor == 2 && len(body) > lastPart {
		if _, err := w.Write(body[:len(body)-lastPart]); err != nil {
			return // the client is gone
		}
		body = body[len(body)-lastPart:]
	}
	_, _ = w.Write(body)
}

// loaded is load's table, made once: it is read-only, and every Handler
// (one per server.New) serves the same embedded files.
var loaded = sync.OnceValue(load)

// load reads every embedded file into a table keyed by its path below
// static/, with its precompressed forms.
func load() map[string]file {
	raw := make(map[string][]byte)
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		raw[strings.TrimPrefix(p, "static/")] = body
		return err
	})
	if err != nil {
		// The files are compiled in: failing to read them is a build defect.
		panic("web: reading embedded files: " + err.Error())
	}
	files := make(map[string]file)
	for name, body := range raw {
		if isEncodedForm(name) {
			continue
		}
		ctype, ok := contentTypes[path.Ext(name)]
		if !ok {
			ctype = "application/octet-stream"
		}
		cache := cacheRevalidate
		if strings.HasPrefix(name, hashedDir) {
			cache = cacheImmutable
		}
		tag := etag(body)
		f := file{contentType: ctype, cacheControl: cache, identity: variant{body, `"` + tag + `"`}}
		for _, e := range encodings {
			if packed, ok := raw[name+e.suffix]; ok {
				if f.encoded == nil {
					f.encoded = make(map[string]variant)
				}
				f.encoded[e.name] = variant{packed, `"` + tag + "-" + e.name + `"`}
			}
		}
		files[name] = f
	}
	return files
}

// etag is a hash of body, short and strong.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:12])
}

// isEncodedForm reports whether name is a precompressed form of another file.
func isEncodedForm(name string) bool {
	for _, e := range encodings {
		if strings.HasSuffix(name, e.suffix) {
			return true
		}
	}
	return false
}

// negotiate returns the Content-Encoding of available to send for the
// request's Accept-Encoding, or "" for the body as it is: the coding with
// the highest q-value above 0, on a tie the first of encodings, and the
// body as it is when identity weighs more than both ("*" stands for any
// coding not named; identity is acceptable unless refused).
func negotiate(acceptEncoding string, available map[string]variant) string {
	q := parseAccept(acceptEncoding)
	weight := func(coding string) float64 {
		if v, ok := q[coding]; ok {
			return v
		}
		if v, ok := q["*"]; ok {
			return v
		}
		if coding == "identity" {
			return 0.001 // acceptable, least preferred
		}
		return 0
	}
	best, bestQ := "", weight("identity")
	for i := len(encodings) - 1; i >= 0; i-- { // the first wins a tie
		name := encodings[i].name
		if _, ok := available[name]; ok && weight(name) > 0 && weight(name) >= bestQ {
			best, bestQ = name, weight(name)
		}
	}
	return best
}

// parseAccept reads an Accept-Encoding header into q-values by lower-case
// coding; a coding without q has 1, a malformed q counts as 0.
func parseAccept(header string) map[string]float64 {
	q := make(map[string]float64)
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding == "" {
			continue
		}
		value := 1.0
		for param := range strings.SplitSeq(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				value = f
			}
		}
		q[coding] = value
	}
	return q
}

// matchesETag reports whether an If-None-Match header lists etag (weak
// comparison, as RFC 9110 asks for If-None-Match) or is "*".
func matchesETag(ifNoneMatch, etag string) bool {
	for candidate := range strings.SplitSeq(ifNoneMatch, ",") {
		candidate = strings.TrimPrefix(strings.TrimSpace(candidate), "W/")
		if candidate == "*" || candidate == etag {
			return true
		}
	}
	return false
}
