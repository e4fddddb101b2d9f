package main

import (
	"net"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
)

// serve runs hello-server's handler on a loopback port for the test, with
// maxStreams streams a connection, and returns its address.
func serve(t *testing.T, maxStreams int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- server.New(server.Config{DrainDelay: -1, MaxConcurrentStreams: maxStreams}).Serve(t.Context(), ln)
	}()
	t.Cleanup(func() { <-done })
	return ln.Addr().String()
}

// The client's calls are answered OK in both protocols, and the calls
// beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS wait for a stream
// rather than fail: 20 calls due at once on one connection that takes 2.
func TestCallsWaitForAStream(t *testing.T) {
	addr := serve(t, 2)
	for name, p := range protocols {
		t.Run(name, func(t *testing.T) {
			for _, fifo := range []bool{false, true} {
				cl, err := newClient(addr, p, 1, fifo)
				if err != nil {
					t.Fatal(err)
				}
				tl := &tally{deadline: time.Minute} // far: a loaded machine must not fail it
				now := time.Now()
				for range 20 {
					cl.start(newCall(tl, now))
				}
				tl.pending.Wait()
				cl.close()
				if tl.count[ok] != 20 || tl.within != 20 {
					t.Errorf("fifo %v: %d of 20 calls OK (%d within the deadline), outcomes %v", fifo, tl.count[ok], tl.within, tl.count)
				}
			}
		})
	}
}

// A call whose deadline passes while it waits for a stream is counted as
// cancelled by the client, and never sent.
func TestCallPastItsDeadlineIsNotSent(t *testing.T) {
	addr := serve(t, 1)
	cl, err := newClient(addr, protocols["grpc"], 1, true)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.close()
	tl := &tally{deadline: time.Minute}
	c := newCall(tl, time.Now().Add(-2*time.Minute)) // due two minutes ago
	cl.start(c)
	tl.pending.Wait()
	if tl.count[timedOut] != 1 {
		t.Errorf("outcomes %v, want one call cancelled by the client", tl.count)
	}
}
