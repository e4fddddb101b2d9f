package rest

import "net/http"

// jsonContentType is the ResponseWriter of vanguard's unary answers. It
// corrects the Content-Type of its answers to a body it could not decode:
// the error is JSON, labelled with the target's application/proto. Every
// REST answer here is JSON.
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

// Flush does not flush: every binding that vanguard serves here is unary
// (the stream of replies is streamReplies'), and vanguard flushes once its
// reply is written. The reply is sent when the handler returns, which over
// HTTP/2 ends the stream with its last DATA frame; flushed before, it would
// be followed by a separate empty DATA frame, which a proxy may wait for
// before it passes the reply on.
func (*jsonContentType) Flush() {}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *jsonContentType) Unwrap() http.ResponseWriter { return w.ResponseWriter }
