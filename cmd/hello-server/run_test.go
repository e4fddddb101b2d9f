package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/ready"
)

// started is a hello-server started by run in the test's process.
type started struct {
	addr   string // host:port
	url    string // http://host:port
	cancel context.CancelFunc
	done   chan error
	stdout chan string // the lines of output after the first
}

// startRun calls run with args (plus -addr 127.0.0.1:0 and -metrics-addr
// 127.0.0.1:0, which args may override), reads the address it
// listens on from its first line of output, and waits until health answers.
// The server's log goes to stderr when it is not nil.
func startRun(t *testing.T, args ...string) *started {
	return startRunLogging(t, io.Discard, args...)
}

func startRunLogging(t *testing.T, stderr io.Writer, args ...string) *started {
	t.Helper()
	return startRunEnv(t, func(string) string { return "" }, stderr, args...)
}

// startRunEnv is startRunLogging with the environment getenv.
func startRunEnv(t *testing.T, getenv func(string) string, stderr io.Writer, args ...string) *started {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdoutR, stdoutW := io.Pipe()
	s := &started{cancel: cancel, done: make(chan error, 1), stdout: make(chan string, 64)}
	go func() {
		// No drain delay unless the test asks for one: nothing balances these.
		s.done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-drain-delay", "0"}, args...), getenv, stdoutW, stderr)
		stdoutW.Close()
	}()
	out := bufio.NewReader(stdoutR)
	line, err := out.ReadString('\n')
	assert.NoError(t, err, "read the first line of output")
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			select {
			case s.stdout <- lines.Text():
			default: // nobody reads them
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	s.addr, err = ready.Addr(line)
	assert.NoError(t, err, "first line")
	s.url = "http://" + s.addr
	client := http.DefaultClient
	if slices.Contains(args, "-tls-cert") {
		s.url = "https://" + s.addr
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	}
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	assert.NoError(t, ready.Wait(t.Context(), client, s.url), "health")
	return s
}

// stop cancels run's context and waits up to within for run to return,
// which must be without an error.
func (s *started) stop(t *testing.T, within time.Duration) {
	t.Helper()
	s.cancel()
	select {
	case err := <-s.done:
		s.done <- err // for startRun's cleanup
		assert.NoError(t, err, "run after cancel")
	case <-time.After(within):
		t.Fatalf("run did not return within %v of its context being cancelled", within)
	}
}

func TestRunServesAndStopsOnCancel(t *testing.T) {
	s := startRun(t)
	res, err := http.Post(s.url+"/rpc_package.HelloWorldService/SayHello", "application/json", strings.NewReader(`{"name":"eric"}`))
	assert.NoError(t, err, "SayHello")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, string(body), `{"message":"Hello, eric!"}`, "reply")

	s.stop(t, 10*time.Second)
	_, err = net.DialTimeout("tcp", s.addr, time.Second)
	assert.Error(t, err, "dial after shutdown")
}

func TestRunReportsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	defer ln.Close()
	err = run(t.Context(), []string{"-addr", ln.Addr().String()}, func(string) string { return "" }, io.Discard, io.Discard)
	assert.Error(t, err, "run on a taken port")
	assert.Contains(t, err.Error(), "listen on "+ln.Addr().String(), "error")
	assert.Contains(t, err.Error(), "address already in use", "error")
}

func TestRunRejectsBadConfig(t *testing.T) {
	getenv := func(name string) string {
		if name == "HELLORPC_IDLE_TIMEOUT" {
			return "soon"
		}
		return ""
	}
	err := run(t.Context(), nil, getenv, io.Discard, io.Discard)
	assert.Error(t, err, "run with a bad environment variable")
	assert.Contains(t, err.Error(), `HELLORPC_IDLE_TIMEOUT="soon"`, "error")

	err = run(t.Context(), []string{"-log-level", "loud"}, func(string) string { return "" }, io.Discard, io.Discard)
	assert.Error(t, err, "run with a bad flag")
}
