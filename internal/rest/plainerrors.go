package rest

import (
	"fmt"
	"net/http"
	"path"
	"strings"

	"connectrpc.com/connect"
)

// statusErrors is middleware that answers in google.rpc.Status JSON, as
// every REST error is, what the routing under Prefix answers in plain text
// (http.ServeMux's and vanguard's 404, 405 and 415), and a path that is not
// clean ("//", "/./", "/../"), which http.ServeMux would redirect to its clean
// form, another call ("/v1/hello//replies" to SayHello("replies")), with
// not_found.
func statusErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.EscapedPath(); !clean(p) {
			WriteError(w, connect.NewError(connect.CodeNotFound,
				fmt.Errorf("no REST binding at %s: an empty, \".\" or \"..\" path segment", p)))
			return
		}
		next.ServeHTTP(&plainErrors{ResponseWriter: w, r: r}, r)
	})
}

// clean reports whether p, an escaped path, has no empty, "." or ".."
// segment (but for a trailing slash).
func clean(p string) bool {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// plainErrors replaces a plain-text error answer with its google.rpc.Status
// in JSON, keeping the HTTP status: 404 not_found, 405 unimplemented (with
// the Allow header as it was), 415 invalid_argument.
type plainErrors struct {
	http.ResponseWriter
	r        *http.Request
	replaced bool // the plain text is dropped
}

func (w *plainErrors) WriteHeader(code int) {
	if w.replaced {
		return
	}
	err := w.statusOf(code)
	if err == nil || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.replaced = true
	h := w.Header()
	h.Del("X-Content-Type-Options")
	h.Set("Content-Type", "application/json")
	w.ResponseWriter.WriteHeader(code)
	_, _ = w.ResponseWriter.Write(statusJSON(err))
}

// statusOf is the error that a plain-text answer with code stands for, or
// nil for a code left as it is.
func (w *plainErrors) statusOf(code int) error {
	switch code {
	case http.StatusNotFound:
		return connect.NewError(connect.CodeNotFound, fmt.Errorf("no REST binding at %s", w.r.URL.EscapedPath()))
	case http.StatusMethodNotAllowed:
		return connect.NewError(connect.CodeUnimplemented, fmt.Errorf("method %s not allowed at %s", w.r.Method, w.r.URL.EscapedPath()))
	case http.StatusUnsupportedMediaType:
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("request body of Content-Type %q: send application/json", w.r.Header.Get("Content-Type")))
	}
	return nil
}

func (w *plainErrors) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming through the wrapper.
func (w *plainErrors) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *plainErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }
