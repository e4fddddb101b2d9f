package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
)

// accessLog returns middleware that logs one line per request once it is
// answered: method, path, protocol, HTTP version, HTTP status, the RPC's code,
// duration and bytes read and written. It never logs bodies or header values.
// The ResponseWriter it passes on keeps http.Flusher, so streams still flush.
// When the logger does not log at Info, requests pass through untouched.
// What it keeps of a call is in the call's callState (call.go).
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	// With slog's text format (cli.TextHandler), lines are appended here.
	lines, fast := logger.Handler().(lineWriter)
	return func(next http.Handler) http.Handler {
		return &accessLogger{logger: logger, lines: lines, fast: fast, next: next}
	}
}

// accessLogger is accessLog's handler.
type accessLogger struct {
	logger *slog.Logger
	lines  lineWriter
	fast   bool // lines are appended here, not built as slog records
	next   http.Handler
}

func (a *accessLogger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !a.logger.Enabled(r.Context(), slog.LevelInfo) {
		a.next.ServeHTTP(w, r)
		return
	}
	c, r := callOf(w, r)
	rec := c.recorder(w)
	a.next.ServeHTTP(rec, r)

	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	code := c.outcome.codeName()
	if code == "" {
		code = grpcStatus(rec.Header())
	}
	traceID, spanID := c.outcome.traceIDs()
	end := time.Now()
	line := accessLine{at: end, method: r.Method, path: r.URL.Path, protocol: protocolOf(r, &c.outcome),
		proto: r.Proto, status: status, code: code, duration: end.Sub(c.start),
		bytesIn: c.read.Load(), bytesOut: rec.bytes, traceID: traceID, spanID: spanID}
	if a.fast {
		line.write(a.lines.LineWriter())
		return
	}
	_ = a.logger.Handler().Handle(r.Context(), line.record())
}

// protocolOf names the RPC protocol of r: "rest" for a REST path (its call
// reaches connect-go transcoded), connect-go's word when the request reached
// an RPC, else a guess from the Content-Type for requests answered before
// (shed, refused), or "http" for the page.
func protocolOf(r *http.Request, o *outcome) string {
	if isREST(r) {
		return "rest"
	}
	if p := o.protocolName(); p != "" {
		return p
	}
	return guessProtocol(r)
}

// guessProtocol names the RPC protocol of r from its Content-Type, or "http".
func guessProtocol(r *http.Request) string {
	ct := strings.ToLower(headerValue(r.Header, "Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		return "grpcweb"
	case isGRPC(ct):
		return "grpc"
	case strings.HasPrefix(ct, "application/connect+"), headerValue(r.Header, "Connect-Protocol-Version") != "",
		r.Method == http.MethodGet && r.URL.Query().Has("connect"):
		return "connect"
	case ct == "application/json" || ct == "application/proto" || strings.HasPrefix(ct, "application/json;"):
		return "connect"
	}
	return "http"
}

// grpcStatus reads the gRPC status a response carries in its headers or
// trailers, as a code name ("ok", "invalid_argument", ...).
func grpcStatus(h http.Header) string {
	v := headerValue(h, "Grpc-Status")
	if v == "" {
		v = headerValue(h, http.TrailerPrefix+"Grpc-Status")
	}
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return v
	case n == 0:
		return "ok"
	}
	return connect.Code(n).String()
}
