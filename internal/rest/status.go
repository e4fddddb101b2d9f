package rest

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
)

// WriteError answers err as vanguard answers REST errors: the HTTP status
// of its code and a google.rpc.Status in JSON.
func WriteError(w http.ResponseWriter, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(httpStatus(connect.CodeOf(err)))
	_, _ = w.Write(statusJSON(err))
}

// statusJSON encodes err as a google.rpc.Status in JSON, with its details.
func statusJSON(err error) []byte {
	st := &status.Status{Code: int32(connect.CodeOf(err)), Message: err.Error()}
	var cerr *connect.Error
	if errors.As(err, &cerr) {
		st.Message = cerr.Message()
		for _, d := range cerr.Details() {
			st.Details = append(st.Details, &anypb.Any{TypeUrl: "type.googleapis.com/" + d.Type(), Value: d.Bytes()})
		}
	}
	body, mErr := protojson.Marshal(st)
	if mErr != nil {
		// A detail whose type is not linked in: the status without details.
		body, _ = protojson.Marshal(&status.Status{Code: st.GetCode(), Message: st.GetMessage()})
	}
	return body
}

// httpStatus maps an RPC code to its HTTP status as google.api.http
// (and vanguard) do.
func httpStatus(code connect.Code) int {
	switch code {
	case connect.CodeCanceled:
		return 499
	case connect.CodeInvalidArgument, connect.CodeFailedPrecondition, connect.CodeOutOfRange:
		return http.StatusBadRequest
	case connect.CodeDeadlineExceeded:
		return http.StatusGatewayTimeout
	case connect.CodeNotFound:
		return http.StatusNotFound
	case connect.CodeAlreadyExists, connect.CodeAborted:
		return http.StatusConflict
	case connect.CodePermissionDenied:
		return http.StatusForbidden
	case connect.CodeResourceExhausted:
		return http.StatusTooManyRequests
	case connect.CodeUnimplemented:
		return http.StatusNotImplemented
	case connect.CodeUnavailable:
		return http.StatusServiceUnavailable
	case connect.CodeUnauthenticated:
		return http.StatusUnauthorized
	default:
		return http.StatusInternalServerError
	}
}
