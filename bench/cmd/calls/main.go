// Command calls makes a fixed number of unary calls of SayHello and exits
// non-zero on the first call that fails: the load of bench/instructions and
// bench/levers, which count the instructions a server spends on them. The
// calls are Connect JSON (the default) or Connect proto (-proto) over
// HTTP/1.1 keep-alive connections, or gRPC (-grpc) over one h2c connection,
// c calls in flight.
//
//	calls [-url http://127.0.0.1:50094] [-n 4000] [-c 8] [-proto | -grpc] [-wait 60s]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "calls:", err)
		os.Exit(1)
	}
}

func run() error {
	base := flag.String("url", "http://127.0.0.1:50094", "the server's base URL")
	n := flag.Int("n", 4000, "calls to make, in all")
	c := flag.Int("c", 8, "calls in flight (HTTP/1.1: connections), each making n/c calls one after another")
	proto := flag.Bool("proto", false, "Connect proto instead of Connect JSON")
	grpc := flag.Bool("grpc", false, "gRPC over one h2c connection instead of Connect over HTTP/1.1")
	wait := flag.Duration("wait", time.Minute, "how long to wait for the server to listen")
	flag.Parse()
	u, err := url.Parse(*base)
	if err != nil {
		return fmt.Errorf("-url %q: %w", *base, err)
	}
	if err := waitFor(u.Host, *wait); err != nil {
		return err
	}
	contentType, body := "application/json", []byte(`{"name":"eric"}`)
	if *proto {
		contentType, body = "application/proto", []byte("\x0a\x04eric")
	}
	transport := &http.Transport{MaxIdleConnsPerHost: *c}
	if *grpc {
		// A gRPC message: no compression, 4 bytes of length, HelloRequest{name: "eric"}.
		contentType, body = "application/grpc", []byte("\x00\x00\x00\x00\x06\x0a\x04eric")
		transport.Protocols = new(http.Protocols)
		transport.Protocols.SetUnencryptedHTTP2(true)
	}
	client := &http.Client{Transport: transport, Timeout: time.Minute}
	target := u.JoinPath("/rpc_package.HelloWorldService/SayHello").String()
	errs := make(chan error, *c)
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for range *n / *c {
				if err := call(client, target, contentType, body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// call makes one call and says why it failed, if it did.
func call(client *http.Client, target, contentType string, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	if contentType == "application/grpc" {
		req.Header.Set("Te", "trailers")
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if _, err := io.Copy(io.Discard, res.Body); err != nil {
		return fmt.Errorf("POST %s: reading the reply: %w", target, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s", target, res.Status)
	}
	if contentType == "application/grpc" && res.Trailer.Get("Grpc-Status") != "0" {
		return fmt.Errorf("POST %s: grpc-status %q: %s", target, res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message"))
	}
	return nil
}

// waitFor waits until addr accepts connections, for at most d.
func waitFor(addr string, d time.Duration) error {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			return conn.Close()
		}
	}
	return errors.New(addr + " does not listen after " + d.String())
}
