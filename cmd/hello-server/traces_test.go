package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/otlptest"
)

// TestRunRefusesBadOTELVariables checks that a trace setting the server
// does not understand stops it before it listens, with an error naming the
// variable and its value, whether or not export is on.
func TestRunRefusesBadOTELVariables(t *testing.T) {
	for name, value := range map[string]string{
		"OTEL_TRACES_EXPORTER":        "jaeger",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_TRACES_SAMPLER":         "sometimes",
		"OTEL_RESOURCE_ATTRIBUTES":    "team",
	} {
		getenv := func(n string) string {
			switch n {
			case name:
				return value
			case "OTEL_TRACES_EXPORTER":
				return "otlp" // so that the protocol is read
			}
			return ""
		}
		err := runRefused(t, getenv)
		err = assert.Error(t, err, "run with "+name+"="+value)
		assert.Contains(t, err.Error(), name+`="`+value+`"`, "error")
	}
}

// runRefused calls run with getenv and returns its error; if the server
// starts instead (it prints where it listens), it is stopped and the test
// fails.
func runRefused(t *testing.T, getenv func(string) string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-metrics-addr", "", "-drain-delay", "0"}, getenv, stdoutW, io.Discard)
		stdoutW.Close()
	}()
	line, _ := bufio.NewReader(stdoutR).ReadString('\n')
	if line != "" {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, stdoutR) }()
		<-done
		t.Fatalf("run started serving (%q) instead of refusing the environment", strings.TrimSpace(line))
	}
	return <-done
}

// TestRunExportsTracesOverOTLP starts hello-server with only the OTEL_*
// variables pointing at an OTLP receiver, over each protocol, makes a call
// with a sampled traceparent and one without, and stops the server at once:
// the traced call's server span reaches the receiver (flushed at shutdown,
// not left in the batcher), child of the client's span, under the default
// service name; the untraced call has none (the default sampler).
func TestRunExportsTracesOverOTLP(t *testing.T) {
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, protocol := range otlptest.Protocols {
		t.Run(protocol, func(t *testing.T) {
			r := otlptest.Start(t, protocol)
			env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": r.URL, "OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
			s := startRunEnv(t, func(name string) string { return env[name] }, io.Discard)
			sayHelloTraced(t, s.url, "00-"+traceID+"-"+parentID+"-01")
			sayHelloTraced(t, s.url, "")
			s.stop(t, time.Minute)
			spans := r.Spans()
			assert.Equal(t, len(spans), 1, "spans received (of one traced call and one untraced)")
			for i := range spans {
				spans[i].SpanID = "" // the server span's own
			}
			assert.Equal(t, spans[0], otlptest.Span{Name: "rpc_package.HelloWorldService/SayHello", TraceID: traceID, ParentID: parentID, Service: "hello-server"}, "span received")
		})
	}
}

// TestRunExitsWhenTheCollectorDoesNotAnswer points the exporter at a
// collector that accepts connections and never answers: after a traced
// call, run returns within a few traceFlushTimeouts (5 s) of its cancel:
// the last export gives up at traceFlushTimeout (unbounded, the batcher's
// own export timeout held the exit up for 30 s), and the log says the spans
// were not sent.
func TestRunExitsWhenTheCollectorDoesNotAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never read
		}
	}()
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String()}
	logs := &servertest.Buffer{}
	s := startRunEnv(t, func(name string) string { return env[name] }, logs)
	sayHelloTraced(t, s.url, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	s.stop(t, 4*traceFlushTimeout) // generous for a loaded machine, below the batcher's 30 s
	assert.Contains(t, logs.String(), `msg="trace export at shutdown"`, "the log")
}

// sayHelloTraced calls SayHello on the server at url over Connect JSON, with
// the W3C traceparent given ("" for none).
func sayHelloTraced(t *testing.T, url, traceparent string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/rpc_package.HelloWorldService/SayHello", strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "request")
	req.Header.Set("Content-Type", "application/json")
	if traceparent != "" {
		req.Header.Set("traceparent", traceparent)
	}
	res, err := http.DefaultClient.Do(req)
	assert.NoError(t, err, "SayHello")
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	assert.Equal(t, res.StatusCode, http.StatusOK, "SayHello's status")
}
