package interop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/ready"
)

// env is what the cells share: the built binaries, the running servers and
// where each client is (or why it is missing).
type env struct {
	opts     Options
	root     string
	tmp      string
	addr     string // hello-server's host:port
	url      string // http://host:port
	pageURL  string // the origin serving the grpc-web test page
	stop     []func()
	binaries map[string]string
}

// group is the cells of one client, with the reason it is missing, if it is.
type group struct {
	missing error
	cells   []cell
}

func setup(ctx context.Context, opts Options) (*env, error) {
	root, err := filepath.Abs(opts.Root)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "hello-interop-")
	if err != nil {
		return nil, err
	}
	e := &env{opts: opts, root: root, tmp: tmp, binaries: map[string]string{}}
	e.stop = append(e.stop, func() { os.RemoveAll(tmp) })
	for _, cmd := range []string{"hello-server", "hello-client"} {
		bin := filepath.Join(tmp, cmd)
		if out, err := e.command(ctx, "go", "build", "-o", bin, "./cmd/"+cmd).CombinedOutput(); err != nil {
			e.close()
			return nil, fmt.Errorf("build %s: %v\n%s", cmd, err, out)
		}
		e.binaries[cmd] = bin
	}
	page, err := e.servePage()
	if err != nil {
		e.close()
		return nil, err
	}
	e.pageURL = page
	if err := e.startServer(ctx); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

func (e *env) close() {
	for i := len(e.stop) - 1; i >= 0; i-- {
		e.stop[i]()
	}
}

// command returns a command run in the project root.
func (e *env) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = e.root
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// output runs a command with a bound and returns its standard output; on
// failure the error carries its standard error.
func (e *env) output(ctx context.Context, extraEnv []string, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := e.command(ctx, name, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = strings.TrimSpace(stdout.String())
		}
		return stdout.String(), fmt.Errorf("%s: %v", msg, err)
	}
	return stdout.String(), nil
}

// startServer starts the built hello-server on a free loopback port, allowing
// the test page's origin, and waits for health.
func (e *env) startServer(ctx context.Context) error {
	cmd := exec.Command(e.binaries["hello-server"], "-addr", "127.0.0.1:0", "-metrics-addr", "127.0.0.1:0", "-reply-interval", "0s", "-drain-delay", "0",
		"-cors-origins", e.pageURL, "-log-level", "warn", "-access-log=false")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = e.opts.Log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start hello-server: %w", err)
	}
	e.stop = append(e.stop, func() { _ = cmd.Process.Signal(os.Interrupt); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read hello-server's first line: %w", err)
	}
	go io.Copy(io.Discard, stdout)
	if e.addr, err = ready.Addr(line); err != nil {
		return err
	}
	e.url = "http://" + e.addr
	return ready.Wait(ctx, http.DefaultClient, e.url)
}

// servePage serves the grpc-web test page (bundled later, once esbuild is
// known to be there) from its own origin, and returns that origin.
func (e *env) servePage() (string, error) {
	dir := filepath.Join(e.tmp, "page")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	html := `<!doctype html><html><head><meta charset="utf-8"><title>grpc-web interop</title>` +
		`<script type="module" src="grpcweb.js"></script></head><body></body></html>`
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(html), 0o644); err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(dir)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	e.stop = append(e.stop, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// tool finds an executable on PATH, in $GOPATH/bin or in web/node_modules/.bin.
func (e *env) tool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{filepath.Join(build.Default.GOPATH, "bin"), filepath.Join(e.root, "web", "node_modules", ".bin")} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s is not installed (%s)", name, installHint[name])
}

var installHint = map[string]string{
	"grpcurl": "go install github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.4",
	"buf":     "npm ci --prefix web",
	"esbuild": "npm ci --prefix web",
	"node":    "Node.js 20",
	"curl":    "apt-get install curl",
}

// python returns Debian's python3 if it has grpcio and grpc-tools.
func (e *env) python(ctx context.Context) (string, error) {
	const python = "/usr/bin/python3"
	if _, err := e.output(ctx, nil, python, "-c", "import grpc, grpc_tools"); err != nil {
		return "", errors.New("Debian's python3-grpcio and python3-grpc-tools are not installed: " + err.Error())
	}
	return python, nil
}

// groups lists every client's cells; ctx bounds the set-up some of them need
// (probing a client, bundling a page).
func (e *env) groups(ctx context.Context) []group {
	return []group{
		e.pythonCells(ctx),
		e.grpcurlCells(),
		e.bufCurlCells(),
		e.curlCells(),
		e.connectNodeCells(ctx),
		e.grpcJSCells(),
		e.grpcWebCells(ctx),
		e.reverseCells(ctx),
	}
}
