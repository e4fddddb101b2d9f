package h2guard_test

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/coalesce"
	"github.com/hellorpc/hellorpc/internal/h2guard"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// acceptedConns hands each connection its listener accepts to a channel.
type acceptedConns struct {
	net.Listener
	conns chan net.Conn
}

func (l acceptedConns) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.conns <- c
	}
	return c, err
}

// guarded serves bigHeaders on the product's stack of listeners (the guard
// over write coalescing, or over pass-through writes) and returns its
// address, its guard and the channel of its connections.
func guarded(t *testing.T, passThrough bool, opts h2guard.Options) (string, *h2guard.Listener, chan net.Conn) {
	conns := make(chan net.Conn, 100)
	var guard *h2guard.Listener
	addr := serve(t, handler(bigHeaders), func(ln net.Listener) net.Listener {
		guard = h2guard.NewListener(coalesce.NewListener(ln, coalesce.Options{PassThrough: passThrough}), opts)
		return acceptedConns{guard, conns}
	})
	return addr, guard, conns
}

// roundResult is what a client saw on one connection.
type roundResult struct {
	violations []error // frames inside a header block
	goAways    []uint32
	midway     bool // a GOAWAY came while responses were still arriving
	blocks     int  // header blocks that ended before the first GOAWAY
}

// readRound reads the server's frames until every one of streams responses
// ended and a GOAWAY came, or the connection's end.
func readRound(r *bufio.Reader, streams int) roundResult {
	var res roundResult
	open, ended := false, 0
	for ended < streams || len(res.goAways) == 0 {
		f, err := h2frame.Read(r)
		if err != nil {
			break
		}
		if open, err = headerBlockError(f, open); err != nil {
			res.violations = append(res.violations, err)
		}
		if !open && len(res.goAways) == 0 && (f.Type == h2frame.Headers || f.Type == h2frame.Continuation) {
			res.blocks++
		}
		if _, code, _, ok := f.GoAwayFields(); ok {
			res.goAways = append(res.goAways, code)
			res.midway = res.midway || ended < streams
		}
		if f.Flags&h2frame.EndStream != 0 && (f.Type == h2frame.Data || f.Type == h2frame.Headers) {
			ended++
		}
	}
	return res
}

// TestGoAwayNeverSplitsAHeaderBlock has the server answer many streams with
// 20 KB of headers (HEADERS and CONTINUATION frames) while the guard
// injects its GOAWAY: the graceful shutdown's first GOAWAY (GoAway, at
// staggered moments), and GOAWAY ENHANCE_YOUR_CALM (a PING flood, sent at
// staggered moments, tripping the budget). The client parses every frame
// it receives: none may sit between HEADERS and its last CONTINUATION
// (RFC 9113 §6.10).
//
// The flood's client grants no flow-control window
// (SETTINGS_INITIAL_WINDOW_SIZE 0): net/http writes every answer's header
// block, but no stream can end (its body waits on the window), so the
// GOAWAY always comes among the responses, as it must in every round. With
// a window, the streams often all ended before the budget tripped (0 to 8
// rounds of 30 had it among them), and the test could only log it.
func TestGoAwayNeverSplitsAHeaderBlock(t *testing.T) {
	t.Parallel()
	const rounds, streams = 30, 20
	for _, writes := range []string{"coalescing", "pass-through"} {
		for _, kind := range []string{"drain", "flood"} {
			t.Run(writes+"/"+kind, func(t *testing.T) {
				t.Parallel()
				addr, guard, conns := guarded(t, writes == "pass-through", h2guard.Options{MaxCheapFrames: 10})
				midway, amidBlocks := 0, 0
				for round := range rounds {
					c, r := dial(t, addr)
					w := bufio.NewWriter(c)
					if kind == "flood" {
						_ = h2frame.Write(w, h2frame.Settings, 0, 0, []byte{0, 4, 0, 0, 0, 0}) // INITIAL_WINDOW_SIZE 0
					}
					for i := range streams {
						_ = h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders|h2frame.EndStream, uint32(2*i+1), getBlock(addr))
					}
					assert.NoError(t, w.Flush(), "requests")
					server := <-conns
					stagger := time.Duration(round%10) * 200 * time.Microsecond
					go func() {
						time.Sleep(stagger)
						if kind == "drain" {
							// Once net/http has read the preface, GoAway finds
							// an HTTP/2 connection.
							for i := 0; i < 10_000 && !h2guard.GoAway(server); i++ {
								time.Sleep(100 * time.Microsecond)
							}
							return
						}
						for range 1000 { // 210 are allowed: 10, and 10 per HEADERS
							if h2frame.Write(w, h2frame.Ping, 0, 0, make([]byte, 8)) != nil {
								return
							}
						}
						_ = w.Flush()
					}()
					res := readRound(r, streams)
					for _, err := range res.violations {
						t.Errorf("round %d: %v", round, err)
					}
					want := uint32(0) // NO_ERROR
					if kind == "flood" {
						want = 0xb // ENHANCE_YOUR_CALM
					}
					came := len(res.goAways) > 0 && res.goAways[len(res.goAways)-1] == want
					assert.True(t, came, "the guard's GOAWAY came")
					if res.midway {
						midway++
					}
					if len(res.goAways) > 0 && res.blocks < streams {
						amidBlocks++
					}
					c.Close()
				}
				t.Logf("%d of %d GOAWAYs came while responses were still being written, %d before every header block was",
					midway, rounds, amidBlocks)
				// The drain's, asked for at staggered moments, comes among
				// the responses in some rounds; the flood's in every one,
				// its streams held open by the window.
				if kind == "drain" {
					assert.True(t, midway > 0, "a GOAWAY came among the responses")
				} else {
					assert.Equal(t, midway, rounds, "rounds whose GOAWAY came among the responses")
				}
				if kind == "drain" {
					assert.Equal(t, guard.Stats(), h2guard.Stats{Notices: rounds}, "the listener's counters")
				} else {
					assert.Equal(t, guard.Stats(), h2guard.Stats{Floods: rounds}, "the listener's counters")
				}
			})
		}
	}
}
