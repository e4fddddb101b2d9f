package server

import (
	"sync"
	"time"
)

// Admission's queue times (Facebook's adaptive LIFO with CoDel, as in
// "Fail at Scale"): a call that finds every slot taken waits up to
// calmWait for one while the queue keeps draining; once the queue has
// stood (no call in an interval waited less than target), the calls wait
// at most busyWait and the newest is served first, since it has the most
// of its deadline left and the oldest are likely given up on.
const (
	admitTarget   = 5 * time.Millisecond
	admitInterval = 100 * time.Millisecond
	calmWait      = 100 * time.Millisecond
	busyWait      = 5 * time.Millisecond
)

// admission hands out max slots and queues at most maxWaiting calls for
// them. It knows no clock: every method is told the time, so that its
// decisions can be tested step by step.
type admission struct {
	mu         sync.Mutex
	max        int
	maxWaiting int
	running    int
	waiting    []*waiter // in order of arrival

	// CoDel: the smallest wait seen in the current interval, and whether the
	// last interval's smallest exceeded admitTarget (a standing queue).
	intervalStart time.Time
	minWait       time.Duration
	standing      bool
}

// waiter is a call queued for a slot; ready is closed when it gets one.
type waiter struct {
	since   time.Time
	ready   chan struct{}
	granted bool
}

func newAdmission(max, maxWaiting int) *admission {
	return &admission{max: max, maxWaiting: maxWaiting, minWait: -1}
}

// acquire takes a slot at now: ok with a nil waiter when one is free, ok
// with a waiter to wait on when the call is queued, not ok when the queue
// is full too.
func (a *admission) acquire(now time.Time) (w *waiter, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running < a.max && len(a.waiting) == 0 {
		a.running++
		a.observe(0, now)
		return nil, true
	}
	if len(a.waiting) >= a.maxWaiting {
		return nil, false
	}
	w = &waiter{since: now, ready: make(chan struct{})}
	a.waiting = append(a.waiting, w)
	return w, true
}

// inUse returns how many slots calls hold.
func (a *admission) inUse() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.running
}

// wait is how long a call queued now may wait for a slot.
func (a *admission) wait() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.standing {
		return busyWait
	}
	return calmWait
}

// giveUp takes w out of the queue at now, when its wait is over or its call
// ended; it reports whether w had been granted a slot meanwhile, which the
// call then holds (and releases).
func (a *admission) giveUp(w *waiter, now time.Time) (granted bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if w.granted {
		return true
	}
	for i, q := range a.waiting {
		if q == w {
			a.waiting = append(a.waiting[:i], a.waiting[i+1:]...)
			break
		}
	}
	a.observe(now.Sub(w.since), now)
	return false
}

// release returns a slot at now: it goes to a queued call, the oldest while
// the queue drains, the newest while it stands.
func (a *admission) release(now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.waiting) == 0 {
		a.running--
		return
	}
	var w *waiter
	if a.standing {
		w = a.waiting[len(a.waiting)-1]
		a.waiting = a.waiting[:len(a.waiting)-1]
	} else {
		w = a.waiting[0]
		a.waiting = a.waiting[1:]
	}
	a.observe(now.Sub(w.since), now)
	w.granted = true
	close(w.ready)
}

// observe notes a call's wait at now, for CoDel; a.mu is held.
func (a *admission) observe(wait time.Duration, now time.Time) {
	if now.Sub(a.intervalStart) >= admitInterval {
		if a.minWait >= 0 {
			a.standing = a.minWait > admitTarget
		}
		a.intervalStart, a.minWait = now, wait
		return
	}
	if a.minWait < 0 || wait < a.minWait {
		a.minWait = wait
	}
}
