package interop

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/internal/greeter"
)

const service = "rpc_package.HelloWorldService"

// The replies each RPC kind must give for the names the cells send.
var (
	wantUnary  = []string{"Hello, eric!"}
	wantServer = greeter.Greetings("eric")
	wantClient = []string{"Hello, a, b and c!"}
	wantBidi   = []string{"Hello, a!", "Hello, b!"}
)

var messageRE = regexp.MustCompile(`"message":\s*("(?:[^"\\]|\\.)*")`)

// jsonMessages returns the "message" fields of JSON output, in order.
func jsonMessages(out string) []string {
	var got []string
	for _, m := range messageRE.FindAllStringSubmatch(out, -1) {
		s, err := strconv.Unquote(m[1])
		if err != nil {
			s = m[1]
		}
		got = append(got, s)
	}
	return got
}

// prefixed returns the replies of lines "hello client received: <reply>".
func prefixed(out string) []string {
	var got []string
	for line := range strings.Lines(out) {
		if reply, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "hello client received: "); ok {
			got = append(got, reply)
		}
	}
	return got
}

// lines returns the non-empty lines of out.
func lines(out string) []string {
	var got []string
	for line := range strings.Lines(out) {
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			got = append(got, line)
		}
	}
	return got
}

// frames decodes the data frames of a gRPC or gRPC-Web body as HelloReply
// messages; a trailer frame (flag 0x80) ends them.
func frames(out string) []string {
	var got []string
	b := []byte(out)
	for len(b) >= 5 && b[0]&0x80 == 0 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			break
		}
		var reply rpc.HelloReply
		if proto.Unmarshal(b[5:5+n], &reply) == nil {
			got = append(got, reply.GetMessage())
		}
		b = b[5+n:]
	}
	return got
}

// textFrames decodes a grpc-web-text body (padded base64 chunks) and then
// its frames.
func textFrames(out string) []string {
	var b []byte
	for i := 0; i+4 <= len(out); i += 4 {
		quantum, err := base64.StdEncoding.DecodeString(out[i : i+4])
		if err != nil {
			return nil
		}
		b = append(b, quantum...)
	}
	return frames(string(b))
}

// frame wraps a HelloRequest for name in a gRPC envelope.
func frame(name string) []byte {
	msg, _ := proto.Marshal(&rpc.HelloRequest{Name: name})
	return append([]byte{0, 0, 0, 0, byte(len(msg))}, msg...)
}

func (e *env) pythonCells(ctx context.Context) group {
	python, err := e.python(ctx)
	if err != nil {
		return group{missing: err, cells: []cell{{client: "python grpcio (tutorial client)", protocol: "gRPC", http: "2", rpc: "unary"}}}
	}
	script := func(name string, args ...string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			stubs, err := e.pythonStubs(ctx, python)
			if err != nil {
				return "", err
			}
			return e.output(ctx, []string{"PYTHONPATH=" + stubs}, python, append([]string{"cmd/hello-client/python/" + name, e.addr}, args...)...)
		}
	}
	c := func(client, rpc string, want []string, run func(context.Context) (string, error)) cell {
		return cell{client: client, protocol: "gRPC", http: "2", rpc: rpc, want: want, run: run, parse: prefixed}
	}
	return group{cells: []cell{
		c("python grpcio (tutorial client)", "unary", wantUnary, script("greeter_client.py")),
		c("python grpcio", "server stream", wantServer, script("streaming_client.py", "lots-of-replies", "eric")),
		c("python grpcio", "client stream", wantClient, script("streaming_client.py", "lots-of-greetings", "a", "b", "c")),
		c("python grpcio", "bidi", wantBidi, script("streaming_client.py", "bidi-hello", "a", "b")),
	}}
}

// pythonStubs generates the Python stubs of the proto once, and returns
// their directory.
func (e *env) pythonStubs(ctx context.Context, python string) (string, error) {
	stubs := filepath.Join(e.tmp, "py")
	if _, err := os.Stat(filepath.Join(stubs, "helloworld_pb2.py")); err == nil {
		return stubs, nil
	}
	if err := os.MkdirAll(stubs, 0o755); err != nil {
		return "", err
	}
	// helloworld.proto imports the schemas of its annotations, which need
	// stubs too (buf.validate, google.api; google is a namespace package).
	_, err := e.output(ctx, nil, python, "-m", "grpc_tools.protoc", "-I", "proto/rpc_package", "-I", "proto",
		"--python_out="+stubs, "--grpc_python_out="+stubs, "proto/rpc_package/helloworld.proto",
		"proto/buf/validate/validate.proto", "proto/google/api/annotations.proto", "proto/google/api/http.proto")
	return stubs, err
}

