package server

import (
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// granted reports whether w's slot was handed over (its ready closed).
func granted(w *waiter) bool {
	select {
	case <-w.ready:
		return true
	default:
		return false
	}
}

func TestAdmissionQueuesWhenFullAndShedsWhenTheQueueIsFull(t *testing.T) {
	a := newAdmission(1, 2)
	t0 := time.Unix(1000, 0)
	w, ok := a.acquire(t0)
	assert.True(t, ok && w == nil, "the free slot is taken at once")
	w1, ok := a.acquire(t0)
	assert.True(t, ok && w1 != nil, "the second call waits")
	w2, ok := a.acquire(t0)
	assert.True(t, ok && w2 != nil, "the third call waits")
	_, ok = a.acquire(t0)
	assert.True(t, !ok, "the fourth is shed: the queue holds two")
	assert.Equal(t, a.wait(), calmWait, "a queue that has not stood waits long")

	a.release(t0.Add(time.Millisecond))
	assert.True(t, granted(w1) && !granted(w2), "calm: the oldest waiter gets the slot")
	assert.True(t, !a.giveUp(w2, t0.Add(2*time.Millisecond)), "w2 gives up without a slot")
	a.release(t0.Add(3 * time.Millisecond)) // w1's call ends (the first one's slot, handed over): nobody waits
	assert.Equal(t, a.running, 0, "every slot returned")
	assert.Equal(t, len(a.waiting), 0, "nobody waits")
}

func TestAdmissionGoesLIFOWithShortWaitsUnderAStandingQueue(t *testing.T) {
	a := newAdmission(1, 100)
	t0 := time.Unix(1000, 0)
	now := t0
	_, _ = a.acquire(now) // the slot, held throughout
	// Every 10 ms a call queues and the oldest is served: each waits about
	// 30 ms, above the 5 ms target, for more than an interval.
	var queued []*waiter
	for range 3 {
		w, _ := a.acquire(now)
		queued = append(queued, w)
	}
	for range 25 {
		now = now.Add(10 * time.Millisecond)
		w, ok := a.acquire(now)
		assert.True(t, ok && w != nil, "queued")
		queued = append(queued, w)
		a.release(now)
	}
	assert.True(t, a.standing, "a queue whose shortest wait stayed above target for an interval stands")
	assert.Equal(t, a.wait(), busyWait, "a standing queue waits briefly")
	newest, _ := a.acquire(now)
	queued = append(queued, newest)
	assert.True(t, !granted(newest), "the newest waits")
	a.release(now.Add(time.Millisecond))
	assert.True(t, granted(newest), "standing: the newest waiter gets the slot first")

	// The queue drains: calls find a free slot at once for an interval, and
	// the queue is calm again.
	for _, w := range queued {
		if !granted(w) {
			a.giveUp(w, now)
		}
	}
	for a.running > 0 {
		a.release(now)
	}
	for range 3 {
		now = now.Add(60 * time.Millisecond)
		w, ok := a.acquire(now)
		assert.True(t, ok && w == nil, "a free slot at once")
		a.release(now)
	}
	assert.True(t, !a.standing, "an interval with calls that did not wait ends the standing queue")
	assert.Equal(t, a.wait(), calmWait, "calm again: long waits")
}

func TestAdmissionGrantedWhileGivingUpKeepsTheSlot(t *testing.T) {
	a := newAdmission(1, 1)
	t0 := time.Unix(1000, 0)
	_, _ = a.acquire(t0)
	w, _ := a.acquire(t0)
	a.release(t0.Add(time.Millisecond)) // hands the slot to w as its timer fires
	assert.True(t, a.giveUp(w, t0.Add(time.Millisecond)), "w holds the slot it was handed")
	assert.Equal(t, a.running, 1, "the slot is w's, still counted")
}
