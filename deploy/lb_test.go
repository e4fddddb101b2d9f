// Package deploy_test runs hello-server the way deploy/ describes it: three
// instances behind Debian's HAProxy and nginx, with the configurations in
// this directory used verbatim.
package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/ready"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// drainDelay is the instances' -drain-delay: longer than the HAProxy
// configuration needs to see an instance leave (two checks 200 ms apart),
// by enough for a loaded machine, whose HAProxy checks run late.
// HELLORPC_LB_DRAIN_DELAY overrides it, to measure what a drain without the
// delay loses ("0").
var drainDelay = func() string {
	if v := os.Getenv("HELLORPC_LB_DRAIN_DELAY"); v != "" {
		return v
	}
	return "2s"
}()

// balancer is one load balancer and the ports of deploy/'s configuration.
type balancer struct {
	name      string
	backends  []int  // the instances' ports
	grpcURL   string // where gRPC (h2c) goes in
	http1URL  string // where HTTP/1.1 (Connect, gRPC-Web) goes in
	leaves    bool   // it takes a draining instance out by its health check
	command   func(t *testing.T, dir string) *exec.Cmd
	installed func() error
	// rotate, when set, takes instance i (0-based) out of rotation (in false)
	// or puts it back (in true) before a restart and after it.
	rotate func(t *testing.T, dir string, i int, in bool)
}

var balancers = []balancer{
	{
		name: "haproxy", backends: []int{50011, 50012, 50013},
		grpcURL: "http://127.0.0.1:50100", http1URL: "http://127.0.0.1:50100", leaves: true,
		command: func(t *testing.T, dir string) *exec.Cmd {
			return exec.Command("haproxy", "-db", "-f", "haproxy.cfg")
		},
		installed: func() error { _, err := exec.LookPath("haproxy"); return err },
	},
	{
		name: "nginx", backends: []int{50021, 50022, 50023},
		grpcURL: "http://127.0.0.1:50200", http1URL: "http://127.0.0.1:50201",
		command: func(t *testing.T, dir string) *exec.Cmd {
			for _, name := range []string{"nginx.conf", "nginx-rotation.conf"} {
				b, err := os.ReadFile(name)
				assert.NoError(t, err, "read deploy/"+name)
				assert.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644), "copy "+name)
			}
			return exec.Command(nginxPath(), nginxArgs(dir)...)
		},
		installed: func() error { _, err := os.Stat(nginxPath()); return err },
		rotate: func(t *testing.T, dir string, i int, in bool) {
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
			old := nginxWorkers(t, dir)
			reload, err := exec.Command(nginxPath(), append(nginxArgs(dir), "-s", "reload")...).CombinedOutput()
			assert.NoError(t, err, "nginx -s reload: "+string(reload))
			// The new workers take over; the old ones finish their calls and
			// exit: watched, not timed.
			for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
				now := nginxWorkers(t, dir)
				if len(now) > 0 && !slices.ContainsFunc(now, func(pid string) bool { return slices.Contains(old, pid) }) {
					break
				}
				if time.Since(start) > 30*time.Second {
					t.Fatalf("nginx: workers %v still run 30s after a reload (new: %v)", old, now)
				}
			}
		},
	},
}

// nginxArgs runs nginx with its configuration copied into dir.
func nginxArgs(dir string) []string {
	return []string{"-p", dir + "/", "-c", filepath.Join(dir, "nginx.conf"),
		"-g", "pid nginx.pid; error_log stderr warn; daemon off;"}
}

// nginxWorkers lists the process ids of the workers of the nginx that runs
// in dir: its master's children.
func nginxWorkers(t *testing.T, dir string) []string {
	t.Helper()
	pid, err := os.ReadFile(filepath.Join(dir, "nginx.pid"))
	assert.NoError(t, err, "read nginx.pid")
	master := strings.TrimSpace(string(pid))
	children, err := os.ReadFile("/proc/" + master + "/task/" + master + "/children")
	assert.NoError(t, err, "list the nginx master's children")
	return strings.Fields(string(children))
}

// nginxPath is Debian's nginx, which is not on a normal user's PATH.
func nginxPath() string {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	return "/usr/sbin/nginx"
}

// instance is one hello-server process, restarted on the same port; its log
// (every generation's) is kept.
type instance struct {
	bin  string
	port int
	logs servertest.Buffer
	cmd  *exec.Cmd
	done chan error
}

func (in *instance) url() string { return fmt.Sprintf("http://127.0.0.1:%d", in.port) }

