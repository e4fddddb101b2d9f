package server

import (
	"context"
	"slices"
	"testing"

	"connectrpc.com/connect"
)

// tracer is an interceptor that appends its name to a shared list on the
// way in, so that the order of a chain shows.
type tracer struct {
	name string
	seen *[]string
}

func (t tracer) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		*t.seen = append(*t.seen, t.name)
		return next(ctx, req)
	}
}

func (t tracer) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		*t.seen = append(*t.seen, t.name)
		return next(ctx, spec)
	}
}

func (t tracer) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		*t.seen = append(*t.seen, t.name)
		return next(ctx, conn)
	}
}

func TestChainRunsInterceptorsFirstOutermost(t *testing.T) {
	var seen []string
	c := chain(tracer{"a", &seen}, tracer{"b", &seen}, tracer{"c", &seen})
	want := []string{"a", "b", "c", "handler"}

	_, _ = c.WrapUnary(func(context.Context, connect.AnyRequest) (connect.AnyResponse, error) {
		seen = append(seen, "handler")
		return nil, nil
	})(t.Context(), nil)
	if !slices.Equal(seen, want) {
		t.Errorf("unary: order %v, want %v", seen, want)
	}

	seen = nil
	_ = c.WrapStreamingHandler(func(context.Context, connect.StreamingHandlerConn) error {
		seen = append(seen, "handler")
		return nil
	})(t.Context(), nil)
	if !slices.Equal(seen, want) {
		t.Errorf("streaming handler: order %v, want %v", seen, want)
	}

	seen = nil
	_ = c.WrapStreamingClient(func(context.Context, connect.Spec) connect.StreamingClientConn {
		seen = append(seen, "handler")
		return nil
	})(t.Context(), connect.Spec{})
	if !slices.Equal(seen, want) {
		t.Errorf("streaming client: order %v, want %v", seen, want)
	}
}
