package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"time"
)

// deployment is instances of one hello-server behind HAProxy, as many as the
// configuration names.
type deployment struct {
	procs    []*exec.Cmd // the instances, then HAProxy
	frontend string      // HAProxy's URL
	direct   string      // the first instance's URL
}

var (
	bindLine   = regexp.MustCompile(`(?m)^(\s*bind\s+)127\.0\.0\.1:\d+`)
	serverLine = regexp.MustCompile(`(?m)^(\s*server\s+\S+\s+)127\.0\.0\.1:\d+`)
)

// deploy starts s's instances and HAProxy in front of them, with the
// configuration of cfg.haproxyCfg on free ports (written in dir), and waits
// until a call through HAProxy succeeds.
func deploy(ctx context.Context, cfg config, s server, dir string) (*deployment, error) {
	text, err := os.ReadFile(cfg.haproxyCfg)
	if err != nil {
		return nil, err
	}
	if len(bindLine.FindAll(text, -1)) != 1 || len(serverLine.FindAll(text, -1)) == 0 {
		return nil, fmt.Errorf("%s: want one bind line and server lines on 127.0.0.1", cfg.haproxyCfg)
	}
	d := new(deployment)
	var firstErr error
	text = serverLine.ReplaceAllFunc(text, func(line []byte) []byte {
		addr, err := freeAddr()
		if err != nil {
			firstErr = err
			return line
		}
		if d.direct == "" {
			d.direct = "http://" + addr
		}
		d.procs = append(d.procs, exec.CommandContext(ctx, s.bin, "-addr", addr))
		return append(serverLine.FindSubmatch(line)[1], addr...)
	})
	front, err := freeAddr()
	if err != nil || firstErr != nil {
		return nil, fmt.Errorf("free ports: %w", errors.Join(err, firstErr))
	}
	d.frontend = "http://" + front
	text = bindLine.ReplaceAll(text, []byte("${1}"+front))
	path := filepath.Join(dir, "haproxy.cfg")
	if err := os.WriteFile(path, text, 0o600); err != nil {
		return nil, err
	}
	haproxyLog, err := os.Create(filepath.Join(dir, "haproxy.log"))
	if err != nil {
		return nil, err
	}
	defer haproxyLog.Close()
	lb := exec.CommandContext(ctx, cfg.haproxy, "-db", "-f", path)
	lb.Stdout, lb.Stderr = haproxyLog, haproxyLog
	d.procs = append(d.procs, lb)
	for _, p := range d.procs {
		if err := p.Start(); err != nil {
			d.stop()
			return nil, fmt.Errorf("start %s: %w", p.Path, err)
		}
	}
	client := &http.Client{Timeout: time.Second}
	for range 100 { // HAProxy takes an instance after two checks, 200 ms apart
		if err := expect(client, get(d.frontend+restPath)); err == nil {
			return d, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.stop()
	return nil, fmt.Errorf("no call through HAProxy at %s succeeded within 10 s (its log: %s)", d.frontend, haproxyLog.Name())
}

// stop kills every process of d and waits for it.
func (d *deployment) stop() {
	for _, p := range d.procs {
		if p.Process != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
		}
	}
}

// freeAddr returns a 127.0.0.1 address with a port that was free just now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
