package h2guard

import (
	"sync/atomic"
	"time"
)

// window is the period over which a budget counts frames.
const window = 10 * time.Second

// Costs and credits are counted in 1/unit of a cheap frame.
const unit = 1 << 10

// fullData is how many bytes of data make a DATA frame work rather than
// cheap: a frame with less costs net/http about as much as one with none.
// A DATA frame with some data, but less, costs at most 1/smallShare of a
// cheap frame, the share falling as its data grows: a stream of small
// messages sends one such frame per message, and each message is work for
// the handler, while a message sent a byte a frame costs as many frames as
// it has bytes.
const (
	fullData   = 64
	smallShare = 32
)

// minResetAge is how young a stream must be, from its HEADERS to its
// RST_STREAM as the guard reads them, for the peer's reset of it to count
// as a stream reset (a rapid reset: HEADERS and RST_STREAM sent together,
// read microseconds apart). A client that cancels a call at its deadline,
// or because its user went away, resets a stream that has lived as long as
// that deadline: such a reset costs a cheap frame, as a RST_STREAM of a
// closed stream does. Streams that must live minResetAge each are no
// flood: net/http runs at most SETTINGS_MAX_CONCURRENT_STREAMS of them at
// once, so a connection resets at most that many per minResetAge, no more
// than it could open calls it lets run, which the in-flight limit and the
// per-connection share bound. Under overload a client's deadlines pass
// while the server queues its calls, and grpc-go and connect-go clients
// then reset most of a connection's streams (RST_STREAM CANCEL): counted,
// they went over the reset budget and the well-behaved client was cut.
//
// A stream that net/http has answered (written a HEADERS frame on) before
// its reset is read is no rapid reset either, however young: its client
// waited for the server's answer, as any client of calls does, and a
// connection cannot reset such streams faster than the server answers
// them. So a client with deadlines shorter than minResetAge (2 ms) that
// cancels streams the server already answered, a server stream's first
// reply sent, is not cut; one that resets before any answer still counts.
// The guard cannot know a stream's deadline itself (grpc-timeout and
// Connect-Timeout-Ms are HPACK-coded; decoding them would need the whole
// connection's dynamic table), and a deadline the client declares would
// excuse nothing: a rapid reset would declare 1 ns.
const minResetAge = 10 * time.Millisecond

// maxYoung bounds the streams a budget remembers as young: past it, the
// oldest are forgotten (their resets cost a cheap frame). net/http refuses
// streams past its concurrency limit with RST_STREAM, which counts, so a
// peer cannot open this many at once to push a stream out unnoticed.
const maxYoung = 1024

// maxGoAways is how many GOAWAY frames a peer may send on a connection: one
// or two for a graceful close (RFC 9113 §6.8). net/http logs each one that
// carries an error code.
const maxGoAways = 8

// sent counts what net/http wrote on a connection that the budget weighs:
// the DATA frames (a peer's WINDOW_UPDATE and PING frames answer them) and
// the streams it reset for the peer's errors (the "MadeYouReset" pattern:
// frames that are cheap to send but make the server end a stream, which
// costs as much as a stream reset by the peer), and the streams it
// answered (a HEADERS frame) while young. The writing goroutine counts and
// marks; the reading one reads.
type sent struct {
	data, resets atomic.Int64
	young        youngStreams // the peer's young streams, and which net/http answered
}

// frame counts one frame that net/http wrote.
func (s *sent) frame(h header) {
	switch {
	case h.typ == frameData:
		s.data.Add(1)
	case h.typ == frameHeaders:
		s.young.answer(h.stream)
	case h.typ == frameRSTStream && h.length >= 4 && peerCaused(h.code()):
		s.resets.Add(1)
	}
}

// peerCaused reports whether net/http resets a stream with code for
// something its peer sent: every code but NO_ERROR (the handler answered
// without reading the whole request), INTERNAL_ERROR (the handler
// panicked) and CANCEL.
func peerCaused(code uint32) bool {
	return code != codeNoError && code != codeInternalError && code != codeCancel
}

