package deploy_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/ready"
)

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
		"-shutdown-timeout", "10s", "-log-level", "info", "-metrics-addr", "127.0.0.1:0")
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
	in.wait(t, "SIGTERM", func(err error) { assert.NoError(t, err, "hello-server exit") })
}

// kill crashes the instance: SIGKILL, no drain. The last lines of its log
// (up to 100 ms of them, written in batches) die with it.
func (in *instance) kill(t *testing.T) {
	t.Helper()
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	in.wait(t, "SIGKILL", func(err error) { assert.True(t, err != nil, "a killed hello-server exits with an error") })
}

func (in *instance) wait(t *testing.T, signal string, check func(error)) {
	t.Helper()
	select {
	case err := <-in.done:
		check(err)
	case <-time.After(30 * time.Second):
		_ = in.cmd.Process.Kill()
		t.Fatalf("hello-server on %d did not exit within 30s of %s", in.port, signal)
	}
}

// freeze stops the process (SIGSTOP) as a hung host would: its sockets stay
// open and the kernel still accepts connections for it, but nothing answers.
// thaw (SIGCONT) lets it go on.
func (in *instance) freeze() { _ = in.cmd.Process.Signal(syscall.SIGSTOP) }
func (in *instance) thaw()   { _ = in.cmd.Process.Signal(syscall.SIGCONT) }

// served counts the SayHello calls (every protocol, REST included) that the
// instance's access log shows answered with ok.
func (in *instance) served() int { return in.servedSince(time.Time{}) }

// servedSince counts those logged at or after since (the log's own time:
// lines reach the log in batches).
func (in *instance) servedSince(since time.Time) int {
	n := 0
	for line := range strings.Lines(in.logs.String()) {
		if !strings.Contains(line, "msg=request") || !strings.Contains(line, " code=ok ") ||
			!strings.Contains(line, "path="+rpc_packageconnect.HelloWorldServiceSayHelloProcedure+" ") && !strings.Contains(line, "path=/v1/hello/") {
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

func servedBy(instances []*instance) []int {
	out := make([]int, len(instances))
	for i, in := range instances {
		out[i] = in.served()
	}
	return out
}

func sum(counts []int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
