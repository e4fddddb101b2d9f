package rest

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"connectrpc.com/connect"
)

// clientBody prepares the body of a REST request for vanguard: a gzip body
// is decompressed here, and the body is read through a boundedBody, so that
// what is wrong with it is the client's error, where vanguard would answer
// unknown (500) to a broken gzip stream and decompress without a bound.
func clientBody(r *http.Request, maxBytes int64) (*boundedBody, error) {
	var body io.Reader = r.Body
	switch enc := strings.ToLower(r.Header.Get("Content-Encoding")); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil && err != io.EOF {
			return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read the gzip request body: %w", err))
		}
		if zr != nil {
			body = zr
		}
		r.Header.Del("Content-Encoding")
		r.ContentLength = -1
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("unsupported Content-Encoding %q: send the body as it is, or gzip", enc))
	}
	b := &boundedBody{r: body, c: r.Body, left: maxBytes}
	r.Body = b
	return b, nil
}

// boundedBody reads at most left bytes; its read errors are connect errors,
// which vanguard answers with their code: resource_exhausted past the bound
// (or past an http.MaxBytesReader in front, such as the server's body cap),
// deadline_exceeded or canceled when the call ended while the body was
// still owed (the read then returns the call context's error): 408 when the
// body itself was late (ErrBodyTimeout, noted in late), else 504; and
// invalid_argument for anything else.
type boundedBody struct {
	r    io.Reader
	c    io.Closer
	left int64
	late atomic.Bool // a read failed with ErrBodyTimeout
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n, connect.NewError(connect.CodeResourceExhausted, errors.New("request body too large"))
	}
	var tooLarge *http.MaxBytesError
	switch {
	case err == nil || err == io.EOF:
		return n, err
	case errors.As(err, &tooLarge):
		return n, connect.NewError(connect.CodeResourceExhausted, fmt.Errorf("request body larger than %d bytes", tooLarge.Limit))
	case b.timedOut(err):
		return n, connect.NewError(connect.CodeDeadlineExceeded, err) // its message says which timeout
	case errors.Is(err, context.DeadlineExceeded):
		return n, connect.NewError(connect.CodeDeadlineExceeded, fmt.Errorf("read the request body: %w", err))
	case errors.Is(err, context.Canceled):
		return n, connect.NewError(connect.CodeCanceled, fmt.Errorf("read the request body: %w", err))
	default:
		return n, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("read the request body: %w", err))
	}
}

func (b *boundedBody) Close() error { return b.c.Close() }
