package server

import (
	"context"
	"sync/atomic"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/telemetry"
)

// outcome is what the server learns about one RPC from inside connect-go,
// set by the interceptor rpcOutcome: its protocol as connect-go identified
// it, its code, with telemetry on its span's ids, and when asked (REST,
// whose path does not name it) its method. All but the ids are small
// numbers, so that recording them allocates nothing.
type outcome struct {
	code       atomic.Uint32 // 0: not recorded; 1: ok; else connect.Code + 1
	protocol   atomic.Uint32 // 0: not recorded; else 1 + index in rpcProtocols
	trace      atomic.Value  // [2]string: the server span's trace and span ids, with telemetry on
	wantMethod atomic.Bool   // record method
	method     atomic.Uint32 // 0: not recorded; else 1 + the metrics.Method
}

// methodOr returns the recorded method, or m when none was.
func (o *outcome) methodOr(m metrics.Method) metrics.Method {
	if v := o.method.Load(); v > 0 {
		return metrics.Method(v - 1)
	}
	return m
}

// outcomeKey is the context key of the call's *outcome.
type outcomeKey struct{}

// rpcProtocols are connect-go's names of the protocols it serves, as
// outcome.protocol numbers them.
var rpcProtocols = [...]string{connect.ProtocolConnect, connect.ProtocolGRPC, connect.ProtocolGRPCWeb}

func (o *outcome) setProtocol(p string) {
	for i, name := range rpcProtocols {
		if p == name {
			o.protocol.Store(uint32(i + 1))
			return
		}
	}
}

// protocolName returns connect-go's name of the recorded protocol, or ""
// when none was recorded.
func (o *outcome) protocolName() string {
	if i := o.protocol.Load(); i > 0 {
		return rpcProtocols[i-1]
	}
	return ""
}

func (o *outcome) setCode(err error) {
	if err == nil {
		o.code.Store(1)
		return
	}
	o.code.Store(uint32(connect.CodeOf(err)) + 1)
}

// codeName returns the recorded code's name ("ok", "invalid_argument",
// ...), or "" when none was recorded.
func (o *outcome) codeName() string {
	switch v := o.code.Load(); v {
	case 0:
		return ""
	case 1:
		return "ok"
	default:
		return connect.Code(v - 1).String()
	}
}

// traceIDs returns the recorded trace and span ids, or two empty strings.
func (o *outcome) traceIDs() (traceID, spanID string) {
	ids, _ := o.trace.Load().([2]string)
	return ids[0], ids[1]
}

// rpcOutcome is a connect interceptor that records each RPC's outcome in the
// one its context holds (outcomeKey{}), if any.
type rpcOutcome struct {
	telemetry bool           // look for a span (a lookup that walks the whole context when there is none)
	calls     *metrics.Calls // names the method when asked; nil with metrics off
}

func (r rpcOutcome) record(ctx context.Context, spec connect.Spec, peer connect.Peer, err error) {
	o, ok := ctx.Value(outcomeKey{}).(*outcome)
	if !ok {
		return
	}
	o.setProtocol(peer.Protocol)
	if r.calls != nil && o.wantMethod.Load() {
		m, _ := r.calls.Method(spec.Procedure)
		o.method.Store(uint32(m) + 1)
	}
	if r.telemetry {
		if traceID, spanID, ok := telemetry.SpanIDs(ctx); ok {
			o.trace.Store([2]string{traceID, spanID})
		}
	}
	o.setCode(err)
}

func (r rpcOutcome) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		res, err := next(ctx, req)
		r.record(ctx, req.Spec(), req.Peer(), err)
		return res, err
	}
}

func (rpcOutcome) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (r rpcOutcome) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		err := next(ctx, conn)
		r.record(ctx, conn.Spec(), conn.Peer(), err)
		return err
	}
}
