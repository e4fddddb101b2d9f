// Package deploy_test runs hello-server the way deploy/ describes it: three
// instances behind Debian's HAProxy and nginx, with the configurations in
// this directory used verbatim, through rolling restarts, a crash and a
// frozen instance.
package deploy_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// drainDelay is the instances' -drain-delay: longer than the HAProxy
// configuration needs to see an instance leave (two checks 200 ms apart).
// HELLORPC_LB_DRAIN_DELAY overrides it, to measure what a drain without the
// delay loses ("0").
var drainDelay = func() string {
	if v := os.Getenv("HELLORPC_LB_DRAIN_DELAY"); v != "" {
		return v
	}
	return "1s"
}()

// balancer is one load balancer and the ports of deploy/'s configuration.
type balancer struct {
	name      string
	backends  []int  // the instances' ports
	grpcURL   string // where gRPC (h2c) goes in
	http1URL  string // where HTTP/1.1 (Connect, gRPC-Web, REST) goes in
	leaves    bool   // it takes a draining instance out by its health check
	command   func(t *testing.T, dir string) *exec.Cmd
	installed func() error
	// rotate, when set, takes instance i (0-based) out of rotation (in false)
	// or puts it back (in true) before a restart and after it.
	rotate func(t *testing.T, dir string, i int, in bool)
	// left returns what the balancer logs when it stops sending calls to
	// instance i: every string of one line.
	left func(i int) []string
	// attempt reads the balancer's log line for one call (test copies log
	// one, with the call's X-Call-Id): the port of the last instance it was
	// sent to, and whether it reached that instance (was sent, not refused).
	attempt func(line string) (port int, reached bool)
	// retried reads the balancer's log line for one call: whether the
	// balancer sent it to more than one instance.
	retried func(line string) bool
	// unresent is what the balancer logs for a call that an instance
	// refused unprocessed (a GOAWAY that did not cover it) and that the
	// balancer does not send again; "": it always sends such calls again.
	unresent string
	// greetingTimeout is how long the configuration lets an instance take
	// to answer a greeting before the balancer gives up on it.
	greetingTimeout time.Duration
}

var balancers = []balancer{
	{
		name: "haproxy", backends: []int{50011, 50012, 50013},
		grpcURL: "http://127.0.0.1:50100", http1URL: "http://127.0.0.1:50100", leaves: true,
		command: func(t *testing.T, dir string) *exec.Cmd {
			testCopy(t, dir, "haproxy.cfg",
				edit{"log stderr format short local0 warning", "log stderr format raw local0 info"},
				edit{"bind 127.0.0.1:50100", "bind 127.0.0.1:50100\n" +
					"http-request capture req.hdr(x-call-id) len 64\n" +
					`log-format "call=%[capture.req.hdr(0)] server=%s status=%ST term=%ts retries=%rc"`})
			return exec.Command("haproxy", "-db", "-f", filepath.Join(dir, "haproxy.cfg"))
		},
		installed: func() error { _, err := exec.LookPath("haproxy"); return err },
		left:      func(i int) []string { return []string{fmt.Sprintf("Server hello/hello%d is DOWN", i+1)} },
		// server=hello2 status=504 term=sH retries=0: the termination
		// state's second letter says where the call was when it ended
		// (C: connecting, H: waiting for the reply's headers, D: in its body).
		attempt: func(line string) (int, bool) {
			server, term := field(line, "server="), field(line, "term=")
			n, err := strconv.Atoi(strings.TrimPrefix(server, "hello"))
			if err != nil || n < 1 || n > 3 || len(term) != 2 {
				return 0, false
			}
			return 50010 + n, strings.ContainsRune("HD", rune(term[1]))
		},
		retried:         func(line string) bool { return field(line, "retries=") != "0" },
		greetingTimeout: time.Second,
	},
	{
		name: "nginx", backends: []int{50021, 50022, 50023},
		grpcURL: "http://127.0.0.1:50200", http1URL: "http://127.0.0.1:50201",
		command: func(t *testing.T, dir string) *exec.Cmd {
			testCopy(t, dir, "nginx.conf", edit{"access_log off;",
				"log_format calls 'call=$http_x_call_id upstreams=$upstream_addr connect=$upstream_connect_time';\n" +
					"access_log /dev/stderr calls;"})
			testCopy(t, dir, "nginx-rotation.conf")
			return exec.Command(nginxPath(), nginxArgs(dir)...)
		},
		installed: func() error { _, err := os.Stat(nginxPath()); return err },
		rotate:    nginxRotation(),
		left: func(i int) []string {
			return []string{"upstream server temporarily disabled", fmt.Sprintf("127.0.0.1:%d", 50021+i)}
		},
		// upstreams=127.0.0.1:50022, 127.0.0.1:50023 connect=0.000, -: the
		// instances tried in turn, and how long each connection took to
		// make ("-": it was refused).
		attempt: func(line string) (int, bool) {
			_, tried, _ := strings.Cut(line, "upstreams=")
			upstreams, connect, _ := strings.Cut(tried, " connect=")
			last := func(list string) string { return list[strings.LastIndex(list, " ")+1:] }
			_, port, _ := strings.Cut(last(upstreams), ":")
			n, err := strconv.Atoi(port)
			return n, err == nil && last(connect) != "-"
		},
		retried: func(line string) bool { return strings.Contains(field(line, "upstreams="), ",") },
		// nginx does not resend a gRPC call it has sent ("TODO: we can
		// retry non-idempotent requests", ngx_http_grpc_module.c).
		unresent:        "upstream sent goaway with error",
		greetingTimeout: time.Second,
	},
}

