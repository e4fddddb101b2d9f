package main

import (
	"testing"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestFieldLengthsOfTheProto reads the bounds of HelloRequest.name from its
// compiled descriptor: the proto's two CEL rules.
func TestFieldLengthsOfTheProto(t *testing.T) {
	t.Parallel()
	msg := (&rpc.HelloRequest{}).ProtoReflect().Descriptor()
	name := msg.Fields().ByName("name")
	l, ok, err := fieldLengths(name)
	assert.NoError(t, err, "bounds of name")
	assert.True(t, ok, "name has rules")
	assert.Equal(t, l, lengths{min: 1, max: 100}, "bounds of name")
	assert.True(t, requiredInJSON(name, l), "an absent name is empty, which is refused")
	assert.NoError(t, checkMessageRules(msg), "HelloRequest has no message-level rule")

	reply := (&rpc.HelloReply{}).ProtoReflect().Descriptor()
	_, ok, err = fieldLengths(reply.Fields().ByName("message"))
	assert.NoError(t, err, "bounds of message")
	assert.True(t, !ok, "HelloReply.message has no rules")
}
