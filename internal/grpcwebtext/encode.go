package grpcwebtext

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// responseWriter base64-encodes what the binary gRPC-Web handler writes: the
// bytes written between two flushes go out as one padded base64 chunk. It
// keeps http.Flusher and Unwrap, so streaming works through it.
type responseWriter struct {
	http.ResponseWriter
	wroteHeader bool
	pending     []byte // binary bytes written since the last flush
	encoded     []byte
	err         error
}

func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	h := w.Header()
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, "application/grpc-web") {
		h.Set("Content-Type", textPrefix+strings.TrimPrefix(ct, "application/grpc-web"))
	}
	h.Del("Content-Length") // the encoded length differs
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	w.pending = append(w.pending, p...)
	return len(p), nil
}

// Flush encodes the pending bytes as one whole base64 chunk and flushes it.
func (w *responseWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.emit()
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *responseWriter) emit() {
	if len(w.pending) == 0 || w.err != nil {
		return
	}
	n := base64.StdEncoding.EncodedLen(len(w.pending))
	if cap(w.encoded) < n {
		w.encoded = make([]byte, n)
	}
	w.encoded = w.encoded[:n]
	base64.StdEncoding.Encode(w.encoded, w.pending)
	w.pending = w.pending[:0]
	_, w.err = w.ResponseWriter.Write(w.encoded)
}

// finish sends what the handler wrote after its last flush.
func (w *responseWriter) finish() {
	if w.wroteHeader {
		w.emit()
	}
}

func (w *responseWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}
