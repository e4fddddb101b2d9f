package rest

import (
	"fmt"
	"io"
	"net/http"
	"sync"

	"connectrpc.com/connect"
)

// inProcess is a connect.HTTPClient that serves each request with h in this
// process: the response's headers come back as soon as h writes them and its
// body streams through a pipe, so a server stream arrives message by message.
type inProcess struct{ h http.Handler }

var _ connect.HTTPClient = inProcess{}

func (c inProcess) Do(req *http.Request) (*http.Response, error) {
	pr, pw := io.Pipe()
	w := &pipeWriter{header: make(http.Header), body: pw, ready: make(chan struct{})}
	inner := req.Clone(req.Context())
	inner.RequestURI = inner.URL.RequestURI()
	inner.RemoteAddr = "in-process"
	go func() {
		defer func() {
			w.writeHeader(http.StatusOK) // a handler that wrote nothing
			pw.Close()
		}()
		c.h.ServeHTTP(w, inner)
	}()
	select {
	case <-w.ready:
	case <-req.Context().Done():
		pr.CloseWithError(req.Context().Err())
		return nil, req.Context().Err()
	}
	return &http.Response{
		Status:     fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode: w.status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        w.sent,
		Body:          pr,
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is the http.ResponseWriter of an inProcess call.
type pipeWriter struct {
	header http.Header // what the handler sets
	sent   http.Header // a copy taken at WriteHeader
	status int
	once   sync.Once
	ready  chan struct{}
	body   *io.PipeWriter
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) { w.writeHeader(code) }

func (w *pipeWriter) writeHeader(code int) {
	w.once.Do(func() {
		w.status, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.writeHeader(http.StatusOK)
	return w.body.Write(p)
}

// Flush is a no-op: every Write reaches the reader when it reads.
func (w *pipeWriter) Flush() {}
