package rest

import (
	"fmt"

	"connectrpc.com/connect"
	"connectrpc.com/vanguard"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// clientJSON is vanguard's JSON codec, whose decoding errors are the
// client's: invalid_argument (400), where vanguard would answer unknown (500).
type clientJSON struct{ *vanguard.JSONCodec }

func (c clientJSON) Unmarshal(data []byte, msg proto.Message) error {
	return badRequestBody(c.JSONCodec.Unmarshal(data, msg))
}

func (c clientJSON) UnmarshalField(data []byte, msg proto.Message, field protoreflect.FieldDescriptor) error {
	return badRequestBody(c.JSONCodec.UnmarshalField(data, msg, field))
}

func badRequestBody(err error) error {
	if err == nil {
		return nil
	}
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("decode the JSON request: %w", err))
}
