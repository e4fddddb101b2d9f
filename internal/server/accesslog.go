package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/internal/telemetry"
)

// call is what the access log learns about one request from inside connect-go,
// set by the interceptor of rpcOutcome: the RPC's protocol as connect-go
// identified it, and its outcome. Both are small numbers, so that recording
// them allocates nothing.
type call struct {
	code     atomic.Uint32 // 0: not recorded; 1: ok; else connect.Code + 1
	protocol atomic.Uint32 // 0: not recorded; else 1 + index in rpcProtocols
	trace    atomic.Value  // [2]string: the server span's trace and span ids, with telemetry on
}

// rpcProtocols are connect-go's names of the protocols it serves, as
// call.protocol numbers them.
var rpcProtocols = [...]string{connect.ProtocolConnect, connect.ProtocolGRPC, connect.ProtocolGRPCWeb}

func (c *call) setProtocol(p string) {
	for i, name := range rpcProtocols {
		if p == name {
			c.protocol.Store(uint32(i + 1))
			return
		}
	}
}

func (c *call) setCode(err error) {
	if err == nil {
		c.code.Store(1)
		return
	}
	c.code.Store(uint32(connect.CodeOf(err)) + 1)
}

// codeName returns the recorded outcome as a code name ("ok",
// "invalid_argument", ...), or "" when none was recorded.
func (c *call) codeName() string {
	switch v := c.code.Load(); v {
	case 0:
		return ""
	case 1:
		return "ok"
	default:
		return connect.Code(v - 1).String()
	}
}

type callKey struct{}

// accessLog returns middleware that logs one line per request once it is
// answered: method, path, protocol, HTTP version, HTTP status, the RPC's code,
// duration and bytes read and written. It never logs bodies or header values.
// The ResponseWriter it passes on keeps http.Flusher, so streams still flush.
// When the logger does not log at Info, requests pass through untouched.
func accessLog(logger *slog.Logger) func(http.Handler) http.Handler {
	// With slog's text format (cli.TextHandler), lines are appended here.
	lines, fast := logger.Handler().(lineWriter)
	return func(next http.Handler) http.Handler {
		return &accessLogger{logger: logger, lines: lines, fast: fast, next: next}
	}
}

// accessLogger is accessLog's handler: a method, not a closure, as
// enforcer is (deadline.go), so that the request it makes is part of its one
// allocation.
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
	start := time.Now()
	// One allocation holds everything the log line needs, the call's
	// context, which enforce (deadline.go) takes over, and the request that
	// carries it.
	lc := &loggedCall{rec: responseRecorder{ResponseWriter: w}}
	r = lc.carry(w, r)
	lc.ctx.start, lc.ctx.call = start, &lc.call
	rec := &lc.rec
	a.next.ServeHTTP(rec, r)

	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	code := lc.call.codeName()
	if code == "" {
		code = grpcStatus(rec.Header())
	}
	ids, _ := lc.call.trace.Load().([2]string)
	end := time.Now()
	line := accessLine{at: end, method: r.Method, path: r.URL.Path, protocol: lc.call.protocolOf(r),
		proto: r.Proto, status: status, code: code, duration: end.Sub(start),
		bytesIn: lc.ctx.read.Load(), bytesOut: rec.bytes, traceID: ids[0], spanID: ids[1]}
	if a.fast {
		line.write(a.lines.LineWriter())
		return
	}
	_ = a.logger.Handler().Handle(r.Context(), line.record())
}

// rpcOutcome is a connect interceptor that records each RPC's code for the
// access log, and with telemetry on its span's ids.
type rpcOutcome struct {
	telemetry bool // look for a span (a lookup that walks the whole context when there is none)
}

func (o rpcOutcome) record(ctx context.Context, peer connect.Peer, err error) {
	c, ok := ctx.Value(callKey{}).(*call)
	if !ok {
		return
	}
	c.setProtocol(peer.Protocol)
	if o.telemetry {
		if traceID, spanID, ok := telemetry.SpanIDs(ctx); ok {
			c.trace.Store([2]string{traceID, spanID})
		}
	}
	c.setCode(err)
}

func (o rpcOutcome) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		o.record(ctx, req.Peer(), err)
		return res, err
	}
}

func (rpcOutcome) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (o rpcOutcome) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		o.record(ctx, conn.Peer(), err)
		return err
	}
}

// protocolOf names the RPC protocol of r: "rest" for a REST path (its call
// reaches connect-go transcoded), connect-go's word when the request reached
// an RPC, else a guess from the Content-Type for requests answered before
// (shed, refused), or "http" for the page.
func (c *call) protocolOf(r *http.Request) string {
	if isREST(r) {
		return "rest"
	}
	if i := c.protocol.Load(); i > 0 {
		return rpcProtocols[i-1]
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

// loggedCall is what the access log keeps of one request, in one
// allocation: the call's context (which also counts the body's bytes) and
// the request that carries it, the recorder of the answer, and the RPC's
// outcome.
type loggedCall struct {
	ctxRequest
	rec  responseRecorder
	call call
}

// responseRecorder notes the status and the bytes written. It implements
// http.Flusher and Unwrap, so streaming and http.ResponseController work
// through it.
type responseRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
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
