package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

const sayHello = "/rpc_package.HelloWorldService/SayHello"

func allScenarios(cfg config) []scenario {
	return []scenario{
		{name: "gRPC h2load 1 conn × 1 stream", run: h2load(1, 1)},
		{name: "gRPC h2load 1 conn × 50 streams", run: h2load(1, 50)},
		{name: "gRPC h2load 4 conns × 12 streams", run: h2load(4, 12)},
		{name: "gRPC ghz 50 concurrent, 4 conns", run: ghz(cfg.proto)},
		{name: "Connect JSON HTTP/1.1 wrk c50", json: true, run: wrk(false, false)},
		{name: "Connect JSON HTTP/1.1 wrk c50, gzip accepted", json: true, run: wrk(false, true)},
		{name: "Connect proto HTTP/1.1 wrk c50", json: true, run: wrk(true, false)},
	}
}

// load runs a load generator pinned to CPU 1, bounded by ctx and a timeout.
func load(ctx context.Context, d time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "taskset", append([]string{"-c", "1", name}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %v\n%s", name, err, out)
	}
	return string(out), nil
}

var (
	h2loadRPS  = regexp.MustCompile(`finished in [\d.]+\w+, ([\d.]+) req/s`)
	h2loadReqs = regexp.MustCompile(`requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded`)
)

// h2load drives gRPC over h2c with a pre-framed body.
func h2load(conns, streams int) func(context.Context, *target, time.Duration, string) (result, error) {
	return func(ctx context.Context, t *target, d time.Duration, tmp string) (result, error) {
		logFile := filepath.Join(tmp, "h2load.log")
		common := []string{"-c", fmt.Sprint(conns), "-m", fmt.Sprint(streams), "-t", "1",
			"-d", filepath.Join(tmp, "eric.bin"), "-H", "content-type: application/grpc", "-H", "te: trailers"}
		// Warm up outside the measurement, so that server CPU counts only measured requests.
		if _, err := load(ctx, d, "h2load", append(append([]string{"-n", "2000"}, common...), "http://"+t.addr+sayHello)...); err != nil {
			return result{}, err
		}
		_ = os.Remove(logFile) // h2load appends to its log file
		return measure(t, func() (result, error) {
			out, err := load(ctx, d, "h2load", "-D", fmt.Sprint(int(d.Seconds())),
				"-c", fmt.Sprint(conns), "-m", fmt.Sprint(streams), "-t", "1",
				"-d", filepath.Join(tmp, "eric.bin"), "-H", "content-type: application/grpc", "-H", "te: trailers",
				"--log-file", logFile, "http://"+t.addr+sayHello)
			if err != nil {
				return result{}, err
			}
			m, n := h2loadRPS.FindStringSubmatch(out), h2loadReqs.FindStringSubmatch(out)
			if m == nil || n == nil {
				return result{}, fmt.Errorf("cannot read h2load's output:\n%s", out)
			}
			if n[1] != n[2] {
				return result{}, fmt.Errorf("h2load: %s done but %s succeeded", n[1], n[2])
			}
			r := result{}
			r.rps, _ = strconv.ParseFloat(m[1], 64)
			r.requests, _ = strconv.ParseFloat(n[1], 64)
			r.p50, r.p99, err = h2loadPercentiles(logFile)
			return r, err
		})
	}
}

// h2loadPercentiles reads h2load's per-request log (start, status, µs).
func h2loadPercentiles(path string) (p50, p99 float64, err error) {
	ls, err := lines(path)
	if err != nil {
		return 0, 0, err
	}
	var us []float64
	for _, l := range ls {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		v, err := strconv.ParseFloat(f[2], 64)
		if err == nil {
			us = append(us, v)
		}
	}
	if len(us) == 0 {
		return 0, 0, fmt.Errorf("h2load logged no requests")
	}
	slices.Sort(us)
	at := func(q float64) float64 { return us[min(len(us)-1, int(q*float64(len(us))))] / 1000 }
	return at(0.50), at(0.99), nil
}

