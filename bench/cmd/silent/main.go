// Command silent measures what silent calls cost hello-server (issue #23,
// finding 2): it opens -conns h2c connections and on each up to -streams
// streams, within the server's SETTINGS_MAX_CONCURRENT_STREAMS, that send
// their HEADERS and never a byte of body, and holds them for -hold. The
// kinds:
//
//	unary          Connect JSON SayHello, content-length: 15, no DATA
//	client-stream  Connect JSON LotsOfGreetings (client streaming), no message
//
// While it holds them it samples every -every the streams the server has
// not ended (answered or reset), the server's goroutines (-debug-addr's
// /debug/vars) and RSS (/proc/-pid/status VmRSS), and makes a normal
// Connect JSON SayHello on a fresh connection every -every (-call-timeout
// each). It prints a Markdown table of one row: streams opened and held at
// the peak, how and when the server ended them, goroutines and RSS before
// and at the peak, the normal calls answered OK, their p50 and slowest, and
// the refused ones. -conns 20 -streams 32 is the many-connections attack,
// which spreads the streams over connections to pass a per-connection
// share. Loopback only; the run lasts -hold.
//
//	silent [-addr 127.0.0.1:50080] [-debug-addr 127.0.0.1:50081] [-pid PID] [-kind unary] [-conns 3] [-streams 200] [-hold 8s]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "silent:", err)
		os.Exit(1)
	}
}

// options are silent's flags.
type options struct {
	addr, debugAddr   string
	pid               int
	kind              string
	conns, streams    int
	hold, every, wait time.Duration
	callTimeout       time.Duration
	label             string
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("silent", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:50080", "the server's loopback host:port")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "the server's -debug-addr, to read its goroutines (default none: not read)")
	fs.IntVar(&o.pid, "pid", 0, "the server's process id, to read its RSS (default 0: not read)")
	fs.StringVar(&o.kind, "kind", "unary", "the silent streams: unary or client-stream")
	fs.IntVar(&o.conns, "conns", 3, "connections that hold silent streams")
	fs.IntVar(&o.streams, "streams", 200, "silent streams to open on each connection, at most the server's SETTINGS_MAX_CONCURRENT_STREAMS")
	fs.DurationVar(&o.hold, "hold", 8*time.Second, "how long the streams are held (the run lasts as long)")
	fs.DurationVar(&o.every, "every", 200*time.Millisecond, "interval of the samples and of the normal calls")
	fs.DurationVar(&o.callTimeout, "call-timeout", 2*time.Second, "each normal call's timeout")
	fs.DurationVar(&o.wait, "wait", 10*time.Second, "how long to wait for a connection and the server's SETTINGS")
	fs.StringVar(&o.label, "label", "-", "the first column (say, the build)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if err := loopback("-addr", o.addr); err != nil {
		return o, err
	}
	if o.debugAddr != "" {
		if err := loopback("-debug-addr", o.debugAddr); err != nil {
			return o, err
		}
	}
	if _, known := kinds[o.kind]; !known {
		return o, fmt.Errorf("-kind %q: unary or client-stream", o.kind)
	}
	if o.conns < 1 || o.streams < 1 || o.hold <= 0 || o.every <= 0 || o.callTimeout <= 0 || o.wait <= 0 {
		return o, fmt.Errorf("-conns %d, -streams %d, -hold %v, -every %v, -call-timeout %v, -wait %v: each must be positive",
			o.conns, o.streams, o.hold, o.every, o.callTimeout, o.wait)
	}
	if o.conns > 1000 || o.streams > 10000 {
		return o, fmt.Errorf("-conns %d, -streams %d: at most 1000 connections and 10000 streams each", o.conns, o.streams)
	}
	return o, nil
}

// loopback checks that addr is a loopback host:port.
func loopback(flagName, addr string) error {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("%s %q: give a loopback host:port", flagName, addr)
	}
	return nil
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	r, err := measureRun(o)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, header)
	fmt.Fprintln(out, r.row())
	return nil
}

// measureRun holds the streams for o.hold and measures.
func measureRun(o options) (result, error) {
	debugURL := ""
	if o.debugAddr != "" {
		debugURL = "http://" + o.debugAddr + "/debug/vars"
	}
	r := result{label: o.label, variant: variant(o), hold: o.hold}
	r.before = measure(&http.Client{Timeout: 2 * time.Second}, debugURL, o.pid)
	var holders []*holder
	defer func() {
		for _, h := range holders {
			h.close()
		}
	}()
	k := kinds[o.kind]
	for range o.conns {
		h, err := hold(o.addr, k, o.streams, o.wait)
		if err != nil {
			return r, err
		}
		holders = append(holders, h)
	}
	start := slices.MinFunc(holders, func(a, b *holder) int { return a.start.Compare(b.start) }).start
	held := func() int {
		n := 0
		for _, h := range holders {
			n += h.held()
		}
		return n
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { r.peak = sample(held, debugURL, o.pid, o.every, stop) })
	wg.Go(func() { r.calls = callEvery("http://"+o.addr, start, o.every, o.callTimeout, stop) })
	time.Sleep(time.Until(start.Add(o.hold)))
	close(stop)
	wg.Wait()
	for _, h := range holders {
		r.opened += h.opened
		for _, e := range h.close() {
			e.at += h.start.Sub(start)
			if e.at <= o.hold {
				r.endings = append(r.endings, e)
			}
		}
	}
	holders = nil
	return r, nil
}

// variant names the run: kind, connections × streams.
func variant(o options) string {
	return fmt.Sprintf("%s, %d conns × %d streams", o.kind, o.conns, o.streams)
}
