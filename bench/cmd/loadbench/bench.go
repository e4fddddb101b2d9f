package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type config struct {
	hello, grpc, bare, connect, proto string
	rounds                            int
	duration                          time.Duration
	helloArgs, only                   string
}

// target is one server under test.
type target struct {
	name     string
	addr     string
	cmd      *exec.Cmd
	json     bool // serves Connect JSON
	jsonOnly bool // measured in the Connect JSON scenarios only
	quiet    bool // its stderr (the access log) goes to /dev/null
}

// result is one measurement.
type result struct {
	rps, p50, p99, cpuMicros float64 // p50 and p99 in milliseconds
	requests                 float64
}

// scenario is one kind of load.
type scenario struct {
	name string
	json bool // Connect JSON over HTTP/1.1 (not for grpc-go)
	run  func(ctx context.Context, t *target, d time.Duration, tmp string) (result, error)
}

func benchmark(ctx context.Context, cfg config) error {
	if cfg.duration == 0 {
		cfg.duration = 4 * time.Second
	}
	tmp, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, "eric.bin"), []byte("\x00\x00\x00\x00\x06\x0a\x04eric"), 0o644); err != nil {
		return err
	}
	helloArgs := append([]string{"-addr", "127.0.0.1:50092", "-metrics-addr", "127.0.0.1:0", "-log-level", "warn", "-access-log=false"}, strings.Fields(cfg.helloArgs)...)
	offArgs := append([]string{"-addr", "127.0.0.1:50093", "-metrics-addr", "127.0.0.1:0", "-log-level", "warn", "-access-log=false", "-write-coalescing=false"}, strings.Fields(cfg.helloArgs)...)
	// At defaults, access log on: its lines go to /dev/null, written as they would be to a file.
	loggedArgs := append([]string{"-addr", "127.0.0.1:50095", "-metrics-addr", "127.0.0.1:0"}, strings.Fields(cfg.helloArgs)...)
	targets := []*target{
		{name: "hello-server", addr: "127.0.0.1:50092", json: true, cmd: pinned(0, cfg.hello, helloArgs...)},
		{name: "hello-server, coalescing off", addr: "127.0.0.1:50093", json: true, cmd: pinned(0, cfg.hello, offArgs...)},
		{name: logged, addr: "127.0.0.1:50095", json: true, jsonOnly: true, quiet: true, cmd: pinned(0, cfg.hello, loggedArgs...)},
		{name: "grpc-go", addr: "127.0.0.1:50090", cmd: pinned(0, cfg.grpc, "-addr", "127.0.0.1:50090")},
		{name: "net/http ceiling", addr: "127.0.0.1:50091", json: true, cmd: helloGC(pinned(0, cfg.bare, "-addr", "127.0.0.1:50091"))},
	}
	if cfg.connect != "" {
		targets = append(targets, &target{name: "bare connect-go", addr: "127.0.0.1:50094", json: true,
			cmd: helloGC(pinned(0, cfg.connect, "-addr", "127.0.0.1:50094"))})
	}
	for _, t := range targets {
		if err := start(t); err != nil {
			return err
		}
		defer func() { _ = t.cmd.Process.Kill(); _ = t.cmd.Wait() }()
	}

	var scenarios []scenario
	for _, s := range allScenarios(cfg) {
		if strings.Contains(s.name, cfg.only) {
			scenarios = append(scenarios, s)
		}
	}
	// results[scenario][target] holds one result per round.
	results := make(map[string]map[string][]result)
	for round := 1; round <= cfg.rounds; round++ {
		for _, s := range scenarios {
			// Each round starts with another target, so that none is always
			// measured first (or right after the same peer) in a scenario.
			for i := range targets {
				t := targets[(i+round-1)%len(targets)]
				if s.json && !t.json || t.jsonOnly && !s.json {
					continue
				}
				r, err := s.run(ctx, t, cfg.duration, tmp)
				if err != nil {
					return fmt.Errorf("round %d, %s, %s: %w", round, s.name, t.name, err)
				}
				fmt.Fprintf(os.Stderr, "round %d  %-34s %-16s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  %6.1f µs CPU/req\n",
					round, s.name, t.name, r.rps, r.p50, r.p99, r.cpuMicros)
				if results[s.name] == nil {
					results[s.name] = make(map[string][]result)
				}
				results[s.name][t.name] = append(results[s.name][t.name], r)
			}
		}
	}
	printTable(scenarios, targets, results)
	return nil
}

