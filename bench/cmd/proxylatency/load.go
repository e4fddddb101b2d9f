package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// restPath is SayHello's REST form.
const restPath = "/v1/hello/eric"

// scenario is one way of calling SayHello: req makes a request against d.
type scenario struct {
	name string
	h2c  bool // the client speaks h2c; else HTTP/1.1 with keep-alive
	req  func(d *deployment) *http.Request
}

var scenarios = []scenario{
	{"REST GET via HAProxy, HTTP/1.1", false, func(d *deployment) *http.Request { return get(d.frontend + restPath) }},
	{"gRPC-Web via HAProxy, HTTP/1.1", false, func(d *deployment) *http.Request {
		return post(d.frontend+sayHello, "application/grpc-web+proto", "\x00\x00\x00\x00\x06\x0a\x04eric")
	}},
	{"Connect JSON via HAProxy, HTTP/1.1", false, func(d *deployment) *http.Request {
		return post(d.frontend+sayHello, "application/json", `{"name":"eric"}`)
	}},
	{"REST GET via HAProxy, h2c", true, func(d *deployment) *http.Request { return get(d.frontend + restPath) }},
	{"REST GET direct, h2c", true, func(d *deployment) *http.Request { return get(d.direct + restPath) }},
}

const sayHello = "/rpc_package.HelloWorldService/SayHello"

func get(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	return req
}

func post(url, contentType, body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	return req
}

// expect sends req with client and wants 200 with the greeting in the body.
func expect(client *http.Client, req *http.Request) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read the body: %w", req.Method, req.URL, err)
	}
	if res.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Hello, eric!")) {
		return fmt.Errorf("%s %s: HTTP status %d: %.100q", req.Method, req.URL, res.StatusCode, body)
	}
	return nil
}

// newClient returns a client of the scenario's HTTP version, keeping up to
// workers connections.
func newClient(h2c bool, workers int) *http.Client {
	t := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
	if h2c {
		t.Protocols = new(http.Protocols)
		t.Protocols.SetUnencryptedHTTP2(true)
	}
	return &http.Client{Transport: t}
}

// measure makes calls requests of s against d from workers callers after a
// warm-up of a tenth as many, and returns their latencies, sorted; it stops
// at the first failure.
func measure(ctx context.Context, s scenario, d *deployment, calls, workers int) ([]time.Duration, error) {
	client := newClient(s.h2c, workers)
	defer client.Transport.(*http.Transport).CloseIdleConnections()
	if _, err := loop(ctx, client, s, d, calls/10, workers); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	return loop(ctx, client, s, d, calls, workers)
}

func loop(ctx context.Context, client *http.Client, s scenario, d *deployment, calls, workers int) ([]time.Duration, error) {
	latencies := make([]time.Duration, calls)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= calls || failed.Load() != nil {
					return
				}
				callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
				start := time.Now()
				err := expect(client, s.req(d).WithContext(callCtx))
				latencies[i] = time.Since(start)
				cancel()
				if err != nil {
					failed.CompareAndSwap(nil, &err)
				}
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, *err)
	}
	slices.Sort(latencies)
	return latencies, nil
}