// ghz drives gRPC with 50 concurrent calls over 4 connections.
func ghz(proto string) func(context.Context, *target, time.Duration, string) (result, error) {
	return func(ctx context.Context, t *target, d time.Duration, tmp string) (result, error) {
		return measure(t, func() (result, error) {
			// The proto's imports (buf/validate, google/api) are under proto/,
			// two levels up from proto/rpc_package/helloworld.proto.
			imports := filepath.Dir(proto) + "," + filepath.Dir(filepath.Dir(proto))
			out, err := load(ctx, d, "ghz", "--insecure", "--proto", proto, "--import-paths", imports,
				"--call", "rpc_package.HelloWorldService.SayHello", "-d", `{"name":"eric"}`,
				"-c", "50", "--connections", "4", "-z", d.String(), "--format", "json", t.addr)
			if err != nil {
				return result{}, err
			}
			var report struct {
				Count               float64
				RPS                 float64
				LatencyDistribution []struct {
					Percentage int
					Latency    float64 // nanoseconds
				}
				StatusCodeDistribution map[string]int
			}
			if err := json.Unmarshal([]byte(out[strings.IndexByte(out, '{'):]), &report); err != nil {
				return result{}, fmt.Errorf("cannot read ghz's report: %w", err)
			}
			// When -z ends, ghz cancels the calls in flight (at most the 50
			// concurrent ones, reported as Unavailable or Canceled); any other
			// failure is an error.
			cut := 0
			for status, n := range report.StatusCodeDistribution {
				switch status {
				case "OK":
				case "Unavailable", "Canceled":
					cut += n
				default:
					return result{}, fmt.Errorf("ghz: status codes %v", report.StatusCodeDistribution)
				}
			}
			if cut > 100 || report.StatusCodeDistribution["OK"] == 0 {
				return result{}, fmt.Errorf("ghz: status codes %v", report.StatusCodeDistribution)
			}
			r := result{rps: report.RPS * (report.Count - float64(cut)) / report.Count, requests: report.Count - float64(cut)}
			for _, l := range report.LatencyDistribution {
				switch l.Percentage {
				case 50:
					r.p50 = l.Latency / 1e6
				case 99:
					r.p99 = l.Latency / 1e6
				}
			}
			return r, nil
		})
	}
}

var (
	wrkRPS      = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkRequests = regexp.MustCompile(`(\d+) requests in`)
	wrkErrors   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)|Socket errors`)
	wrkLatency  = regexp.MustCompile(`\s(50|99)%\s+([\d.]+)(us|ms|s)`)
)

// wrk drives Connect unary calls over HTTP/1.1 with 50 connections, in JSON
// or in the binary proto encoding (the ceiling answers both with its fixed
// body).
func wrk(proto, gzip bool) func(context.Context, *target, time.Duration, string) (result, error) {
	return func(ctx context.Context, t *target, d time.Duration, tmp string) (result, error) {
		script := filepath.Join(tmp, fmt.Sprintf("post-%v-%v.lua", proto, gzip))
		lua := `wrk.method = "POST"
wrk.body = '{"name":"eric"}'
wrk.headers["Content-Type"] = "application/json"
`
		if proto {
			lua = `wrk.method = "POST"
wrk.body = "\10\4eric"
wrk.headers["Content-Type"] = "application/proto"
`
		}
		if gzip {
			lua += `wrk.headers["Accept-Encoding"] = "gzip"` + "\n"
		}
		if err := os.WriteFile(script, []byte(lua), 0o644); err != nil {
			return result{}, err
		}
		return measure(t, func() (result, error) {
			out, err := load(ctx, d, "wrk", "-t1", "-c50", "-d", d.String(), "--latency", "-s", script, "http://"+t.addr+sayHello)
			if err != nil {
				return result{}, err
			}
			m, n := wrkRPS.FindStringSubmatch(out), wrkRequests.FindStringSubmatch(out)
			if m == nil || n == nil {
				return result{}, fmt.Errorf("cannot read wrk's output:\n%s", out)
			}
			if wrkErrors.MatchString(out) {
				return result{}, fmt.Errorf("wrk saw errors:\n%s", out)
			}
			r := result{}
			r.rps, _ = strconv.ParseFloat(m[1], 64)
			r.requests, _ = strconv.ParseFloat(n[1], 64)
			for _, l := range wrkLatency.FindAllStringSubmatch(out, -1) {
				v, _ := strconv.ParseFloat(l[2], 64)
				v *= map[string]float64{"us": 1e-3, "ms": 1, "s": 1e3}[l[3]]
				if l[1] == "50" {
					r.p50 = v
				} else {
					r.p99 = v
				}
			}
			return r, nil
		})
	}
}
