package main

import (
	"bufio"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// probe watches the server while a step runs: a health check every 100 ms
// on a connection of its own (the slowest answer, and the checks that
// failed or took 1 s or more), and the server's resident memory (its peak).
type probe struct {
	stop chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	slowest  time.Duration
	failures int
	peakRSS  int64 // bytes
}

func startProbe(healthURL string, pid int) *probe {
	p := &probe{stop: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	p.wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
			start := time.Now()
			res, err := client.Get(healthURL)
			took := time.Since(start)
			if err == nil {
				res.Body.Close()
			}
			rss := residentBytes(pid)
			p.mu.Lock()
			p.slowest = max(p.slowest, took)
			if err != nil || res.StatusCode != http.StatusOK || took >= time.Second {
				p.failures++
			}
			p.peakRSS = max(p.peakRSS, rss)
			p.mu.Unlock()
		}
	})
	return p
}

func (p *probe) end() {
	close(p.stop)
	p.wg.Wait()
}

// residentBytes reads VmRSS of process pid; 0 when pid is 0 or unreadable.
func residentBytes(pid int) int64 {
	if pid == 0 {
		return 0
	}
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, found := strings.CutPrefix(s.Text(), "VmRSS:"); found {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
