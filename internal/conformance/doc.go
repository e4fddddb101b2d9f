// Package conformance puts hellorpc's server through the Connect
// conformance suite (connectrpc.com/conformance, its connectconformance
// runner in server mode): it implements the suite's ConformanceService and
// serves it as the suite asks, through server.New with the product's
// defaults, the service mounted with Config.Services, so that every call
// passes the product's own middleware, limits and interceptors.
//
// The suite's schemas are copied in proto/ from connectrpc.com/conformance
// v1.0.7 (Apache 2.0, proto/LICENSE), and their Go generated in gen/ by
// buf.gen.yaml; the suite's own generated code is internal to its module.
// The test (conformance_test.go) runs connectconformance, which starts the
// test binary itself as the server under test.
package conformance
