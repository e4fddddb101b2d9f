package server_test

import (
	"testing"
	"time"
)

// withRoom runs try with a short deadline or cap d, and again with twice as
// long while try reports that d ended the call before the work the test needs
// to come first (a stream's first message): on a loaded machine that work can
// take longer than any fixed deadline, and the tests are about what happens
// after it. Each try that reports too short has still seen d enforced; every
// other outcome, try asserts. Five tries: 16 times d at most.
func withRoom(t *testing.T, d time.Duration, try func(d time.Duration) (tooShort bool)) {
	t.Helper()
	for range 5 {
		if !try(d) {
			return
		}
		t.Logf("%v ended the call before its first message on this machine; again with %v", d, 2*d)
		d *= 2
	}
	t.Fatalf("even %v ended the call before its first message", d/2)
}
