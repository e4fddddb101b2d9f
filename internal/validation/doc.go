// Package validation enforces the rules that hellorpc's proto declares with
// buf.validate annotations, on every request message of its RPCs, and
// answers a broken rule in hellorpc's wire contract.
//
// The rules live in proto/rpc_package/helloworld.proto (for HelloRequest.name:
// not empty, at most 100 code points, each with the message a caller reads).
// [New] returns a connect interceptor that checks each request message of the
// types it is given (the calls of other services pass untouched) with
// connectrpc.com/validate and buf.build/go/protovalidate: unary requests
// before the handler runs, and each message of a client stream as the
// handler receives it. A violation is answered with code invalid_argument,
// the message "invalid <field>: <rule's message>" ("invalid name: message 3:
// name must not be empty" for the third message of a client stream), a
// google.rpc.BadRequest detail with one field violation per broken rule and
// the buf.validate.Violations detail of protovalidate. The page applies the
// same rules, from the same annotations, with @bufbuild/protovalidate.
package validation
