package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// gauges are the server's figures at one moment; -1 where unknown.
type gauges struct {
	goroutines int
	rss        int64 // bytes
}

// measure reads the server's goroutines from its expvar page (debugURL,
// "" for none) and its resident memory from /proc (pid 0 for none).
func measure(client *http.Client, debugURL string, pid int) gauges {
	g := gauges{goroutines: -1, rss: -1}
	if debugURL != "" {
		if res, err := client.Get(debugURL); err == nil {
			body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			res.Body.Close()
			g.goroutines = goroutinesIn(body)
		}
	}
	if pid > 0 {
		if f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
			g.rss = rssIn(f)
			f.Close()
		}
	}
	return g
}

// goroutinesIn reads "goroutines" of an expvar page; -1 when it has none.
func goroutinesIn(page []byte) int {
	var vars struct {
		Goroutines *int `json:"goroutines"`
	}
	if json.Unmarshal(page, &vars) != nil || vars.Goroutines == nil {
		return -1
	}
	return *vars.Goroutines
}

// rssIn reads VmRSS of a /proc/PID/status, in bytes; -1 when it has none.
func rssIn(status io.Reader) int64 {
	s := bufio.NewScanner(status)
	for s.Scan() {
		if rest, found := strings.CutPrefix(s.Text(), "VmRSS:"); found {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// peaks are the highest figures the sampler saw.
type peaks struct {
	held       int
	goroutines int
	rss        int64
}

// sample measures every interval until stop is closed: the streams still
// held (held()), the server's goroutines and RSS.
func sample(held func() int, debugURL string, pid int, every time.Duration, stop <-chan struct{}) peaks {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	p := peaks{goroutines: -1, rss: -1}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return p
		case <-tick.C:
		}
		p.held = max(p.held, held())
		g := measure(client, debugURL, pid)
		p.goroutines, p.rss = max(p.goroutines, g.goroutines), max(p.rss, g.rss)
	}
}

// A call is one normal SayHello's outcome.
type call struct {
	at      time.Duration // when it started, from the streams' opening
	latency time.Duration
	ok      bool
	how     string // "HTTP 429 resource_exhausted", "timeout", ...
}

// callEvery makes a normal Connect JSON SayHello on a fresh h2c connection
// every interval (or at once after a slower one) until stop is closed,
// each with timeout.
func callEvery(base string, start time.Time, every, timeout time.Duration, stop <-chan struct{}) []call {
	var calls []call
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return calls
		case <-tick.C:
		}
		calls = append(calls, sayHello(base, start, timeout))
	}
}

// sayHello makes one call on a connection of its own.
func sayHello(base string, start time.Time, timeout time.Duration) call {
	transport := &http.Transport{Protocols: new(http.Protocols)}
	transport.Protocols.SetUnencryptedHTTP2(true)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: timeout}
	c := call{at: time.Since(start)}
	t0 := time.Now()
	res, err := client.Post(base+"/rpc_package.HelloWorldService/SayHello", "application/json", bytes.NewReader([]byte(`{"name":"eric"}`)))
	if err != nil {
		c.latency, c.how = time.Since(t0), "error: "+shortErr(err)
		return c
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	res.Body.Close()
	c.latency = time.Since(t0)
	switch {
	case err != nil:
		c.how = "error: " + shortErr(err)
	case res.StatusCode == http.StatusOK:
		c.ok, c.how = true, "HTTP 200"
	default:
		c.how = answer(res.StatusCode, body)
	}
	return c
}

// shortErr names an error without its URL.
func shortErr(err error) string {
	if os.IsTimeout(err) {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	return s
}
