package server

import (
	"bytes"
	"net/http"
	"strconv"

	"connectrpc.com/connect"
	"github.com/hellorpc/hellorpc/internal/metrics"
)

// callCode returns the code a call ended with: the one connect-go reported
// to the interceptors (o), else, for calls answered before a handler ran
// (shed, refused, malformed, oversized), the one its answer carries: gRPC's
// status in the headers, the code of a JSON error body (Connect's
// {"code":"invalid_argument"} or REST's google.rpc.Status {"code":3}), or
// the HTTP status as a Connect client reads it.
func callCode(o *outcome, rec *responseRecorder) metrics.Code {
	switch v := o.code.Load(); {
	case v == 1:
		return 0
	case v > 1:
		return metrics.Code(v - 1)
	}
	if v := headerValue(rec.Header(), "Grpc-Status"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= int(connect.CodeUnauthenticated) {
			return metrics.Code(n)
		}
		return metrics.CodeUnknown
	}
	if rec.errorCode != 0 {
		return metrics.Code(rec.errorCode - 1)
	}
	if rec.status < 300 {
		return 0 // 0: nothing written, which net/http answers 200
	}
	if code, ok := httpCodes[rec.status]; ok {
		return metrics.Code(code)
	}
	return metrics.CodeUnknown
}

// httpCodes are the codes of the HTTP statuses of errors answered in plain
// text: the rows of gRPC's HTTP-to-code mapping that a Connect client reads
// the same way, and those of the statuses the server itself answers.
var httpCodes = map[int]connect.Code{
	http.StatusUnauthorized:          connect.CodeUnauthenticated,
	http.StatusForbidden:             connect.CodePermissionDenied,
	http.StatusNotFound:              connect.CodeUnimplemented,
	http.StatusMethodNotAllowed:      connect.CodeUnimplemented,
	http.StatusUnsupportedMediaType:  connect.CodeUnimplemented,
	http.StatusRequestEntityTooLarge: connect.CodeResourceExhausted,
	http.StatusTooManyRequests:       connect.CodeResourceExhausted,
	http.StatusBadGateway:            connect.CodeUnavailable,
	http.StatusServiceUnavailable:    connect.CodeUnavailable,
	http.StatusGatewayTimeout:        connect.CodeUnavailable,
}

// jsonErrorCode returns 1 + the code of the JSON error that p begins, a
// Connect error ("code":"invalid_argument") or a google.rpc.Status
// ("code":3), or 0 when p has none.
func jsonErrorCode(p []byte) uint8 {
	const key = `"code":`
	i := bytes.Index(p, []byte(key))
	if i < 0 {
		return 0
	}
	v := bytes.TrimLeft(p[i+len(key):], " ")
	if len(v) > 0 && v[0] == '"' {
		end := bytes.IndexByte(v[1:], '"')
		var code connect.Code
		if end < 0 || code.UnmarshalText(v[1:1+end]) != nil {
			return 0
		}
		return uint8(code) + 1
	}
	end := 0
	for end < len(v) && v[end] >= '0' && v[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(string(v[:end]))
	if err != nil || n > int(connect.CodeUnauthenticated) {
		return 0
	}
	return uint8(n) + 1
}
