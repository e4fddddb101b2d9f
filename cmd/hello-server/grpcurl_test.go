package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/assert"
	"github.com/hellorpc/hellorpc/internal/greeter"
	"github.com/hellorpc/hellorpc/internal/testenv"
)

// TestGrpcurl calls every RPC with grpcurl, a third-party gRPC client, through
// server reflection and through the proto file.
func TestGrpcurl(t *testing.T) {
	grpcurl := testenv.Command(t, "grpcurl",
		"grpcurl (go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4)")
	s := startRun(t, "-reply-interval", "0s")
	root, err := filepath.Abs("../..")
	assert.NoError(t, err, "project root")
	schemas := map[string][]string{
		"reflection": nil,
		"proto":      {"-import-path", filepath.Join(root, "proto"), "-proto", "rpc_package/helloworld.proto"},
	}
	replies := strings.Join(func() []string {
		var out []string
		for _, g := range greeter.Greetings("eric") {
			out = append(out, `"message": "`+g+`"`)
		}
		return out
	}(), "\n")
	tests := []struct {
		name string
		args []string
		want string // the lines of output that matter, joined by \n
	}{
		{"SayHello", []string{"-d", `{"name":"eric"}`, s.addr, "rpc_package.HelloWorldService/SayHello"}, `"message": "Hello, eric!"`},
		{"LotsOfReplies", []string{"-d", `{"name":"eric"}`, s.addr, "rpc_package.HelloWorldService/LotsOfReplies"}, replies},
		{"LotsOfGreetings", []string{"-d", `{"name":"a"} {"name":"b"} {"name":"c"}`, s.addr, "rpc_package.HelloWorldService/LotsOfGreetings"}, `"message": "Hello, a, b and c!"`},
		{"BidiHello", []string{"-d", `{"name":"a"} {"name":"b"}`, s.addr, "rpc_package.HelloWorldService/BidiHello"}, "\"message\": \"Hello, a!\"\n\"message\": \"Hello, b!\""},
	}
	for schema, schemaArgs := range schemas {
		for _, tt := range tests {
			t.Run(schema+"/"+tt.name, func(t *testing.T) {
				out := runGrpcurl(t, grpcurl, append(append([]string{"-plaintext"}, schemaArgs...), tt.args...)...)
				assert.Equal(t, messageLines(out), tt.want, "grpcurl output")
			})
		}
	}

	out := runGrpcurl(t, grpcurl, "-plaintext", s.addr, "list")
	assert.Equal(t, out, "grpc.health.v1.Health\ngrpc.reflection.v1.ServerReflection\n"+
		"grpc.reflection.v1alpha.ServerReflection\nrpc_package.HelloWorldService\n", "grpcurl list")
	out = runGrpcurl(t, grpcurl, "-plaintext", s.addr, "describe", "rpc_package.HelloWorldService")
	for _, rpc := range []string{
		"rpc SayHello ( .rpc_package.HelloRequest ) returns ( .rpc_package.HelloReply )",
		"rpc LotsOfReplies ( .rpc_package.HelloRequest ) returns ( stream .rpc_package.HelloReply );",
		"rpc LotsOfGreetings ( stream .rpc_package.HelloRequest ) returns ( .rpc_package.HelloReply );",
		"rpc BidiHello ( stream .rpc_package.HelloRequest ) returns ( stream .rpc_package.HelloReply );",
	} {
		assert.Contains(t, out, rpc, "grpcurl describe")
	}
}

func runGrpcurl(t *testing.T, grpcurl string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, grpcurl, args...).CombinedOutput()
	assert.NoError(t, err, "grpcurl "+strings.Join(args, " ")+": "+string(out))
	return string(out)
}

// messageLines keeps the "message" lines of grpcurl's JSON output, trimmed.
func messageLines(out string) string {
	var lines []string
	for line := range strings.Lines(out) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, `"message"`) {
			lines = append(lines, line)
		}
	}
	return strings.Join(lines, "\n")
}
