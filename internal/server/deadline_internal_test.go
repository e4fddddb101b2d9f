package server

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestSweeperEndsCallsAndStopsWhenIdle checks the one deadline mechanism:
// a call past its deadline ends with deadline_exceeded (its Done closes and
// contexts derived from it end too), one whose request ended ends with that
// error, and the sweeper goroutine stops once no call is in flight.
func TestSweeperEndsCallsAndStopsWhenIdle(t *testing.T) {
	d := newDeadlines(100*time.Millisecond, 0, 0, nil, nil)
	type result struct {
		err, derived error
		deadline     bool
	}
	results := make(chan result, 2)
	h := d.enforce(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, hasDeadline := ctx.Deadline()
		derived, cancel := context.WithCancel(ctx) // registers through callState.AfterFunc
		defer cancel()
		<-ctx.Done()
		<-derived.Done()
		results <- result{err: ctx.Err(), derived: derived.Err(), deadline: hasDeadline}
	}))

	// Past the server's cap. "A few sweeps" is counted with a ticker of the
	// sweeper's period beside it: on a loaded machine both get their ticks
	// late, or miss some, alike.
	ticks := make(chan int, 1)
	stopTicking := make(chan struct{})
	go func() {
		tick := time.NewTicker(sweepInterval)
		defer tick.Stop()
		for n := 0; ; {
			select {
			case <-tick.C:
				n++
			case <-stopTicking:
				ticks <- n
				return
			}
		}
	}()
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil))
	took := time.Since(start)
	close(stopTicking)
	swept := <-ticks
	got := <-results
	if !errors.Is(got.err, context.DeadlineExceeded) || !errors.Is(got.derived, context.DeadlineExceeded) || !got.deadline {
		t.Fatalf("capped call: err %v, derived %v, deadline %v", got.err, got.derived, got.deadline)
	}
	if took < 100*time.Millisecond || swept > int(100*time.Millisecond/sweepInterval)+4 {
		t.Fatalf("capped call ended after %v (%d sweep periods), want 100ms + at most a few sweeps", took, swept)
	}

	// The request's context ends first (the client went away, a drain).
	reqCtx, cancelReq := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancelReq)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/", nil).WithContext(reqCtx))
	if got := <-results; !errors.Is(got.err, context.Canceled) {
		t.Fatalf("call whose request ended: err %v, want canceled", got.err)
	}

	deadline := time.Now().Add(2 * time.Second)
	for {
		d.mu.Lock()
		sweeping := d.sweeping
		d.mu.Unlock()
		if !sweeping {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper still runs with no call in flight")
		}
		time.Sleep(sweepInterval)
	}
}
