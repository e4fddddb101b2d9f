package main

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
)

// The hand-written codec of the "codec" lever must read and write exactly
// what package proto does, or the lever would measure a different call.
func TestHelloCodecMatchesProto(t *testing.T) {
	c := helloCodec{}
	for _, name := range []string{"", "eric", "日本", string(make([]byte, 300))} {
		reply := &rpc.HelloReply{Message: "Hello, " + name + "!"}
		got, err := c.Marshal(reply)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := proto.Marshal(reply)
		if string(got) != string(want) {
			t.Errorf("Marshal(%q) = %x, want %x", reply.Message, got, want)
		}
		in, _ := proto.Marshal(&rpc.HelloRequest{Name: name})
		// An unknown field after the name: the general path keeps it, and the name.
		in = protowire.AppendTag(in, 9, protowire.VarintType)
		in = protowire.AppendVarint(in, 7)
		var req rpc.HelloRequest
		if err := c.Unmarshal(in, &req); err != nil {
			t.Fatalf("Unmarshal(%x): %v", in, err)
		}
		var ref rpc.HelloRequest
		_ = proto.Unmarshal(in, &ref)
		if !proto.Equal(&req, &ref) {
			t.Errorf("Unmarshal(%x) = %v, want %v", in, &req, &ref)
		}
	}
	if err := c.Unmarshal([]byte("\x0a\x02\xff\xfe"), &rpc.HelloRequest{}); err == nil {
		t.Error("Unmarshal accepted a name that is not UTF-8")
	}
	if err := c.Unmarshal([]byte("\x0a\x05ab"), &rpc.HelloRequest{}); err == nil {
		t.Error("Unmarshal accepted a truncated name")
	}
}
