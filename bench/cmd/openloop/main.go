// Command openloop measures goodput under overload: calls that arrive at a
// fixed rate, whatever becomes of the calls before them (open loop), each
// with a deadline (100 ms by default, sent as Connect-Timeout-Ms or
// grpc-timeout), over h2c, in Connect JSON and gRPC. Goodput is the calls
// answered OK within their deadline, a second.
//
// For each protocol it first measures the server's capacity, the most OK
// calls a second it answers with -capacity-calls in flight (closed loop),
// then offers each of -multipliers times that capacity for -step, and prints
// a Markdown table: goodput and its ratio to capacity, the calls shed,
// failed for their deadline (by the server, or cancelled by the client with
// no answer), the p50 and p99 of the OK calls (counted from when each call
// was due, so waiting for a stream counts), the server's peak RSS (-pid)
// and the slowest health check (GET -health every 100 ms on a connection of
// its own). Loopback only.
//
//	openloop [-addr 127.0.0.1:50090] [-pid PID] [-protocols connect,grpc] [-multipliers 1,2,4,8]
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "openloop:", err)
		os.Exit(1)
	}
}

// options are openloop's flags.
type options struct {
	addr, health    string
	pid             int
	protocols       []string
	multipliers     []float64
	conns, capCalls int
	step, deadline  time.Duration
	pause           time.Duration
	poisson, fifo   bool
	label           string
}

func parseFlags() (options, error) {
	var o options
	var protos, mults string
	flag.StringVar(&o.addr, "addr", "127.0.0.1:50090", "the server's loopback host:port")
	flag.StringVar(&o.health, "health", "", "the health check's URL (default http://ADDR/healthz)")
	flag.IntVar(&o.pid, "pid", 0, "the server's process id, to read its RSS (default 0: not read)")
	flag.StringVar(&protos, "protocols", "connect,grpc", "the protocols to measure, in order: connect (Connect JSON) and grpc")
	flag.StringVar(&mults, "multipliers", "1,2,4,8", "the loads to offer, in multiples of the measured capacity")
	flag.IntVar(&o.conns, "conns", 8, "h2c connections the calls are spread over")
	flag.IntVar(&o.capCalls, "capacity-calls", 64, "calls kept in flight to measure the capacity")
	flag.DurationVar(&o.step, "step", 5*time.Second, "how long each load is offered (and the capacity measured)")
	flag.DurationVar(&o.deadline, "deadline", 100*time.Millisecond, "every call's deadline")
	flag.DurationVar(&o.pause, "pause", time.Second, "the pause between steps, for the server to settle")
	flag.BoolVar(&o.fifo, "fifo", false, "calls waiting for a stream (the server's SETTINGS_MAX_CONCURRENT_STREAMS) take one in order of arrival (default false: in random order, as grpc-go's)")
	flag.BoolVar(&o.poisson, "poisson", true, "Poisson arrivals (false: evenly spaced)")
	flag.StringVar(&o.label, "label", "", "a first column for every row (say, the build); default none")
	flag.Parse()
	if host, _, err := net.SplitHostPort(o.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return o, fmt.Errorf("-addr %q: give a loopback host:port", o.addr)
	}
	if o.health == "" {
		o.health = "http://" + o.addr + "/healthz"
	}
	for name := range strings.SplitSeq(protos, ",") {
		if _, known := protocols[name]; !known {
			return o, fmt.Errorf("-protocols: unknown protocol %q (connect, grpc)", name)
		}
		o.protocols = append(o.protocols, name)
	}
	for s := range strings.SplitSeq(mults, ",") {
		m, err := strconv.ParseFloat(s, 64)
		if err != nil || m <= 0 {
			return o, fmt.Errorf("-multipliers: %q is not a positive number", s)
		}
		o.multipliers = append(o.multipliers, m)
	}
	if o.conns < 1 || o.capCalls < 1 || o.step <= 0 || o.deadline <= 0 {
		return o, errors.New("-conns, -capacity-calls, -step and -deadline must be positive")
	}
	return o, nil
}

func run() error {
	o, err := parseFlags()
	if err != nil {
		return err
	}
	fmt.Println("| " + o.prefixHeader() + "protocol | load | offered/s | goodput/s | goodput / capacity | OK | shed | deadline_exceeded | cancelled by the client | other | OK p50 | OK p99 | peak RSS | slowest health check (≥ 1 s or failed) |")
	fmt.Println("|" + strings.Repeat("---|", 14+strings.Count(o.prefixHeader(), "|")))
	for _, name := range o.protocols {
		p := protocols[name]
		cl, err := newClient(o.addr, p, o.conns, o.fifo)
		if err != nil {
			return err
		}
		pr := startProbe(o.health, o.pid)
		t := closedLoop(cl, o.capCalls, o.step, o.deadline)
		pr.end()
		capacity := float64(t.count[ok]) / o.step.Seconds()
		o.row(p, "capacity (closed loop)", capacity, capacity, t, pr)
		if capacity == 0 {
			cl.close()
			return fmt.Errorf("%s: no call answered OK while measuring the capacity", p.name)
		}
		for _, m := range o.multipliers {
			time.Sleep(o.pause)
			pr := startProbe(o.health, o.pid)
			t := openLoop(cl, m*capacity, o.step, o.deadline, o.poisson)
			pr.end()
			o.row(p, strconv.FormatFloat(m, 'f', -1, 64)+"×", m*capacity, capacity, t, pr)
		}
		cl.close()
	}
	return nil
}

func (o options) prefixHeader() string {
	if o.label == "" {
		return ""
	}
	return "build | "
}

// row prints one step's line of the table.
func (o options) row(p protocol, load string, offered, capacity float64, t *tally, pr *probe) {
	goodput := float64(t.within) / o.step.Seconds()
	prefix := ""
	if o.label != "" {
		prefix = o.label + " | "
	}
	fmt.Printf("| %s%s | %s | %.0f | %.0f | %.2f | %d | %d | %d | %d | %d (%d GOAWAY, %d reset) | %s | %s | %s | %s (%d) |\n",
		prefix, p.name, load, offered, goodput, goodput/capacity,
		t.count[ok], t.count[shed], t.count[late], t.count[timedOut], t.count[failed], goAways.Swap(0), resets.Swap(0),
		ms(t.percentile(0.50)), ms(t.percentile(0.99)), mib(pr.peakRSS), ms(pr.slowest), pr.failures)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
