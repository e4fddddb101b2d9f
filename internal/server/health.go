package server

import (
	"context"
	"errors"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
)

// quietChecker is the health checker that grpchealth serves: it answers an
// unknown service with not_found "unknown service", as grpc-go does, instead
// of echoing the requested name (which a client may make as large as its
// message limit) into grpc-message.
type quietChecker struct{ grpchealth.Checker }

func (c quietChecker) Check(ctx context.Context, req *grpchealth.CheckRequest) (*grpchealth.CheckResponse, error) {
	res, err := c.Checker.Check(ctx, req)
	if connect.CodeOf(err) == connect.CodeNotFound {
		return nil, connect.NewError(connect.CodeNotFound, errors.New("unknown service"))
	}
	return res, err
}