// helloGC gives cmd, a peer on net/http, hello-server's garbage collector
// defaults (-gc-percent 400, -memory-limit 768MiB), so that the ratios to it
// measure code, not collector settings. grpc-go keeps Go's defaults.
func helloGC(cmd *exec.Cmd) *exec.Cmd {
	cmd.Env = append(os.Environ(), "GOGC=400", "GOMEMLIMIT=768MiB")
	return cmd
}

// pinned returns a command that runs on the given CPU only.
func pinned(cpu int, bin string, args ...string) *exec.Cmd {
	return exec.Command("taskset", append([]string{"-c", fmt.Sprint(cpu), bin}, args...)...)
}

func start(t *target) error {
	if !t.quiet {
		t.cmd.Stderr = os.Stderr
	}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", t.name, err)
	}
	for range 100 {
		if conn, err := net.Dial("tcp", t.addr); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s does not listen on %s", t.name, t.addr)
}

// cpuTicks returns the user+system CPU time of a process in clock ticks.
func cpuTicks(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	var utime, stime float64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return utime + stime, nil
}

// serverPID returns the PID of the server under taskset (taskset execs it).
func serverPID(t *target) int { return t.cmd.Process.Pid }

const ticksPerSecond = 100

// measure runs load and fills in the server CPU per request.
func measure(t *target, load func() (result, error)) (result, error) {
	before, err := cpuTicks(serverPID(t))
	if err != nil {
		return result{}, err
	}
	r, err := load()
	if err != nil {
		return r, err
	}
	after, err := cpuTicks(serverPID(t))
	if err != nil {
		return r, err
	}
	if r.requests > 0 {
		r.cpuMicros = (after - before) / ticksPerSecond * 1e6 / r.requests
	}
	return r, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// logged is the target of hello-server at defaults, its access log on.
const logged = "hello-server, access log on"

func printTable(scenarios []scenario, targets []*target, results map[string]map[string][]result) {
	fmt.Println("| scenario | server | req/s | p50 ms | p99 ms | server CPU µs/req |")
	fmt.Println("|---|---|---|---|---|---|")
	var ratios []string
	for _, s := range scenarios {
		for _, t := range targets {
			rs := results[s.name][t.name]
			if len(rs) == 0 {
				continue
			}
			pick := func(f func(result) float64) float64 {
				var xs []float64
				for _, r := range rs {
					xs = append(xs, f(r))
				}
				return median(xs)
			}
			fmt.Printf("| %s | %s | %.0f | %.2f | %.2f | %.1f |\n", s.name, t.name,
				pick(func(r result) float64 { return r.rps }), pick(func(r result) float64 { return r.p50 }),
				pick(func(r result) float64 { return r.p99 }), pick(func(r result) float64 { return r.cpuMicros }))
		}
		ratioOf := func(this, other string, f func(result) float64) string {
			a, b := results[s.name][this], results[s.name][other]
			if len(a) == 0 || len(b) == 0 {
				return "—"
			}
			var xs []float64
			for i := range min(len(a), len(b)) {
				xs = append(xs, f(a[i])/f(b[i]))
			}
			return fmt.Sprintf("%.2f×", median(xs))
		}
		ratio := func(other string, f func(result) float64) string { return ratioOf("hello-server", other, f) }
		rps := func(r result) float64 { return r.rps }
		p50 := func(r result) float64 { return r.p50 }
		p99 := func(r result) float64 { return r.p99 }
		off := "hello-server, coalescing off"
		ratios = append(ratios, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |", s.name,
			ratio("bare connect-go", rps), ratioOf(logged, "bare connect-go", rps), ratio("net/http ceiling", rps), ratio("net/http ceiling", p99), ratio("grpc-go", rps),
			ratio(off, rps), ratio(off, p50), ratio(off, p99)))
	}
	fmt.Println()
	fmt.Println("| scenario | hello / bare connect-go, req/s | hello, access log on / bare connect-go, req/s | hello / ceiling, req/s | hello / ceiling, p99 | hello / grpc-go, req/s | coalescing on / off, req/s | on / off, p50 | on / off, p99 |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, r := range ratios {
		fmt.Println(r)
	}
}

// lines returns the lines of a file.
func lines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out, sc.Err()
}