func (in *instance) start(t *testing.T) {
	t.Helper()
	in.cmd = exec.Command(in.bin, "-addr", fmt.Sprintf("127.0.0.1:%d", in.port), "-drain-delay", drainDelay,
		"-shutdown-timeout", "10s", "-log-level", "info")
	in.cmd.Stderr = &in.logs
	stdout, err := in.cmd.StdoutPipe()
	assert.NoError(t, err, "stdout")
	assert.NoError(t, in.cmd.Start(), "start hello-server")
	line, err := bufio.NewReader(stdout).ReadString('\n')
	assert.NoError(t, err, "first line")
	_, err = ready.Addr(line)
	assert.NoError(t, err, "first line")
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	in.done = make(chan error, 1)
	go func(cmd *exec.Cmd, done chan error) { done <- cmd.Wait() }(in.cmd, in.done)
	assert.NoError(t, ready.Wait(t.Context(), http.DefaultClient, in.url()), "instance health")
}

// stop sends SIGTERM and waits for the drain to end.
func (in *instance) stop(t *testing.T) {
	t.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-in.done:
		assert.NoError(t, err, "hello-server exit")
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		t.Fatalf("hello-server on %d did not exit within 30s of SIGTERM", in.port)
	}
}

// served counts the SayHello calls the instance's access log shows
// answered with ok.
func (in *instance) served() int { return in.servedSince(time.Time{}) }

// servedSince counts those logged at or after since (the log's own time:
// lines reach the log in batches).
func (in *instance) servedSince(since time.Time) int {
	n := 0
	for line := range strings.Lines(in.logs.String()) {
		if !strings.Contains(line, "msg=request") || !strings.Contains(line, "path="+rpc_packageconnect.HelloWorldServiceSayHelloProcedure+" ") ||
			!strings.Contains(line, " code=ok ") {
			continue
		}
		if !since.IsZero() {
			stamp, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			if at, err := time.Parse(time.RFC3339Nano, stamp); err != nil || at.Before(since) {
				continue
			}
		}
		n++
	}
	return n
}

// clients are the three protocols a balancer carries.
func clients(lb balancer) map[string]rpc_packageconnect.HelloWorldServiceClient {
	h2c := new(http.Protocols)
	h2c.SetUnencryptedHTTP2(true)
	h2cClient := &http.Client{Transport: &http.Transport{Protocols: h2c}}
	// nginx -s reload (the rolling restart behind nginx) closes the idle
	// HTTP/1.1 connections of its clients, a race between nginx and its
	// clients that no backend can help: behind nginx, the HTTP/1.1 clients
	// open a connection per call.
	h1Client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableKeepAlives: lb.rotate != nil}}
	return map[string]rpc_packageconnect.HelloWorldServiceClient{
		"grpc":         rpc_packageconnect.NewHelloWorldServiceClient(h2cClient, lb.grpcURL, connect.WithGRPC()),
		"connect-json": rpc_packageconnect.NewHelloWorldServiceClient(h1Client, lb.http1URL, connect.WithProtoJSON()),
		"grpc-web":     rpc_packageconnect.NewHelloWorldServiceClient(h1Client, lb.http1URL, connect.WithGRPCWeb()),
	}
}