func (e *env) grpcurlCells() group {
	grpcurl, err := e.tool("grpcurl")
	if err != nil {
		return group{missing: err, cells: []cell{{client: "grpcurl", protocol: "gRPC", http: "2", rpc: "all"}}}
	}
	var cells []cell
	for _, schema := range []struct {
		name string
		args []string
	}{
		{"reflection", nil},
		{"-proto", []string{"-import-path", "proto", "-proto", "rpc_package/helloworld.proto"}},
	} {
		call := func(rpc, method, data string, want []string) cell {
			args := append(append([]string{"-plaintext"}, schema.args...), "-d", data, e.addr, service+"/"+method)
			return cell{client: "grpcurl (" + schema.name + ")", protocol: "gRPC", http: "2", rpc: rpc, want: want, parse: jsonMessages,
				run: func(ctx context.Context) (string, error) { return e.output(ctx, nil, grpcurl, args...) }}
		}
		cells = append(cells,
			call("unary", "SayHello", `{"name":"eric"}`, wantUnary),
			call("server stream", "LotsOfReplies", `{"name":"eric"}`, wantServer),
			call("client stream", "LotsOfGreetings", `{"name":"a"} {"name":"b"} {"name":"c"}`, wantClient),
			call("bidi", "BidiHello", `{"name":"a"} {"name":"b"}`, wantBidi),
		)
	}
	cells = append(cells,
		cell{client: "grpcurl (reflection)", protocol: "gRPC", http: "2", rpc: "list", want: []string{
			"grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", service},
			parse: lines, run: func(ctx context.Context) (string, error) {
				return e.output(ctx, nil, grpcurl, "-plaintext", e.addr, "list")
			}},
		cell{client: "grpcurl (reflection)", protocol: "gRPC", http: "2", rpc: "describe", want: []string{"4 RPCs, 3 streaming"},
			parse: describeSummary, run: func(ctx context.Context) (string, error) {
				return e.output(ctx, nil, grpcurl, "-plaintext", e.addr, "describe", service)
			}},
	)
	return group{cells: cells}
}

// describeSummary counts the RPCs grpcurl describes, and the streaming ones.
func describeSummary(out string) []string {
	rpcs, streaming := 0, 0
	for line := range strings.Lines(out) {
		if strings.Contains(line, "rpc ") {
			rpcs++
			if strings.Contains(line, "stream ") {
				streaming++
			}
		}
	}
	return []string{fmt.Sprintf("%d RPCs, %d streaming", rpcs, streaming)}
}

func (e *env) bufCurlCells() group {
	buf, err := e.tool("buf")
	if err != nil {
		return group{missing: err, cells: []cell{{client: "buf curl", protocol: "all", http: "all", rpc: "all"}}}
	}
	var cells []cell
	call := func(protocol, http, rpc, method, data string, want []string, why string) cell {
		args := []string{"curl", "--schema", "proto", "--protocol", protocol, "--data", data}
		if http == "2" {
			args = append(args, "--http2-prior-knowledge")
		}
		args = append(args, e.url+"/"+service+"/"+method)
		return cell{client: "buf curl", protocol: protocol, http: map[string]string{"1.1": "1.1", "2": "2 (h2c)"}[http], rpc: rpc,
			want: want, why: why, parse: jsonMessages,
			run: func(ctx context.Context) (string, error) { return e.output(ctx, nil, buf, args...) }}
	}
	for _, protocol := range []string{"connect", "grpcweb", "grpc"} {
		for _, http := range []string{"1.1", "2"} {
			if protocol == "grpc" && http == "1.1" {
				continue // buf curl itself uses HTTP/2 for gRPC
			}
			cells = append(cells,
				call(protocol, http, "unary", "SayHello", `{"name":"eric"}`, wantUnary, ""),
				call(protocol, http, "server stream", "LotsOfReplies", `{"name":"eric"}`, wantServer, ""))
			if http == "2" {
				cells = append(cells,
					call(protocol, http, "client stream", "LotsOfGreetings", `{"name":"a"} {"name":"b"} {"name":"c"}`, wantClient, ""),
					call(protocol, http, "bidi", "BidiHello", `{"name":"a"} {"name":"b"}`, wantBidi, ""))
			}
		}
	}
	return group{cells: cells}
}

