// Command calls makes a fixed number of Connect unary calls of SayHello
// (JSON or proto, over HTTP/1.1 keep-alive connections) and exits non-zero
// on the first call that fails: the load of bench/instructions, which counts
// the instructions a server spends on them.
//
//	calls [-url http://127.0.0.1:50094] [-n 4000] [-c 8] [-proto] [-wait 60s]
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
	c := flag.Int("c", 8, "connections, each making n/c calls one after another")
	proto := flag.Bool("proto", false, "Connect proto instead of Connect JSON")
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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *c}, Timeout: time.Minute}
	target := u.JoinPath("/rpc_package.HelloWorldService/SayHello").String()
	errs := make(chan error, *c)
	var wg sync.WaitGroup
	for range *c {
		wg.Go(func() {
			for range *n / *c {
				res, err := client.Post(target, contentType, bytes.NewReader(body))
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("POST %s: %s", target, res.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
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
