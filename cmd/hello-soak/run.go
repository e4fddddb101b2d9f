package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hello-soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "http://127.0.0.1:50000", "server `URL`")
	debug := fs.String("debug", "http://127.0.0.1:50001", "the server's -debug-addr `URL`")
	duration := fs.Duration("duration", 60*time.Second, "how long to load the server")
	concurrency := fs.Int("concurrency", 16, "concurrent workers")
	maxCalls := fs.Int64("max-calls", 10_000_000, "stop after this many calls in all")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *duration <= 0 || *concurrency <= 0 || *maxCalls <= 0 {
		return errors.New("-duration, -concurrency and -max-calls must be positive")
	}

	before, err := serverStats(ctx, *debug)
	if err != nil {
		return err
	}
	h1 := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *concurrency}}
	h2cProtocols := new(http.Protocols)
	h2cProtocols.SetUnencryptedHTTP2(true)
	h2c := &http.Client{Transport: &http.Transport{Protocols: h2cProtocols}}
	calls := []func(context.Context) error{
		unary(rpc_packageconnect.NewHelloWorldServiceClient(h2c, *addr, connect.WithGRPC()), "eric"),
		unary(rpc_packageconnect.NewHelloWorldServiceClient(h1, *addr, connect.WithProtoJSON()), "eric"),
		unary(rpc_packageconnect.NewHelloWorldServiceClient(h2c, *addr), "eric"),
		unary(rpc_packageconnect.NewHelloWorldServiceClient(h1, *addr, connect.WithGRPCWeb()), "eric"),
		invalid(rpc_packageconnect.NewHelloWorldServiceClient(h1, *addr, connect.WithProtoJSON())),
		replies(rpc_packageconnect.NewHelloWorldServiceClient(h2c, *addr, connect.WithGRPC())),
		greetings(rpc_packageconnect.NewHelloWorldServiceClient(h2c, *addr)),
		bidi(rpc_packageconnect.NewHelloWorldServiceClient(h2c, *addr, connect.WithGRPCWeb())),
	}

	loadCtx, cancel := context.WithTimeout(ctx, *duration)
	defer cancel()
	var done, failed atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *concurrency {
		wg.Go(func() {
			for i := w; loadCtx.Err() == nil && done.Load() < *maxCalls; i++ {
				callCtx, cancelCall := context.WithTimeout(loadCtx, 10*time.Second)
				err := calls[i%len(calls)](callCtx)
				cancelCall()
				if loadCtx.Err() != nil {
					return // the load ended mid-call: not counted
				}
				done.Add(1)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { fmt.Fprintln(stderr, "first error:", err) })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	h1.CloseIdleConnections()
	h2c.CloseIdleConnections()
	time.Sleep(time.Second) // let the server retire the connections
	after, err := serverStats(ctx, *debug)
	if err != nil {
		return err
	}

	fmt.Fprintf(stdout, "| duration | workers | calls | errors | calls/s | goroutines before → after | heap before → after |\n")
	fmt.Fprintf(stdout, "|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(stdout, "| %s | %d | %d | %d | %.0f | %d → %d | %.1f MiB → %.1f MiB |\n",
		elapsed.Round(time.Second), *concurrency, done.Load(), failed.Load(), float64(done.Load())/elapsed.Seconds(),
		before.Goroutines, after.Goroutines, mib(before.Memstats.HeapAlloc), mib(after.Memstats.HeapAlloc))
	if failed.Load() > 0 {
		return fmt.Errorf("%d of %d calls failed", failed.Load(), done.Load())
	}
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// stats is what hello-soak reads from the server's /debug/vars.
type stats struct {
	Goroutines int
	Memstats   struct{ HeapAlloc uint64 }
}

// serverStats collects garbage on the server, then reads its statistics.
func serverStats(ctx context.Context, debug string) (stats, error) {
	var s stats
	for _, path := range []string{"/debug/pprof/heap?gc=1", "/debug/vars"} {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, debug+path, nil)
		if err != nil {
			return s, err
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return s, fmt.Errorf("read the server's statistics (is hello-server running with -debug-addr?): %w", err)
		}
		if path == "/debug/vars" {
			err = json.NewDecoder(res.Body).Decode(&s)
		} else {
			_, err = io.Copy(io.Discard, res.Body)
		}
		res.Body.Close()
		if err != nil {
			return s, fmt.Errorf("read %s%s: %w", debug, path, err)
		}
	}
	return s, nil
}
