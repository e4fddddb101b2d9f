package main

import (
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// client spreads calls over its connections, redialling a connection that
// the server closed.
type client struct {
	addr  string
	p     protocol
	fifo  bool
	mu    sync.Mutex
	conns []*conn
	next  atomic.Uint64
}

func newClient(addr string, p protocol, conns int, fifo bool) (*client, error) {
	cl := &client{addr: addr, p: p, fifo: fifo, conns: make([]*conn, conns)}
	for i := range cl.conns {
		c, err := dial(addr, p, fifo)
		if err != nil {
			cl.close()
			return nil, err
		}
		cl.conns[i] = c
	}
	return cl, nil
}

// start starts one call on the next connection.
func (cl *client) start(c *call) {
	i := int(cl.next.Add(1) % uint64(len(cl.conns)))
	cl.mu.Lock()
	cn := cl.conns[i]
	cn.mu.Lock()
	closed := cn.closed
	cn.mu.Unlock()
	if closed {
		if fresh, err := dial(cl.addr, cl.p, cl.fifo); err == nil {
			cl.conns[i], cn = fresh, fresh
		}
	}
	cl.mu.Unlock()
	cn.start(c)
}

func (cl *client) close() {
	for _, c := range cl.conns {
		if c != nil {
			c.close()
		}
	}
}

// tally counts the outcomes of the calls of one step, and keeps the
// latencies of those answered OK.
type tally struct {
	mu       sync.Mutex
	count    [failed + 1]int
	within   int // OK within the deadline: goodput
	okTimes  []time.Duration
	deadline time.Duration
	pending  sync.WaitGroup
}

func (t *tally) record(o outcome, took time.Duration) {
	t.mu.Lock()
	t.count[o]++
	if o == ok {
		t.okTimes = append(t.okTimes, took)
		if took <= t.deadline {
			t.within++
		}
	}
	t.mu.Unlock()
	t.pending.Done()
}

// percentile returns the q-quantile of the OK calls' latencies.
func (t *tally) percentile(q float64) time.Duration {
	if len(t.okTimes) == 0 {
		return 0
	}
	slices.Sort(t.okTimes)
	return t.okTimes[min(len(t.okTimes)-1, int(float64(len(t.okTimes))*q))]
}

// newCall returns a call due at due, counted in t.
func newCall(t *tally, due time.Time) *call {
	t.pending.Add(1)
	return &call{due: due, deadline: due.Add(t.deadline), done: t.record}
}

// openLoop starts calls at rate a second for d, whatever becomes of them
// (Poisson arrivals when poisson, else evenly spaced), then waits for every
// call to end, which its deadline bounds.
func openLoop(cl *client, rate float64, d, deadline time.Duration, poisson bool) *tally {
	t := &tally{deadline: deadline}
	start := time.Now()
	end := start.Add(d)
	mean := float64(time.Second) / rate
	due := start
	for due.Before(end) {
		if wait := time.Until(due); wait > time.Millisecond {
			time.Sleep(wait)
		}
		cl.start(newCall(t, due))
		gap := mean
		if poisson {
			gap = rand.ExpFloat64() * mean
		}
		due = due.Add(time.Duration(gap))
	}
	t.pending.Wait()
	return t
}

// closedLoop keeps n calls in flight for d, each started when one ends: the
// most the server answers, its capacity.
func closedLoop(cl *client, n int, d, deadline time.Duration) *tally {
	t := &tally{deadline: deadline}
	end := time.Now().Add(d)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(end) {
				done := make(chan struct{})
				c := newCall(t, time.Now())
				record := c.done
				c.done = func(o outcome, took time.Duration) { record(o, took); close(done) }
				cl.start(c)
				<-done
			}
		})
	}
	wg.Wait()
	return t
}
