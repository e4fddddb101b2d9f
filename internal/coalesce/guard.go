package coalesce

import (
	"encoding/binary"
	"errors"
	"time"
)

// HTTP/2 frame types and flags that the guard looks at (RFC 9113 §6).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	framePriority     = 0x2
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9

	flagEndStream = 0x1
	flagAck       = 0x1

	errEnhanceYourCalm = 0xb
	guardWindow        = 10 * time.Second
	prefaceLen         = 24 // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
)

// ErrEnhanceYourCalm is what a guarded connection's Read returns once its
// peer has sent too many cheap frames; the connection then closes with
// GOAWAY ENHANCE_YOUR_CALM.
var ErrEnhanceYourCalm = errors.New("coalesce: HTTP/2 peer flooded the connection with cheap frames (ENHANCE_YOUR_CALM)")

// frameScanner follows the HTTP/2 frames of one direction of a connection as
// its bytes pass, without copying them: it knows where each frame starts.
type frameScanner struct {
	skip   int     // bytes of the current frame's payload (or the preface) still to pass
	hdr    [9]byte // the frame header being read
	hdrN   int
	frames int // frame headers passed
}

// feed passes p, calling onFrame with each frame header that completes.
func (s *frameScanner) feed(p []byte, onFrame func(length int, typ, flags byte, stream uint32)) {
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(p))
			s.skip -= n
			p = p[n:]
			continue
		}
		n := copy(s.hdr[s.hdrN:], p)
		s.hdrN += n
		p = p[n:]
		if s.hdrN < len(s.hdr) {
			return
		}
		s.hdrN = 0
		s.frames++
		length := int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2])
		s.skip = length
		if onFrame != nil {
			onFrame(length, s.hdr[3], s.hdr[4], binary.BigEndian.Uint32(s.hdr[5:])&(1<<31-1))
		}
	}
}

// atBoundary reports whether the bytes passed so far end on a frame boundary.
func (s *frameScanner) atBoundary() bool { return s.skip == 0 && s.hdrN == 0 }

// guard counts, per window of guardWindow, the cheap frames a peer sends
// (empty DATA frames that do not end a stream, SETTINGS and PING that are
// not acknowledgements, WINDOW_UPDATE, PRIORITY, empty CONTINUATION, unknown
// types) and its stream resets, against the frames that carry work (HEADERS,
// DATA with payload). It trips when a window holds more cheap frames than
// Options.MaxCheapFrames plus ten per frame of work, or more resets than
// Options.MaxCheapFrames/10 plus half the HEADERS frames (a rapid reset:
// streams opened only to be cancelled).
type guard struct {
	in          frameScanner
	max         int
	windowStart time.Time
	cheap, work int
	resets      int
	headers     int
	lastStream  uint32 // highest stream the peer opened
	tripped     string // why, once tripped
}

// feed scans bytes the peer sent and reports whether the guard has tripped.
func (g *guard) feed(p []byte, now func() time.Time) bool {
	if g.tripped != "" {
		return true
	}
	g.in.feed(p, func(length int, typ, flags byte, stream uint32) {
		if t := now(); t.Sub(g.windowStart) > guardWindow {
			g.windowStart, g.cheap, g.work, g.resets, g.headers = t, 0, 0, 0, 0
		}
		switch {
		case typ == frameHeaders:
			g.work++
			g.headers++
			g.lastStream = max(g.lastStream, stream)
		case typ == frameData && (length > 0 || flags&flagEndStream != 0):
			g.work++
		case typ == frameRSTStream:
			g.resets++
		case (typ == frameSettings || typ == framePing) && flags&flagAck != 0:
		case typ == frameGoAway:
		case typ == frameContinuation && length > 0:
		default:
			g.cheap++
		}
		switch {
		case g.cheap > g.max+10*g.work:
			g.tripped = "too many frames without payload"
		case g.resets > g.max/10+g.headers/2:
			g.tripped = "too many stream resets"
		}
	})
	return g.tripped != ""
}

// goAway returns the GOAWAY frame that ends a tripped connection.
func (g *guard) goAway() []byte {
	return goAwayFrame(g.lastStream, errEnhanceYourCalm, g.tripped)
}

// goAwayFrame returns a GOAWAY frame (RFC 9113 §6.8).
func goAwayFrame(lastStream, code uint32, debug string) []byte {
	f := make([]byte, 9+8+len(debug))
	length := 8 + len(debug)
	f[0], f[1], f[2] = byte(length>>16), byte(length>>8), byte(length)
	f[3] = frameGoAway
	binary.BigEndian.PutUint32(f[9:], lastStream)
	binary.BigEndian.PutUint32(f[13:], code)
	copy(f[17:], debug)
	return f
}
