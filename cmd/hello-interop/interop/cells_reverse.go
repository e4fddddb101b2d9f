package interop

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// reverseCells run our hello-client against the tutorial's Python server,
// which implements SayHello only.
func (e *env) reverseCells(ctx context.Context) group {
	cells := []cell{
		{client: "hello-client → tutorial Python server", protocol: "gRPC", http: "2", rpc: "unary", want: wantUnary, parse: prefixed},
		{client: "hello-client → tutorial Python server", protocol: "gRPC", http: "2", rpc: "server stream",
			why: "the tutorial's server implements SayHello only"},
	}
	python, err := e.python(ctx)
	if err != nil {
		return group{missing: err, cells: cells}
	}
	var addr string
	start := func(ctx context.Context) error {
		if addr != "" {
			return nil
		}
		stubs, err := e.pythonStubs(ctx, python)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		cmd := exec.Command(python, filepath.Join(e.root, "cmd/hello-client/python/greeter_server.py"), port)
		cmd.Env = append(os.Environ(), "PYTHONPATH="+stubs)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		cmd.Stderr = e.opts.Log
		if err := cmd.Start(); err != nil {
			return err
		}
		e.stop = append(e.stop, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || !strings.Contains(line, "listening") {
			return fmt.Errorf("the tutorial's Python server did not start: %q %v", line, err)
		}
		go io.Copy(io.Discard, stdout)
		addr = "http://127.0.0.1:" + port
		return nil
	}
	client := func(args ...string) func(context.Context) (string, error) {
		return func(ctx context.Context) (string, error) {
			if err := start(ctx); err != nil {
				return "", err
			}
			return e.output(ctx, nil, e.binaries["hello-client"], append([]string{"-addr", addr}, args...)...)
		}
	}
	cells[0].run = client()
	cells[1].run = client("-rpc", "lots-of-replies")
	return group{cells: cells}
}
