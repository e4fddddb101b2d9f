package rest

import "net/http"

// jsonContentType corrects the Content-Type of vanguard's answers to a body
// it could not decode: the error is JSON, labelled with the target's
// application/proto. Every REST answer here is JSON.
type jsonContentType struct {
	http.ResponseWriter
	checked bool
}

func (w *jsonContentType) check() {
	if !w.checked {
		w.checked = true
		if h := w.Header(); h.Get("Content-Type") == "application/proto" {
			h.Set("Content-Type", "application/json")
		}
	}
}

func (w *jsonContentType) WriteHeader(code int) {
	w.check()
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonContentType) Write(p []byte) (int, error) {
	w.check()
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming through the wrapper.
func (w *jsonContentType) Flush() {
	w.check()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *jsonContentType) Unwrap() http.ResponseWriter { return w.ResponseWriter }
