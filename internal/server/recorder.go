package server

import "net/http"

// responseRecorder notes the status, the bytes written and the code of an
// error answered in JSON (errorCode). It implements
// http.Flusher and Unwrap, so streaming and http.ResponseController work
// through it.
type responseRecorder struct {
	http.ResponseWriter
	status    int
	bytes     int64
	errorCode uint8 // 0: none seen; else 1 + the code of the JSON error body (errorcode.go)
}

func (r *responseRecorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	if r.status >= 400 && r.bytes == 0 {
		r.errorCode = jsonErrorCode(p)
	}
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *responseRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
		return
	}
	_ = http.NewResponseController(r.ResponseWriter).Flush()
}

func (r *responseRecorder) Unwrap() http.ResponseWriter {
	return r.ResponseWriter
}
