package h2guard_test

// Each test here pins one behaviour of net/http's HTTP/2 server that the
// guard relies on (the list is in the package doc): they run net/http
// alone, without the guard, so that a Go release that changes one of them
// fails here, by name, rather than somewhere in the guard's own tests.

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

func hello(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") }

// 1. net/http writes nothing before it has read the whole client preface,
// and then writes its SETTINGS frame first.
func TestNetHTTPReadsTheWholePrefaceBeforeItWrites(t *testing.T) {
	t.Parallel()
	var rl *recordingListener
	addr := serve(t, handler(hello), func(ln net.Listener) net.Listener {
		rl = newRecordingListener(ln)
		return rl
	})
	c, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	defer c.Close()
	_, err = io.WriteString(c, h2frame.Preface[:len(h2frame.Preface)-1])
	assert.NoError(t, err, "all of the preface but its last byte")
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err = c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "the server wrote nothing before the preface was whole")
	_, err = io.WriteString(c, h2frame.Preface[len(h2frame.Preface)-1:]+"\x00\x00\x00\x04\x00\x00\x00\x00\x00") // then SETTINGS
	assert.NoError(t, err, "the preface's last byte")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	f, err := h2frame.Read(bufio.NewReader(c))
	assert.NoError(t, err, "the server's first frame")
	assert.Equal(t, [3]any{f.Type, f.Flags & h2frame.Ack, f.Stream}, [3]any{h2frame.Settings, byte(0), uint32(0)}, "the first frame is the server's SETTINGS")
	rc := <-rl.conns
	rc.mu.Lock()
	defer rc.mu.Unlock()
	assert.True(t, rc.firstWriteAt >= int64(len(h2frame.Preface)), "the preface was read before the first write")
}