func (e *env) curlCells() group {
	curl, err := e.tool("curl")
	if err != nil {
		return group{missing: err, cells: []cell{{client: "curl", protocol: "all", http: "all", rpc: "all"}}}
	}
	body := filepath.Join(e.tmp, "eric.bin")
	_ = os.WriteFile(body, frame("eric"), 0o644)
	jsonBody := filepath.Join(e.tmp, "a.json.bin")
	_ = os.WriteFile(jsonBody, append([]byte{0, 0, 0, 0, 12}, `{"name":"a"}`...), 0o644)
	sayHello := e.url + "/" + service + "/SayHello"
	run := func(args ...string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			return e.output(ctx, nil, curl, append([]string{"-sS", "--fail-with-body", "--max-time", "10"}, args...)...)
		}
	}
	statusOnly := func(args ...string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			out, err := run(append([]string{"-o", "/dev/null", "-w", "%{http_code}"}, args...)...)(ctx)
			if err == nil {
				return out, nil
			}
			return out, errors.New("HTTP " + out + " (" + err.Error() + ")")
		}
	}
	return group{cells: []cell{
		{client: "curl", protocol: "connect (JSON POST)", http: "1.1", rpc: "unary", want: wantUnary, parse: jsonMessages,
			run: run("-H", "Content-Type: application/json", "-d", `{"name":"eric"}`, sayHello)},
		{client: "curl", protocol: "connect (JSON POST)", http: "2 (h2c)", rpc: "unary", want: wantUnary, parse: jsonMessages,
			run: run("--http2-prior-knowledge", "-H", "Content-Type: application/json", "-d", `{"name":"eric"}`, sayHello)},
		{client: "curl", protocol: "connect (GET)", http: "1.1", rpc: "unary", want: wantUnary, parse: jsonMessages,
			run: run(sayHello + "?encoding=json&message=%7B%22name%22%3A%22eric%22%7D")},
		{client: "curl", protocol: "grpcweb (hand-framed)", http: "1.1", rpc: "unary", want: wantUnary, parse: frames,
			run: run("-H", "Content-Type: application/grpc-web+proto", "--data-binary", "@"+body, sayHello)},
		{client: "curl", protocol: "grpcweb-text (hand-encoded)", http: "1.1", rpc: "unary", want: wantUnary, parse: textFrames,
			run: run("-H", "Content-Type: application/grpc-web-text", "-H", "Accept: application/grpc-web-text",
				"--data", base64.StdEncoding.EncodeToString(frame("eric")), sayHello)},
		{client: "curl", protocol: "grpc (hand-framed)", http: "2 (h2c)", rpc: "unary", want: wantUnary, parse: frames,
			run: run("--http2-prior-knowledge", "-H", "Content-Type: application/grpc", "-H", "TE: trailers", "--data-binary", "@"+body, sayHello)},
		{client: "curl", protocol: "grpc (hand-framed)", http: "1.1", rpc: "unary", why: "gRPC needs HTTP/2",
			run: statusOnly("-H", "Content-Type: application/grpc", "--data-binary", "@"+body, sayHello)},
		{client: "curl", protocol: "REST (GET /v1/hello/{name})", http: "1.1", rpc: "unary", want: wantUnary, parse: jsonMessages,
			run: run(e.url + "/v1/hello/eric")},
		{client: "curl", protocol: "REST (POST /v1/hello)", http: "2 (h2c)", rpc: "unary", want: wantUnary, parse: jsonMessages,
			run: run("--http2-prior-knowledge", "-H", "Content-Type: application/json", "-d", `{"name":"eric"}`, e.url+"/v1/hello")},
		{client: "curl", protocol: "REST (NDJSON)", http: "1.1", rpc: "server stream", want: wantServer, parse: jsonMessages,
			run: run("-N", e.url+"/v1/hello/eric/replies")},
		{client: "curl", protocol: "REST (server-sent events)", http: "2 (h2c)", rpc: "server stream", want: wantServer, parse: jsonMessages,
			run: run("-N", "--http2-prior-knowledge", "-H", "Accept: text/event-stream", e.url+"/v1/hello/eric/replies")},
		{client: "curl", protocol: "connect (hand-framed)", http: "1.1", rpc: "bidi", why: "bidirectional streams need HTTP/2",
			run: statusOnly("-H", "Content-Type: application/connect+json", "--data-binary", "@"+jsonBody, e.url+"/"+service+"/BidiHello")},
	}}
}
