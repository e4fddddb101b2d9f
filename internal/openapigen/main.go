// Command openapigen is the protoc plugin that writes the OpenAPI document of
// the REST face (web/static/openapi.yaml): protoc-gen-connect-openapi's
// document, run as a library with the same options, amended with what that
// generator does not say and the server does:
//
//   - the length bounds of a string field written as buf.validate CEL rules
//     (minLength, maxLength; required when the empty string is refused), read
//     from the compiled descriptors; a rule it cannot express is an error;
//   - the error responses, each a google.rpc.Status in JSON;
//   - a server stream's real media types, newline-delimited JSON and
//     server-sent events, with the schema of one line or one event.
//
// buf.gen.yaml runs it with go run; see the README's regeneration section.
package main

import (
	"fmt"
	"io"
	"os"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/pluginpb"
)

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}

// run reads a CodeGeneratorRequest from in and writes the response to out;
// an error in generating goes in the response, as protoc expects.
func run(in io.Reader, out io.Writer) error {
	input, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("read the request: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(input, req); err != nil {
		return fmt.Errorf("decode the request: %w", err)
	}
	res, err := generate(req)
	if err != nil {
		res = &pluginpb.CodeGeneratorResponse{Error: proto.String(err.Error())}
	}
	output, err := proto.Marshal(res)
	if err != nil {
		return fmt.Errorf("encode the response: %w", err)
	}
	_, err = out.Write(output)
	return err
}