// TestLoadBalancers runs three hello-servers behind HAProxy and behind nginx
// (deploy/haproxy.cfg and deploy/nginx.conf, verbatim, on loopback): calls in
// gRPC (h2c), Connect JSON and gRPC-Web (HTTP/1.1) spread evenly over the
// instances, and three rolling restarts of all three instances under load
// lose no call, counted at the clients and checked against the instances'
// access logs. Behind HAProxy a draining instance leaves rotation through
// its health check before its listener closes; open-source nginx has no
// active checks, so its restart takes the instance out with a reload first,
// as deploy/nginx.conf describes.
func TestLoadBalancers(t *testing.T) {
	testenv.SkipIfShort(t, "HAProxy, nginx and three hello-servers")
	bin := filepath.Join(t.TempDir(), "hello-server")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/hello-server").CombinedOutput()
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

func testBalancer(t *testing.T, lb balancer, bin string) {
	instances := make([]*instance, len(lb.backends))
	for i, port := range lb.backends {
		instances[i] = &instance{bin: bin, port: port}
		instances[i].start(t)
	}
	t.Cleanup(func() {
		for _, in := range instances {
			_ = in.cmd.Process.Kill()
		}
	})
	var lbLog servertest.Buffer
	dir := t.TempDir()
	cmd := lb.command(t, dir)
	cmd.Stdout, cmd.Stderr = &lbLog, &lbLog
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // nginx has worker processes: stop them all
	cmd.WaitDelay = 5 * time.Second
	assert.NoError(t, cmd.Start(), "start "+lb.name)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s said:\n%s", lb.name, lbLog.String())
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	protocols := clients(lb)

	// The balancer is up once a call goes through it in every protocol.
	deadline := time.Now().Add(30 * time.Second)
	for name, c := range protocols {
		for {
			_, err := c.SayHello(ctx, &rpc.HelloRequest{Name: "warm-up"})
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no %s call through it within 30s: %v", lb.name, name, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	var clientOK atomic.Int64
	clientOK.Add(int64(len(protocols)))

	// Spread: sequential calls, per request, over the three instances.
	const perProtocol = 150
	before := servedBy(instances)
	for name, c := range protocols {
		for range perProtocol {
			_, err := c.SayHello(ctx, &rpc.HelloRequest{Name: "eric"})
			assert.NoError(t, err, name+" call through "+lb.name)
			clientOK.Add(1)
		}
	}
	// The instances log in batches: wait until every call is in the logs.
	var after []int
	for settle := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after = servedBy(instances)
		total := 0
		for i := range after {
			total += after[i] - before[i]
		}
		if total >= perProtocol*len(protocols) || time.Now().After(settle) {
			break
		}
	}
	mean := float64(perProtocol*len(protocols)) / float64(len(instances))
	for i := range instances {
		got := float64(after[i] - before[i])
		t.Logf("%s: instance %d served %.0f of %d calls (mean %.0f)", lb.name, i+1, got, perProtocol*len(protocols), mean)
		assert.True(t, got >= 0.8*mean && got <= 1.2*mean, fmt.Sprintf("instance %d within ±20%% of the mean: %.0f", i+1, got))
	}

	// Rolling restarts under load.
	var (
		stop     atomic.Bool
		failures = make(chan string, 1000)
		lost     atomic.Int64
		wg       sync.WaitGroup
		byProto  = map[string]*atomic.Int64{}
	)
	for name := range protocols {
		byProto[name] = new(atomic.Int64)
	}
	for name, c := range protocols {
		for range 2 {
			wg.Go(func() {
				for n := 0; n < 1_000_000 && !stop.Load(); n++ { // bounded
					callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
					_, err := c.SayHello(callCtx, &rpc.HelloRequest{Name: "eric"})
					cancel()
					if err != nil {
						lost.Add(1)
						select {
						case failures <- name + ": " + err.Error():
						default:
						}
						continue
					}
					clientOK.Add(1)
					byProto[name].Add(1)
				}
			})
		}
	}
	const rounds = 3
	for round := 1; round <= rounds; round++ {
		for i, in := range instances {
			if lb.rotate != nil {
				lb.rotate(t, dir, i, false)
			}
			signalled := time.Now()
			in.stop(t)
			if delay, _ := time.ParseDuration(drainDelay); lb.leaves && delay > 0 {
				// Out of rotation by 70 % into its drain delay.
				if late := in.servedSince(signalled.Add(7 * delay / 10)); late != 0 {
					t.Errorf("%s: instance %d served %d calls after %v of its drain: still in rotation", lb.name, i+1, late, 7*delay/10)
				}
			}
			served := in.served()
			in.start(t)
			if lb.rotate != nil {
				lb.rotate(t, dir, i, true)
			}
			// Back in rotation once it serves again.
			for back := time.Now().Add(30 * time.Second); in.served() == served; {
				if time.Now().After(back) {
					t.Fatalf("%s: instance %d not back in rotation within 30s of its restart", lb.name, i+1)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}
	stop.Store(true)
	wg.Wait()
	// Stop the instances, so that their access logs are complete.
	var stopping sync.WaitGroup
	for _, in := range instances {
		stopping.Go(func() { in.stop(t) })
	}
	stopping.Wait()
	close(failures)
	for f := range failures {
		t.Errorf("%s: a call failed: %s", lb.name, f)
	}
	for name, n := range byProto {
		t.Logf("%s: %d %s calls succeeded during the restarts", lb.name, n.Load(), name)
	}
	total := 0
	for i, n := range servedBy(instances) {
		t.Logf("%s: instance %d served %d calls in all", lb.name, i+1, n)
		total += n
	}
	t.Logf("%s: %d rolling restarts of %d instances; clients: %d calls succeeded, %d lost; access logs: %d served",
		lb.name, rounds, len(instances), clientOK.Load(), lost.Load(), total)
	assert.Equal(t, lost.Load(), int64(0), "calls lost")
	assert.Equal(t, int64(total), clientOK.Load(), "calls the instances served (access logs) against calls that succeeded at the clients")
}

func servedBy(instances []*instance) []int {
	out := make([]int, len(instances))
	for i, in := range instances {
		out[i] = in.served()
	}
	return out
}