// edit is what a test copy of a configuration changes: the line that reads
// line (indentation aside) becomes with (lines indented alike).
type edit struct{ line, with string }

// testCopy copies deploy/name into dir with edits, each of which must apply.
func testCopy(t *testing.T, dir, name string, edits ...edit) {
	t.Helper()
	b, err := os.ReadFile(name)
	assert.NoError(t, err, "read deploy/"+name)
	var out strings.Builder
	applied := 0
	for line := range strings.Lines(string(b)) {
		for _, e := range edits {
			if strings.TrimSpace(line) == e.line {
				indent := line[:strings.Index(line, e.line)]
				line = indent + strings.ReplaceAll(e.with, "\n", "\n"+indent) + "\n"
				applied++
			}
		}
		out.WriteString(line)
	}
	assert.Equal(t, applied, len(edits), "edits applied to the test copy of "+name)
	assert.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(out.String()), 0o644), "copy "+name)
}

// field returns the value of name (as "server=") in a log line: what
// follows it up to a space.
func field(line, name string) string {
	_, v, _ := strings.Cut(line, name)
	v, _, _ = strings.Cut(v, " ")
	return v
}

// nginxRotation is how a rolling restart takes an instance out of nginx's
// rotation: not at all (deploy/nginx.conf), or, with
// HELLORPC_LB_NGINX_RELOAD=1, by marking it down and reloading nginx
// before the restart (to measure what that costs: deploy/README.md).
func nginxRotation() func(t *testing.T, dir string, i int, in bool) {
	if os.Getenv("HELLORPC_LB_NGINX_RELOAD") == "1" {
		return reloadNginx
	}
	return nil
}

// reloadNginx marks instance i down in the rotation (in false) or up (in
// true), and reloads nginx.
func reloadNginx(t *testing.T, dir string, i int, in bool) {
	b, err := os.ReadFile(filepath.Join(dir, "nginx-rotation.conf"))
	assert.NoError(t, err, "read the rotation")
	port := fmt.Sprintf("127.0.0.1:%d ", 50021+i)
	var out strings.Builder
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "server "+port) {
			line = strings.Replace(line, " down;", ";", 1)
			if !in {
				line = strings.Replace(line, ";", " down;", 1)
			}
		}
		out.WriteString(line)
	}
	assert.NoError(t, os.WriteFile(filepath.Join(dir, "nginx-rotation.conf"), []byte(out.String()), 0o644), "write the rotation")
	reload, err := exec.Command(nginxPath(), append(nginxArgs(dir), "-s", "reload")...).CombinedOutput()
	assert.NoError(t, err, "nginx -s reload: "+string(reload))
	time.Sleep(300 * time.Millisecond) // the new workers take over; the old ones finish their calls
}

// nginxArgs runs nginx with its configuration copied into dir.
func nginxArgs(dir string) []string {
	return []string{"-p", dir + "/", "-c", filepath.Join(dir, "nginx.conf"),
		"-g", "pid nginx.pid; error_log stderr warn; daemon off;"}
}

// nginxPath is Debian's nginx, which is not on a normal user's PATH.
func nginxPath() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	return "/usr/sbin/nginx"
}

// TestLoadBalancers runs three hello-servers behind HAProxy and behind nginx
// (deploy/haproxy.cfg and deploy/nginx.conf, verbatim, on loopback), with
// calls in gRPC (h2c) and in Connect JSON, gRPC-Web and REST over HTTP/1.1
// keep-alive connections, none retried by its client:
//   - calls spread evenly over the instances; streams outlast the
//     balancer's timeout for a greeting;
//   - rolling restarts under load lose no call, counted at the clients and
//     checked against the instances' access logs;
//   - a frozen instance (SIGSTOP) leaves rotation within about a second, and
//     the calls it holds end within the balancer's timeout, not a minute;
//   - a crashed instance (SIGKILL) loses at most the calls it had in flight.
//
// Each scenario logs a "result:" line (calls, lost, error kinds).
func TestLoadBalancers(t *testing.T) {
	t.Parallel()
	testenv.SkipIfShort(t, "HAProxy, nginx and three hello-servers")
	// Built as deploy/Dockerfile builds it: the image's binary.
	bin := filepath.Join(t.TempDir(), "hello-server")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "../cmd/hello-server")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := build.CombinedOutput()
	assert.NoError(t, err, "build hello-server: "+string(out))
	for _, lb := range balancers {
		t.Run(lb.name, func(t *testing.T) {
			t.Parallel()
			if err := lb.installed(); err != nil {
				testenv.Missing(t, lb.name+" (apt-get install "+lb.name+")", err)
			}
			testBalancer(t, lb, bin)
		})
	}
}

