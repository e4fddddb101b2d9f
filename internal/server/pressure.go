package server

import (
	"context"
	"fmt"
	"time"

	"connectrpc.com/connect"
)

// pressureSilence is how long a call may wait on its client, with no byte
// of its request or reply moving, while every in-flight slot is taken:
// past it the sweeper ends the call with resource_exhausted and its slot
// goes to a call that moves. Out of pressure, -body-timeout and
// -stream-idle-timeout apply as configured. It is Envoy's overload action
// reduce_timeouts, with one step: a silent client holds a slot that others
// wait for for at most this long, however many connections it spreads its
// calls over (20 connections × 32 silent client streams held every one of
// 256 slots for the 60 s of -stream-idle-timeout, issue #23).
const pressureSilence = time.Second

// deadlines has d end the calls l counts that wait on a silent client for
// pressureSilence while l is under pressure, and returns d.
func (l *callLimit) deadlines(d *deadlines) *deadlines {
	d.counts, d.pressure, d.yielded = l.counts, l.underPressure, &l.yield
	return d
}

// underPressure reports whether every in-flight slot is taken (calls then
// wait in the admission queue, or are shed).
func (l *callLimit) underPressure() bool { return l.admit.inUse() >= l.admit.max }

// yieldsUnderPressure reports whether c, a call the in-flight limit counts,
// waits on its client (a read of its request, or a write of its reply,
// blocked on the connection) and has moved no byte for pressureSilence at
// now, as sawMoved last noted. Only the sweeper calls it, under the
// deadlines' lock.
func (c *callState) yieldsUnderPressure(now time.Time) bool {
	if !c.counted || now.Sub(c.movedAt) < pressureSilence {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reading || c.writing
}

// errYielded is what a call ended under pressure reports.
func errYielded(silent time.Duration) error {
	return connect.NewError(connect.CodeResourceExhausted, fmt.Errorf(
		"ended to free its slot: no byte of the call moved for %v while every in-flight slot was taken (-max-inflight); retry later",
		silent.Round(time.Millisecond)))
}

// pressureEnd is the context error of a call ended under pressure.
var pressureEnd = context.Canceled
