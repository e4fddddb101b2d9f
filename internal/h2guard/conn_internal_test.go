package h2guard

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// fakeConn is a connection whose peer sent in, and that keeps what is
// written to it.
type fakeConn struct {
	net.Conn // nil: only the methods below are called
	in       io.Reader
	mu       sync.Mutex
	out      bytes.Buffer
}

func (f *fakeConn) Read(p []byte) (int, error) { return f.in.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.Write(p)
}
func (f *fakeConn) Close() error                     { return nil }
func (f *fakeConn) CloseWrite() error                { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// frames returns what was written, as frames (a short label each).
func (f *fakeConn) frames(t *testing.T) []string {
	t.Helper()
	f.mu.Lock()
	r := bytes.NewReader(bytes.Clone(f.out.Bytes()))
	f.mu.Unlock()
	var labels []string
	for r.Len() > 0 {
		fr, err := h2frame.Read(r)
		assert.NoError(t, err, "what was written parses as frames")
		labels = append(labels, label(fr))
	}
	return labels
}

func label(f h2frame.Frame) string {
	if last, code, debug, ok := f.GoAwayFields(); ok {
		return fmt.Sprintf("GOAWAY %d %d %s", last, code, debug)
	}
	name := map[byte]string{h2frame.Data: "DATA", h2frame.Headers: "HEADERS", h2frame.Settings: "SETTINGS",
		h2frame.Continuation: "CONTINUATION", h2frame.PushPromise: "PUSH_PROMISE", h2frame.Ping: "PING"}[f.Type]
	if f.Flags&h2frame.EndHeaders != 0 && f.Type != h2frame.Data {
		name += "+END_HEADERS"
	}
	return name
}

// frame returns one encoded frame.
func frame(typ, flags byte, stream uint32, payload []byte) []byte {
	var b bytes.Buffer
	_ = h2frame.Write(&b, typ, flags, stream, payload)
	return b.Bytes()
}

func goAway(last, code uint32) []byte {
	p := binary.BigEndian.AppendUint32(nil, last)
	return frame(h2frame.GoAway, 0, 0, binary.BigEndian.AppendUint32(p, code))
}

// opened returns a guarded connection of l whose peer sent the preface,
// SETTINGS and then peer, read up to the preface and SETTINGS (Read once
// more to read peer).
func opened(t *testing.T, l *Listener, peer []byte) (*conn, *fakeConn) {
	t.Helper()
	in := append([]byte(h2frame.Preface), frame(h2frame.Settings, 0, 0, nil)...)
	fake := &fakeConn{in: io.MultiReader(bytes.NewReader(in), bytes.NewReader(peer))}
	c := newConn(fake, l)
	_, err := io.ReadFull(c, make([]byte, len(in)))
	assert.NoError(t, err, "read the preface and SETTINGS")
	assert.True(t, IsHTTP2(c), "an HTTP/2 connection")
	return c, fake
}

// TestGoAwayGoesWhereAFrameMayGo writes net/http's frames in pieces, asks
// for the GOAWAY after each piece in turn, and checks where it went (with
// the PING that follows it): after the first frame, between two frames,
// never inside one or inside a header block.
func TestGoAwayGoesWhereAFrameMayGo(t *testing.T) {
	t.Parallel()
	data := frame(h2frame.Data, 0, 1, make([]byte, 100))
	writes := [][]byte{
		frame(h2frame.Settings, 0, 0, nil)[:4], // the server's SETTINGS, in two Writes
		frame(h2frame.Settings, 0, 0, nil)[4:],
		frame(h2frame.Headers, 0, 1, make([]byte, 50)), // a header block in three frames
		frame(h2frame.Continuation, 0, 1, make([]byte, 50))[:20],
		frame(h2frame.Continuation, 0, 1, make([]byte, 50))[20:],
		frame(h2frame.Continuation, h2frame.EndHeaders, 1, make([]byte, 50)),
		data[:30], // a DATA frame in two Writes
		data[30:],
		frame(h2frame.PushPromise, 0, 1, make([]byte, 10)), // and a PUSH_PROMISE's block
		frame(h2frame.Continuation, h2frame.EndHeaders, 1, make([]byte, 10)),
	}
	all := []string{"SETTINGS", "HEADERS", "CONTINUATION", "CONTINUATION+END_HEADERS", "DATA", "PUSH_PROMISE", "CONTINUATION+END_HEADERS"}
	// GoAway after write i: the frame goes after frame want[i] of all.
	want := []int{0, 0, 3, 3, 3, 3, 4, 4, 6, 6}
	for i := range writes {
		l := NewListener(nil, Options{})
		c, fake := opened(t, l, nil)
		for j, w := range writes {
			_, err := c.Write(w)
			assert.NoError(t, err, "write")
			if j == i {
				assert.True(t, GoAway(c), "GoAway on an HTTP/2 connection")
				c.kick() // as GoAway's goroutine does, at once
			}
		}
		expected := append(append(append([]string{}, all[:want[i]+1]...), "GOAWAY 2147483647 0 draining", "PING"), all[want[i]+1:]...)
		assert.Equal(t, fake.frames(t), expected, fmt.Sprintf("frames with GoAway after write %d", i))
		assert.Equal(t, l.Stats(), Stats{Notices: 1}, "the listener's counters")
	}
}

// TestGoAwayAfterNetHTTPsOwnIsDropped: once net/http has sent its GOAWAY
// (with the real last stream id), the notice's 2^31-1 would raise it.
func TestGoAwayAfterNetHTTPsOwnIsDropped(t *testing.T) {
	t.Parallel()
	l := NewListener(nil, Options{})
	c, fake := opened(t, l, nil)
	for _, w := range [][]byte{frame(h2frame.Settings, 0, 0, nil), goAway(5, 0)} {
		_, err := c.Write(w)
		assert.NoError(t, err, "write")
	}
	assert.True(t, GoAway(c), "GoAway on an HTTP/2 connection")
	c.kick()
	_, err := c.Write(frame(h2frame.Ping, h2frame.Ack, 0, make([]byte, 8)))
	assert.NoError(t, err, "write")
	assert.Equal(t, fake.frames(t), []string{"SETTINGS", "GOAWAY 5 0 ", "PING"}, "frames")
	assert.Equal(t, l.Stats(), Stats{}, "the listener's counters")
}

// TestFloodEndsTheConnection: a PING flood trips the budget; Read returns
// ErrEnhanceYourCalm once GOAWAY ENHANCE_YOUR_CALM is written, with a last
// stream id that is the highest whole header block the peer sent but no
// higher than net/http's own GOAWAY's, and nothing is written after it.
func TestFloodEndsTheConnection(t *testing.T) {
	t.Parallel()
	block := make([]byte, 10)
	var peer []byte
	for _, stream := range []uint32{1, 3, 5} {
		peer = append(peer, frame(h2frame.Headers, h2frame.EndHeaders, stream, block)...)
	}
	peer = append(peer, frame(h2frame.Headers, 0, 7, block)...) // a header block left open
	for range 200 {
		peer = append(peer, frame(h2frame.Ping, 0, 0, make([]byte, 8))...)
	}
	for _, tc := range []struct {
		name    string
		netHTTP [][]byte // what net/http wrote before the flood
		want    []string
	}{
		{"alone", [][]byte{frame(h2frame.Settings, 0, 0, nil)},
			[]string{"SETTINGS", "GOAWAY 5 11 too many frames without payload"}},
		{"after net/http's GOAWAY", [][]byte{frame(h2frame.Settings, 0, 0, nil), goAway(3, 0)},
			[]string{"SETTINGS", "GOAWAY 3 0 ", "GOAWAY 3 11 too many frames without payload"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewListener(nil, Options{MaxCheapFrames: 10})
			c, fake := opened(t, l, peer)
			for _, w := range tc.netHTTP {
				_, err := c.Write(w)
				assert.NoError(t, err, "write")
			}
			var err error
			for err == nil {
				_, err = c.Read(make([]byte, 512))
			}
			assert.ErrorIs(t, err, ErrEnhanceYourCalm, "Read once the budget tripped")
			_, err = c.Write(frame(h2frame.Ping, h2frame.Ack, 0, make([]byte, 8)))
			assert.ErrorIs(t, err, ErrEnhanceYourCalm, "a Write after GOAWAY ENHANCE_YOUR_CALM")
			assert.Equal(t, fake.frames(t), tc.want, "frames")
			assert.True(t, !GoAway(c), "no notice on a connection closing for a flood")
			assert.Equal(t, l.Stats(), Stats{Floods: 1}, "the listener's counters")
		})
	}
}

// TestHTTP1PassesThrough: a connection that does not open with the whole
// preface is left alone.
func TestHTTP1PassesThrough(t *testing.T) {
	t.Parallel()
	for _, first := range []string{"GET / HTTP/1.1\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nXY\r\n\r\n"} {
		fake := &fakeConn{in: strings.NewReader(first)}
		c := newConn(fake, NewListener(nil, Options{}))
		_, err := io.ReadAll(c)
		assert.NoError(t, err, "read")
		assert.True(t, !IsHTTP2(c), "not HTTP/2: "+first)
		assert.True(t, !GoAway(c), "no GoAway: "+first)
		_, err = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
		assert.NoError(t, err, "write")
		assert.Equal(t, fake.out.String(), "HTTP/1.1 200 OK\r\n\r\n", "written as is")
	}
}

// TestScannerFollowsFramesInAnyPieces feeds the same bytes whole and one
// byte at a time.
func TestScannerFollowsFramesInAnyPieces(t *testing.T) {
	t.Parallel()
	stream := append(frame(h2frame.Headers, 0, 1, make([]byte, 30)), goAway(9, 0)...)
	stream = append(stream, frame(h2frame.Continuation, h2frame.EndHeaders, 1, nil)...)
	stream = append(stream, goAway(7, 2)...)
	var whole, bytewise scanner
	whole.feed(stream, nil)
	var betweens []bool
	for i := range stream {
		bytewise.feed(stream[i:i+1], nil)
		betweens = append(betweens, bytewise.between())
	}
	assert.Equal(t, whole, bytewise, "the scanner's state")
	assert.Equal(t, [3]any{whole.frames, whole.goAways, whole.goAwayLast}, [3]any{4, 2, uint32(7)}, "frames, GOAWAYs, lowest last stream")
	assert.True(t, whole.between(), "between frames at the end")
	var at []int // where a frame may go: after the block's last frame, and at the end
	for i, b := range betweens {
		if b {
			at = append(at, i+1)
		}
	}
	endOfBlock := len(stream) - len(goAway(7, 2))
	assert.Equal(t, at, []int{endOfBlock, len(stream)}, "places between frames outside the header block")
}

// TestBudgetCountsWork feeds the budget (default size) each pattern of
// frames, a unit at a time, up to 100,000 units: a flood must trip it within
// a bound of frames, whatever kind of frame it repeats; what well-behaved
// clients send must never trip it.
// cancel is a RST_STREAM CANCEL of stream.
func cancel(stream uint32) []byte { return frame(h2frame.RSTStream, 0, stream, []byte{0, 0, 0, 8}) }

// cancelOlder cancels, in the ith unit of a table of TestBudgetCountsWork
// whose units each open stream 2i+1, the stream opened k units before
// (nothing while there is none).
func cancelOlder(i, k int) []byte {
	if i < k {
		return nil
	}
	return cancel(uint32(2*(i-k) + 1))
}

func TestBudgetCountsWork(t *testing.T) {
	t.Parallel()
	headers := func(id uint32) []byte { return frame(h2frame.Headers, h2frame.EndHeaders, id, make([]byte, 20)) }
	data := func(n int) []byte { return frame(h2frame.Data, 0, 1, make([]byte, n)) }
	windowUpdate := frame(h2frame.WindowUpdate, 0, 0, []byte{0, 0, 0, 1})
	ping := frame(h2frame.Ping, 0, 0, make([]byte, 8))
	for _, tc := range []struct {
		name string
		unit func(i int) []byte // the peer's frames
		// reply is what net/http writes after each unit (nil: nothing).
		reply func(i int) []byte
		// maxFrames is the most frames the budget may take before it trips;
		// 0: it must not trip.
		maxFrames int
		// every is how far apart the units are read (0: all at once).
		every time.Duration
	}{
		{"PING", func(int) []byte { return ping }, nil, 1_100, 0},
		{"PING ACK", func(int) []byte { return frame(h2frame.Ping, h2frame.Ack, 0, make([]byte, 8)) }, nil, 1_100, 0},
		{"SETTINGS ACK", func(int) []byte { return frame(h2frame.Settings, h2frame.Ack, 0, nil) }, nil, 1_100, 0},
		{"padding-only DATA", func(int) []byte {
			return frame(h2frame.Data, flagPadded, 1, append([]byte{199}, make([]byte, 199)...))
		}, nil, 1_100, 0},
		{"1-byte DATA", func(int) []byte { return data(1) }, nil, 40_000, 0},
		{"9 WINDOW_UPDATEs per 1-byte DATA", func(int) []byte {
			return append(data(1), bytes.Repeat(windowUpdate, 9)...)
		}, nil, 1_200, 0},
		{"GOAWAY", func(int) []byte { return goAway(0, 2) }, nil, maxGoAways + 1, 0},
		{"WINDOW_UPDATE(0) the server resets", func(i int) []byte {
			return append(headers(uint32(2*i+1)), frame(h2frame.WindowUpdate, 0, uint32(2*i+1), []byte{0, 0, 0, 0})...)
		}, func(i int) []byte {
			return frame(h2frame.RSTStream, 0, uint32(2*i+1), []byte{0, 0, 0, 1}) // PROTOCOL_ERROR
		}, 500, 0},
		{"DATA on a stream the server closed", func(int) []byte { return data(100) }, func(int) []byte {
			return frame(h2frame.RSTStream, 0, 1, []byte{0, 0, 0, 5}) // STREAM_CLOSED
		}, 200, 0},
		// What clients send.
		{"a stream of 10,000 small messages", func(i int) []byte {
			if i == 0 {
				return headers(1)
			}
			return data(11) // "eric" in a gRPC envelope
		}, nil, 0, 0},
		{"a stream of 10,000 empty messages", func(i int) []byte {
			if i == 0 {
				return headers(1)
			}
			return data(5) // an envelope's prefix alone
		}, nil, 0, 0},
		{"an upload in 16 KiB frames with a WINDOW_UPDATE and a PING each", func(int) []byte {
			return append(append(data(16<<10), windowUpdate...), ping...)
		}, nil, 0, 0},
		{"a bidi stream of small messages with a PING and two WINDOW_UPDATEs per reply", func(i int) []byte {
			return append(append(append(data(11), ping...), windowUpdate...), windowUpdate...)
		}, func(int) []byte { return data(17) }, 0, 0},
		{"calls answered before their body was read", func(i int) []byte {
			return append(headers(uint32(2*i+1)), frame(h2frame.Data, h2frame.EndStream, uint32(2*i+1), make([]byte, 100))...)
		}, func(i int) []byte { return frame(h2frame.RSTStream, 0, uint32(2*i+1), []byte{0, 0, 0, 0}) }, 0, 0},
		// Resets by age: a stream reset at once, or younger than
		// minResetAge, is a rapid reset; one that lived as long as a
		// client's deadline is not, and costs a cheap frame.
		{"rapid reset (HEADERS and RST_STREAM together)", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancel(uint32(2*i+1))...)
		}, nil, 500, time.Millisecond},
		{"streams reset 5 ms after they opened", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancelOlder(i, 5)...)
		}, nil, 500, time.Millisecond},
		{"calls cancelled at a 20 ms deadline, 32 at once", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancelOlder(i, 32)...)
		}, nil, 0, 625 * time.Microsecond},
		{"every call cancelled at a 100 ms deadline", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancelOlder(i, 100)...)
		}, nil, 0, time.Millisecond},
		// A stream that net/http answered (HEADERS) before its reset is
		// no rapid reset, however young; one answered after is.
		{"calls cancelled at a 2 ms deadline after their answer's HEADERS", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancelOlder(i, 2)...)
		}, func(i int) []byte {
			return frame(h2frame.Headers, h2frame.EndHeaders, uint32(2*i+1), make([]byte, 10))
		}, 0, time.Millisecond},
		{"rapid reset answered after the reset", func(i int) []byte {
			return append(headers(uint32(2*i+1)), cancel(uint32(2*i+1))...)
		}, func(i int) []byte {
			return frame(h2frame.Headers, h2frame.EndHeaders, uint32(2*i+1), make([]byte, 10))
		}, 500, time.Millisecond},
		{"RST_STREAM of a stream long closed", func(int) []byte { return cancel(1) }, nil, 1_100, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s sent
			b := newBudget(DefaultMaxCheapFrames, &s)
			b.feed([]byte(preface), time.Time{})
			var out scanner
			frames, units := 0, 10_000
			if tc.maxFrames > 0 {
				units = 100_000
			}
			now := time.Now() // one window: the budget never resets
			if tc.every > 0 {
				units = min(units, int(window/tc.every)-1)
			}
			for i := range units {
				now = now.Add(tc.every)
				p := tc.unit(i)
				var r scanner
				r.feed(p, nil)
				frames += r.frames
				if b.feed(p, now) {
					break
				}
				if tc.reply != nil {
					out.feed(tc.reply(i), s.frame)
				}
			}
			t.Logf("%d frames, tripped: %q", frames, b.tripped)
			if tc.maxFrames == 0 {
				assert.Equal(t, b.tripped, "", "the budget did not trip")
				return
			}
			assert.True(t, b.tripped != "", "the budget tripped")
			assert.True(t, frames <= tc.maxFrames, fmt.Sprintf("tripped within %d frames (took %d)", tc.maxFrames, frames))
		})
	}
}

// TestNoticeReadOnlyOnTheNoticesPingAck: the peer has read the first GOAWAY
// once it acknowledges the PING sent after it, not on another PING ACK.
func TestNoticeReadOnlyOnTheNoticesPingAck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		payload [8]byte
		flags   byte
		want    bool
	}{
		{"the notice's PING ACK", noticePing, h2frame.Ack, true},
		{"another PING ACK", [8]byte{1, 2, 3, 4, 5, 6, 7, 8}, h2frame.Ack, false},
		{"a PING with the notice's payload, not an ACK", noticePing, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := NewListener(nil, Options{})
			c, _ := opened(t, l, frame(h2frame.Ping, tc.flags, 0, tc.payload[:]))
			assert.True(t, !NoticeRead(c), "NoticeRead before the peer's frame")
			_, err := io.ReadFull(c, make([]byte, 9+8))
			assert.NoError(t, err, "read the PING")
			assert.Equal(t, NoticeRead(c), tc.want, "NoticeRead")
		})
	}
}