// 2. net/http serves a connection as HTTP/2 only if it opens with the whole
// client preface; one that opens with its first line and then something
// else gets an HTTP/1.1 answer.
func TestNetHTTPTakesOnlyTheWholePrefaceForHTTP2(t *testing.T) {
	t.Parallel()
	addr := serve(t, handler(hello), plain)
	c, err := net.Dial("tcp", addr)
	assert.NoError(t, err, "dial")
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	_, err = io.WriteString(c, "PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
	assert.NoError(t, err, "a preface with a wrong second part")
	got, _ := io.ReadAll(c) // whatever the server says, until it closes
	t.Logf("the server answered %q", got)
	assert.True(t, bytes.HasPrefix(got, []byte("HTTP/1.1 ")), "an HTTP/1.1 answer, no SETTINGS frame, for a wrong preface")
}

// 3. net/http writes only whole frames, one Write at a time on a
// connection, however many streams are busy: frames may span Writes, but no
// two Writes interleave.
func TestNetHTTPWritesFramesOneWriteAtATime(t *testing.T) {
	t.Parallel()
	var rl *recordingListener
	addr := serve(t, handler(func(w http.ResponseWriter, r *http.Request) {
		for range 5 {
			_, _ = w.Write(make([]byte, 3000))
			w.(http.Flusher).Flush()
		}
	}), func(ln net.Listener) net.Listener {
		rl = newRecordingListener(ln)
		return rl
	})
	client := h2cClient(t)
	errs := make(chan error, 100)
	for range 100 {
		go func() {
			res, err := client.Get("http://" + addr + "/")
			if err == nil {
				_, err = io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
			errs <- err
		}()
	}
	for range 100 {
		assert.NoError(t, <-errs, "GET")
	}
	frames, data, conns := 0, 0, len(rl.conns)
	for range conns { // the client may have opened more than one
		rc := <-rl.conns
		written, err := rc.writtenFrames()
		assert.NoError(t, err, "what the server wrote parses as whole frames")
		for _, f := range written {
			assert.True(t, f.Type <= h2frame.Continuation, "a known frame type: "+f.String())
			if f.Type == h2frame.Data {
				data += len(f.Payload)
			}
		}
		frames += len(written)
		assert.True(t, rc.maxInWrite.Load() <= 1, "one Write in progress at a time on a connection")
	}
	t.Logf("%d connections, %d frames, %d bytes of DATA", conns, frames, data)
	assert.Equal(t, data, 100*5*3000, "every byte of every body, in DATA frames")
}

// 4. net/http sends a header block larger than a frame as HEADERS without
// END_HEADERS followed at once by CONTINUATION frames, the last with
// END_HEADERS, and puts none of its own frames between them.
func TestNetHTTPSplitsLargeHeaderBlocksIntoContinuation(t *testing.T) {
	t.Parallel()
	addr := serve(t, handler(bigHeaders), plain)
	c, r := dial(t, addr)
	const streams = 20
	for i := range streams {
		assert.NoError(t, h2frame.Write(c, h2frame.Headers, h2frame.EndHeaders|h2frame.EndStream, uint32(2*i+1), getBlock(addr)), "HEADERS")
	}
	open, continuations, ended := false, 0, 0
	for ended < streams {
		f, err := h2frame.Read(r)
		assert.NoError(t, err, "a frame")
		if f.Type == h2frame.Headers {
			assert.True(t, f.Flags&h2frame.EndHeaders == 0, "a 20 KB header block does not fit in its HEADERS frame")
		}
		if f.Type == h2frame.Continuation {
			continuations++
		}
		open, err = headerBlockError(f, open)
		assert.NoError(t, err, "frames between HEADERS and CONTINUATION")
		if f.Flags&h2frame.EndStream != 0 && (f.Type == h2frame.Data || f.Type == h2frame.Headers) {
			ended++
		}
	}
	t.Logf("%d responses took %d CONTINUATION frames", streams, continuations)
	assert.True(t, continuations >= streams, "CONTINUATION frames")
}

// 5. At Shutdown, net/http sends one GOAWAY NO_ERROR whose last stream id is
// the highest stream it has seen: not first the 2^31-1 of RFC 9113 §6.8's
// two-step shutdown, which is why GoAway sends that one.
func TestNetHTTPShutdownSendsOneGoAwayWithItsLastStream(t *testing.T) {
	t.Parallel()
	srv := handler(hello)
	addr := serve(t, srv, plain)
	c, r := dial(t, addr)
	assert.NoError(t, h2frame.Write(c, h2frame.Headers, h2frame.EndHeaders|h2frame.EndStream, 3, getBlock(addr)), "HEADERS")
	for {
		f, err := h2frame.Read(r)
		assert.NoError(t, err, "a frame of the response")
		if f.Stream == 3 && f.Flags&h2frame.EndStream != 0 {
			break
		}
	}
	go func() { _ = srv.Shutdown(t.Context()) }()
	var goAways [][2]uint32
	for {
		f, err := h2frame.Read(r)
		if err != nil {
			break // closed
		}
		if last, code, _, ok := f.GoAwayFields(); ok {
			goAways = append(goAways, [2]uint32{last, code})
		}
	}
	assert.Equal(t, goAways, [][2]uint32{{3, 0}}, "GOAWAY frames (last stream, code) at Shutdown")
}

// 6. When Read of a connection fails with an error of its own (the guard's
// ErrEnhanceYourCalm), net/http reads no more and closes the connection.
func TestNetHTTPClosesAfterAReadError(t *testing.T) {
	t.Parallel()
	var rl *recordingListener
	addr := serve(t, handler(hello), func(ln net.Listener) net.Listener {
		rl = newRecordingListener(ln)
		rl.failRead = errors.New("the guard says no")
		rl.failReadAfter = int64(len(h2frame.Preface) + 9) // the preface and a SETTINGS frame
		return rl
	})
	dial(t, addr)
	rc := <-rl.conns
	select {
	case <-rc.closed:
	case <-time.After(20 * time.Second):
		t.Fatal("net/http did not close the connection after its Read failed")
	}
	assert.Equal(t, rc.readsAfter.Load(), int64(1), "Reads after and including the failed one")
}

// 7. net/http hands ConnState the very net.Conn the listener's Accept
// returned (so that GoAway, given it, finds the guarded connection).
func TestNetHTTPGivesConnStateTheAcceptedConn(t *testing.T) {
	t.Parallel()
	var rl *recordingListener
	seen := make(chan net.Conn, 10)
	srv := handler(hello)
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateActive {
			seen <- c
		}
	}
	addr := serve(t, srv, func(ln net.Listener) net.Listener {
		rl = newRecordingListener(ln)
		return rl
	})
	res, err := h2cClient(t).Get("http://" + addr + "/")
	assert.NoError(t, err, "GET")
	res.Body.Close()
	rc := <-rl.conns
	assert.True(t, <-seen == net.Conn(rc), "ConnState got the accepted conn")
}

// 8. net/http has no budget of its own for cheap frames: 20,000 PINGs
// whose ACKs the client reads leave the connection open. The guard exists
// for this; should net/http gain its own limit, the guard's budgets need a
// look (they must trip first for the flood tests to hold).
func TestNetHTTPHasNoBudgetForCheapFrames(t *testing.T) {
	t.Parallel()
	addr := serve(t, handler(hello), plain)
	c, r := dial(t, addr)
	const pings = 20_000
	go func() {
		w := bufio.NewWriter(c)
		for range pings {
			if h2frame.Write(w, h2frame.Ping, 0, 0, make([]byte, 8)) != nil {
				return
			}
		}
		_ = w.Flush()
	}()
	acks := 0
	for acks < pings {
		f, err := h2frame.Read(r)
		assert.NoError(t, err, "a frame")
		if _, code, debug, ok := f.GoAwayFields(); ok {
			t.Fatalf("GOAWAY code %d %q after %d PING ACKs", code, debug, acks)
		}
		if f.Type == h2frame.Ping && f.Flags&h2frame.Ack != 0 {
			acks++
		}
	}
	assert.Equal(t, acks, pings, "PING ACKs")
}