// deployment is a balancer running in front of its instances.
type deployment struct {
	lb        balancer
	dir       string // the balancer's working directory
	instances []*instance
	log       *stampedLog // the balancer's
	protocols []protocol
}

func testBalancer(t *testing.T, lb balancer, bin string) {
	d := &deployment{lb: lb, dir: t.TempDir(), log: new(stampedLog), protocols: protocols(lb)}
	for _, port := range lb.backends {
		in := &instance{bin: bin, port: port}
		in.start(t)
		d.instances = append(d.instances, in)
	}
	t.Cleanup(func() {
		for _, in := range d.instances {
			_ = in.cmd.Process.Signal(syscall.SIGCONT)
			_ = in.cmd.Process.Kill()
		}
	})
	cmd := lb.command(t, d.dir)
	cmd.Stdout, cmd.Stderr = d.log, d.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // nginx has worker processes: stop them all
	cmd.WaitDelay = 5 * time.Second
	assert.NoError(t, cmd.Start(), "start "+lb.name)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s said:\n%s", lb.name, d.log.String())
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	// The balancer is up once a call goes through it in every protocol.
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range d.protocols {
		for {
			err := p.call(ctx, "warm-up")
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %s call through it within 10s: %v", lb.name, p.name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	d.settle(make([]int, len(d.instances)), len(d.protocols)) // the warm-up's calls are in the access logs
	testSpread(ctx, t, d)
	testStreams(ctx, t, d)
	testRollingRestarts(ctx, t, d)
	testFrozenInstance(ctx, t, d)
	testCrash(ctx, t, d)
}

// testSpread makes sequential calls in every protocol and checks that each
// instance served about a third of them.
func testSpread(ctx context.Context, t *testing.T, d *deployment) {
	const perProtocol = 150
	calls := perProtocol * len(d.protocols)
	before := servedBy(d.instances)
	for _, p := range d.protocols {
		for range perProtocol {
			assert.NoError(t, p.call(ctx, "spread"), p.name+" call through "+d.lb.name)
		}
	}
	after := d.settle(before, calls)
	mean := float64(calls) / float64(len(d.instances))
	for i := range d.instances {
		got := float64(after[i] - before[i])
		t.Logf("%s: instance %d served %.0f of %d calls (mean %.0f)", d.lb.name, i+1, got, calls, mean)
		assert.True(t, got >= 0.8*mean && got <= 1.2*mean, fmt.Sprintf("instance %d within ±20%% of the mean: %.0f", i+1, got))
	}
}

// settle waits (up to 5 s: the instances log in batches) until the access
// logs show `calls` more calls served than before, and returns the counts.
func (d *deployment) settle(before []int, calls int) []int {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after := servedBy(d.instances)
		if sum(after)-sum(before) >= calls || time.Now().After(deadline) {
			return after
		}
	}
}

// stampedLog keeps what a balancer writes, each line with the time it
// arrived.
type stampedLog struct {
	mu    sync.Mutex
	lines []stampedLine
	part  []byte // a line not yet ended
}

type stampedLine struct {
	at   time.Time
	text string
}

func (l *stampedLog) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, stampedLine{now, string(l.part) + string(rest[:i])})
		l.part, rest = l.part[:0], rest[i+1:]
	}
	l.part = append(l.part, rest...)
	return len(p), nil
}

func (l *stampedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, line := range l.lines {
		fmt.Fprintf(&b, "%s %s\n", line.at.Format("15:04:05.000"), line.text)
	}
	return b.String() + string(l.part)
}

// calls returns the balancer's log lines for calls, by X-Call-Id (test
// copies of the configurations log "call=ID ..." for every call).
func (l *stampedLog) calls() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]string{}
	for _, line := range l.lines {
		if id := field(line.text, "call="); id != "" && id != "-" {
			out[id] = line.text
		}
	}
	return out
}

// count returns how many lines that arrived at or after since contain s.
func (l *stampedLog) count(since time.Time, s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range l.lines {
		if !line.at.Before(since) && strings.Contains(line.text, s) {
			n++
		}
	}
	return n
}

// first returns the first line that arrived at or after since and contains
// every one of substrings.
func (l *stampedLog) first(since time.Time, substrings ...string) (stampedLine, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
lines:
	for _, line := range l.lines {
		if line.at.Before(since) {
			continue
		}
		for _, s := range substrings {
			if !strings.Contains(line.text, s) {
				continue lines
			}
		}
		return line, true
	}
	return stampedLine{}, false
}
