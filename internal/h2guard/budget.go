package h2guard

import "time"

// window is the period over which a budget counts frames.
const window = 10 * time.Second

// budget counts, per window, the cheap frames a peer sends (empty DATA
// frames that do not end a stream, SETTINGS and PING that are not
// acknowledgements, WINDOW_UPDATE, PRIORITY, empty CONTINUATION, unknown
// types) and its stream resets, against the frames that carry work (HEADERS,
// DATA with payload). It trips when a window holds more cheap frames than
// max plus ten per frame of work, or more resets than max/10 plus half the
// HEADERS frames (a rapid reset: streams opened only to be cancelled).
type budget struct {
	in          scanner // the peer's frames, past the preface
	max         int
	windowStart time.Time
	cheap, work int
	resets      int
	headers     int
	lastStream  uint32 // highest stream whose header block the peer completed
	tripped     string // why, once tripped
}

func newBudget(max int) *budget {
	return &budget{max: max, in: scanner{skip: len(preface)}}
}

// feed scans bytes the peer sent, read at now, and reports whether the
// budget has tripped.
func (b *budget) feed(p []byte, now time.Time) bool {
	if b.tripped != "" {
		return true
	}
	b.in.feed(p, func(h header) {
		if now.Sub(b.windowStart) > window {
			b.windowStart, b.cheap, b.work, b.resets, b.headers = now, 0, 0, 0, 0
		}
		switch {
		case h.typ == frameHeaders:
			b.work++
			b.headers++
		case h.typ == frameData && (h.length > 0 || h.flags&flagEndStream != 0):
			b.work++
		case h.typ == frameRSTStream:
			b.resets++
		case (h.typ == frameSettings || h.typ == framePing) && h.flags&flagAck != 0:
		case h.typ == frameGoAway:
		case h.typ == frameContinuation && h.length > 0:
		default:
			b.cheap++
		}
		// A stream counts as one net/http may have processed once its
		// header block is whole.
		if (h.typ == frameHeaders || h.typ == frameContinuation) && !b.in.inBlock {
			b.lastStream = max(b.lastStream, b.in.blockStream)
		}
		switch {
		case b.cheap > b.max+10*b.work:
			b.tripped = "too many frames without payload"
		case b.resets > b.max/10+b.headers/2:
			b.tripped = "too many stream resets"
		}
	})
	return b.tripped != ""
}
