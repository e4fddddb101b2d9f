package validation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"buf.build/go/protovalidate"
	"connectrpc.com/connect"
	"connectrpc.com/validate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// New returns the interceptor that validates the request messages of the
// types of messages against the rules of their type, compiling those rules
// up front so that the first call does not pay for it. The calls of a method
// whose request is of another type (its connect.Spec's Schema says which)
// pass untouched: a service served beside hellorpc's keeps its own rules. A
// call whose Spec has no method descriptor is validated whatever its type.
// New fails only when a message's rules do not compile.
func New(messages ...proto.Message) (connect.Interceptor, error) {
	validator, err := protovalidate.New(protovalidate.WithMessages(messages...))
	if err != nil {
		return nil, fmt.Errorf("compile the validation rules: %w", err)
	}
	types := make(map[protoreflect.FullName]bool, len(messages))
	for _, m := range messages {
		types[m.ProtoReflect().Descriptor().FullName()] = true
	}
	return &interceptor{inner: validate.NewInterceptor(validate.WithValidator(validator)), types: types}, nil
}

// interceptor runs connectrpc.com/validate and rewrites its errors into the
// wire contract (see the package documentation).
type interceptor struct {
	inner *validate.Interceptor
	types map[protoreflect.FullName]bool // of the request messages it validates
}

// validates reports whether i validates the requests of the call of spec.
func (i *interceptor) validates(spec connect.Spec) bool {
	method, ok := spec.Schema.(protoreflect.MethodDescriptor)
	return !ok || i.types[method.Input().FullName()]
}

func (i *interceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	validated := i.inner.WrapUnary(next)
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if spec := req.Spec(); spec.IsClient || !i.validates(spec) {
			return next(ctx, req)
		}
		res, err := validated(ctx, req)
		return res, rewrite(err, 0)
	}
}

func (i *interceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i *interceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	// The validating conn of connectrpc.com/validate is inside; ours, which
	// numbers the messages and rewrites the errors, wraps it.
	validated := i.inner.WrapStreamingHandler(func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return next(ctx, &numberedConn{StreamingHandlerConn: conn,
			clientStream: conn.Spec().StreamType&connect.StreamTypeClient != 0})
	})
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		if !i.validates(conn.Spec()) {
			return next(ctx, conn)
		}
		return validated(ctx, conn)
	}
}

// numberedConn counts the messages received on a stream, so that a
// violation in a client stream says which message broke the rule.
type numberedConn struct {
	connect.StreamingHandlerConn
	clientStream bool
	received     int
}

func (c *numberedConn) Receive(msg any) error {
	c.received++
	err := c.StreamingHandlerConn.Receive(msg)
	if err == nil || !c.clientStream {
		return rewrite(err, 0)
	}
	return rewrite(err, c.received)
}

// rewrite turns an error of connectrpc.com/validate into the wire contract,
// naming message n of a client stream when n > 0; any other error is
// returned as it is.
func rewrite(err error, n int) error {
	if err == nil {
		return nil // before verr, which escapes: no allocation for a valid call
	}
	var verr *protovalidate.ValidationError
	if !errors.As(err, &verr) || len(verr.Violations) == 0 {
		return err
	}
	prefix := ""
	if n > 0 {
		prefix = fmt.Sprintf("message %d: ", n)
	}
	badRequest := &errdetails.BadRequest{}
	descriptions := make([]string, 0, len(verr.Violations))
	for _, v := range verr.Violations {
		description := prefix + v.Proto.GetMessage()
		descriptions = append(descriptions, description)
		badRequest.FieldViolations = append(badRequest.FieldViolations, &errdetails.BadRequest_FieldViolation{
			Field:       protovalidate.FieldPathString(v.Proto.GetField()),
			Description: description,
		})
	}
	field := badRequest.FieldViolations[0].GetField()
	out := connect.NewError(connect.CodeInvalidArgument,
		fmt.Errorf("invalid %s: %s", field, strings.Join(descriptions, "; ")))
	for _, detail := range []proto.Message{badRequest, verr.ToProto()} {
		if d, err := connect.NewErrorDetail(detail); err == nil {
			out.AddDetail(d)
		}
	}
	return out
}