// budget weighs, per window, what a peer's frames cost net/http against the
// work they carry. Cheap frames cost a unit each: SETTINGS, PING and their
// acknowledgements, WINDOW_UPDATE, PRIORITY, GOAWAY, empty CONTINUATION,
// unknown types, and DATA frames with no data (empty, or padding only) that
// do not end a stream; a DATA frame with less than fullData bytes of data
// costs a fraction of one. Work earns ten units: each HEADERS frame, each
// DATA frame that net/http sent (which the peer's flow control and pings
// answer), and each DATA frame of the peer's with data, in proportion up to
// fullData*10 bytes. The budget trips when a window's cost goes over max
// units plus the credit, when its stream resets (the peer's and those its
// errors made net/http send) go over max/10 plus half the HEADERS frames (a
// rapid reset: streams opened only to be cancelled), or at the connection's
// (maxGoAways+1)th GOAWAY. A reset of the peer's counts as a stream reset
// only if the stream is younger than minResetAge and net/http has not
// answered it (youngStreams); any other costs a unit, as a cheap frame.
type budget struct {
	in           scanner // the peer's frames, past the preface
	max          int
	sent         *sent
	windowStart  time.Time
	cost, credit int64
	resets       int64
	headers      int64
	sentBase     [2]int64 // sent's counts at the window's start
	goAways      int
	lastStream   uint32 // highest stream whose header block the peer completed
	opened       uint32 // highest stream the peer opened
	tripped      string // why, once tripped
	noticeAcked  bool   // the peer acknowledged the PING that follows the notice
}

func newBudget(max int, s *sent) *budget {
	return &budget{max: max, sent: s, in: scanner{skip: len(preface)}}
}

// feed scans bytes the peer sent, read at now, and reports whether the
// budget has tripped.
func (b *budget) feed(p []byte, now time.Time) bool {
	if b.tripped != "" {
		return true
	}
	b.in.feed(p, func(h header) {
		if now.Sub(b.windowStart) > window {
			b.windowStart, b.cost, b.credit, b.resets, b.headers = now, 0, 0, 0, 0
			b.sentBase = [2]int64{b.sent.data.Load(), b.sent.resets.Load()}
		}
		b.weigh(h, now)
		if h.typ == framePing && h.flags&flagAck != 0 && h.length == 8 && h.head == noticePing {
			b.noticeAcked = true
		}
		// A stream counts as one net/http may have processed once its
		// header block is whole.
		if (h.typ == frameHeaders || h.typ == frameContinuation) && !b.in.inBlock {
			b.lastStream = max(b.lastStream, b.in.blockStream)
		}
		sentData := b.sent.data.Load() - b.sentBase[0]
		sentResets := b.sent.resets.Load() - b.sentBase[1]
		switch {
		case b.cost > int64(b.max)*unit+b.credit+10*unit*sentData:
			b.tripped = "too many frames without payload"
		case b.resets+sentResets > int64(b.max/10)+b.headers/2:
			b.tripped = "too many stream resets"
		case b.goAways > maxGoAways:
			b.tripped = "too many GOAWAY frames"
		}
	})
	return b.tripped != ""
}

// weigh adds the cost or credit of one frame of the peer's, read at now.
func (b *budget) weigh(h header, now time.Time) {
	switch h.typ {
	case frameHeaders:
		b.credit += 10 * unit
		b.headers++
		if h.stream > b.opened {
			b.opened = h.stream
			b.sent.young.open(h.stream, now)
		}
	case frameData:
		switch d := h.data(); {
		case d >= fullData:
			b.credit += min(10*unit, int64(d)*unit/fullData)
		case d > 0:
			b.cost += int64(fullData-d) * unit / (fullData * smallShare)
		case h.flags&flagEndStream == 0:
			b.cost += unit
		}
	case frameRSTStream:
		if b.sent.young.rapid(h.stream, now) {
			b.resets++
		} else {
			b.cost += unit
		}
	case frameContinuation:
		if h.length == 0 {
			b.cost += unit
		}
	case frameGoAway:
		b.goAways++
		b.cost += unit
	default:
		b.cost += unit
	}
}
