package server

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
)

// rpcErrors writes an error that the middleware answers for itself in the
// protocol of the request: Connect JSON with its HTTP status, gRPC as
// trailers-only, gRPC-Web with the status in the headers.
var rpcErrors = connect.NewErrorWriter()

// writeRPCError answers r with a Connect error of code and message.
func writeRPCError(w http.ResponseWriter, r *http.Request, code connect.Code, message string) {
	_ = rpcErrors.Write(w, r, connect.NewError(code, errors.New(message)))
}
