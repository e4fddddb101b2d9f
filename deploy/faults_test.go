package deploy_test

import (
	"context"
	"testing"
	"time"
)

// workers is how many closed-loop callers each protocol has in a scenario.
const workers = 2

// testRollingRestarts restarts every instance in turn, rounds times, under
// load, and checks that no call is lost and that the instances' access logs
// show every call that succeeded. Behind HAProxy a draining instance leaves
// rotation through its health check before its listener closes; nginx, with
// no active checks, leaves it out when it refuses or resets a call, and
// sends that call to another instance (deploy/nginx.conf).
func testRollingRestarts(ctx context.Context, t *testing.T, d *deployment) {
	const rounds = 2
	before, started := servedBy(d.instances), time.Now()
	l := startLoad(ctx, "restarts", d.protocols, workers)
	l.waitCalls(ctx, 100)
	for range rounds {
		for i, in := range d.instances {
			if d.lb.rotate != nil {
				d.lb.rotate(t, d.dir, i, false)
			}
			signalled := time.Now()
			in.stop(t)
			if d.lb.leaves {
				// Out of rotation by 0.7 s into its 1 s drain delay.
				if late := in.servedSince(signalled.Add(700 * time.Millisecond)); late != 0 {
					t.Errorf("%s: instance %d served %d calls after 0.7 s of its drain: still in rotation", d.lb.name, i+1, late)
				}
			}
			served := in.served()
			in.start(t)
			if d.lb.rotate != nil {
				d.lb.rotate(t, d.dir, i, true)
			}
			d.waitServing(t, in, served)
		}
	}
	calls := l.finish()
	o := outcomeOf(calls)
	unresent := 0
	if d.lb.unresent != "" {
		unresent = d.log.count(started, d.lb.unresent)
	}
	t.Logf("%s: result: rolling restarts (%d of each instance): %v; calls refused unprocessed and not sent again: %d", d.lb.name, rounds, o, unresent)
	if o.lost > unresent {
		for _, c := range calls {
			if c.err != nil {
				t.Errorf("%s: a %s call failed during the restarts: %v", d.lb.name, c.protocol, c.err)
			}
		}
	}
	// Every call that succeeded is in an access log; a call the balancer
	// sent again (the instance closed the connection before its reply got
	// out) may be there twice.
	retried, lines := 0, d.log.calls()
	for _, c := range calls {
		if d.lb.retried(lines[c.id]) {
			retried++
		}
	}
	after := d.settle(before, o.calls-o.lost)
	if served := sum(after) - sum(before); served < o.calls-o.lost || served > o.calls-o.lost+retried {
		t.Errorf("%s: the instances' access logs show %d calls served; the clients, %d that succeeded, %d of them sent twice by the balancer", d.lb.name, served, o.calls-o.lost, retried)
	}
}

// waitServing waits (up to 10 s) until instance in, restarted, has served
// more than served calls: it is back in rotation.
func (d *deployment) waitServing(t *testing.T, in *instance, served int) {
	t.Helper()
	for back := time.Now().Add(10 * time.Second); in.served() == served; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(back) {
			t.Fatalf("%s: instance on %d not back in rotation within 10s of its restart", d.lb.name, in.port)
		}
	}
}

// testFrozenInstance stops one instance (SIGSTOP) for longer than a
// client's deadline, under load: the balancer must stop sending it calls
// within about a second (HAProxy by its health check, nginx by its first
// call that timed out), and the calls it holds must end within the
// balancer's timeout for a greeting, not hang for a minute. Those the
// balancer can send again go to another instance; the others are lost, and
// each must be one the balancer's log shows held by the frozen instance.
func testFrozenInstance(ctx context.Context, t *testing.T, d *deployment) {
	const i, frozenFor = 1, callDeadline + time.Second
	in := d.instances[i]
	l := startLoad(ctx, "frozen", d.protocols, workers)
	l.waitCalls(ctx, 100)
	frozen := time.Now()
	in.freeze()
	time.Sleep(frozenFor)
	in.thaw()
	l.waitCalls(ctx, 100)
	calls := l.finish()
	o := outcomeOf(calls)

	left, ok := d.log.first(frozen, d.lb.left(i)...)
	leftAfter := "never"
	if ok {
		leftAfter = left.at.Sub(frozen).Round(time.Millisecond).String()
	}
	t.Logf("%s: result: frozen instance (%v): %v; out of rotation after %s", d.lb.name, frozenFor, o, leftAfter)
	if !ok || left.at.Sub(frozen) > 2*time.Second {
		t.Errorf("%s: the frozen instance was not out of rotation within 2 s (%s): no %q in the log", d.lb.name, leftAfter, d.lb.left(i))
	}
	if bound := d.lb.greetingTimeout + 2*time.Second; o.longest > bound {
		t.Errorf("%s: a call took %v, more than the balancer's timeout for a greeting (%v) and a retry elsewhere", d.lb.name, o.longest, d.lb.greetingTimeout)
	}
	d.checkLostAt(t, calls, in, "held by the frozen instance", frozen)
}

// testCrash kills one instance (SIGKILL) under load: only the calls it had
// in flight may be lost (each one the balancer's log shows sent to it, not
// refused); calls that come after the kill go to the other instances. Then
// it starts again and gets calls again.
func testCrash(ctx context.Context, t *testing.T, d *deployment) {
	in := d.instances[0]
	l := startLoad(ctx, "crash", d.protocols, workers)
	l.waitCalls(ctx, 100)
	killed := time.Now()
	in.kill(t)
	l.waitCalls(ctx, 300)
	time.Sleep(time.Second) // the calls of a second on two instances; nginx's fail_timeout passes
	served := in.served()
	in.start(t)
	d.waitServing(t, in, served)
	calls := l.finish()
	t.Logf("%s: result: crash (SIGKILL, restart): %v", d.lb.name, outcomeOf(calls))
	d.checkLostAt(t, calls, in, "in flight at the killed instance", killed)
}

// checkLostAt checks that every call lost was sent to instance in (and not
// refused by it), by the balancer's log; a call the balancer did not log
// (HAProxy, at times, when an instance dies under an HTTP/1.1 call) must at
// least have been under way at the clients at the fault.
func (d *deployment) checkLostAt(t *testing.T, calls []call, in *instance, what string, fault time.Time) {
	t.Helper()
	lines := d.log.calls()
	for _, c := range calls {
		if c.err == nil {
			continue
		}
		line, logged := lines[c.id]
		if !logged && c.start.Before(fault) && c.end.After(fault) {
			continue
		}
		if port, reached := d.lb.attempt(line); port != in.port || !reached {
			t.Errorf("%s: a %s call was lost that was not %s (instance on %d): %v; the balancer logged %q", d.lb.name, c.protocol, what, in.port, c.err, line)
		}
	}
}
