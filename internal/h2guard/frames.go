package h2guard

import "encoding/binary"

// HTTP/2 frame types, flags and error codes that the guard looks at
// (RFC 9113 §6, §7).
const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePushPromise  = 0x5
	framePing         = 0x6
	frameGoAway       = 0x7
	frameContinuation = 0x9

	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4

	codeNoError         = 0x0
	codeEnhanceYourCalm = 0xb

	maxStream = 1<<31 - 1
)

// preface is the client connection preface (RFC 9113 §3.4).
const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// header is the 9-byte header of a frame.
type header struct {
	length     int
	typ, flags byte
	stream     uint32
}

// scanner follows the frames of one direction of a connection as its bytes
// pass, without copying them: it knows where each frame starts, whether a
// header block is open, and the last stream id of the GOAWAY frames passed.
type scanner struct {
	skip int     // bytes of the current frame's payload (or the preface) still to pass
	hdr  [9]byte // the frame header being read
	hdrN int

	frames int // frame headers passed

	// A header block runs from a HEADERS or PUSH_PROMISE frame without
	// END_HEADERS to the CONTINUATION frame with it; no other frame of the
	// connection may sit inside it (RFC 9113 §6.10).
	inBlock     bool
	blockStream uint32

	goAways    int    // GOAWAY frames whose last stream id has passed
	goAwayLast uint32 // the lowest of those ids
	goAwayN    int    // bytes of the current GOAWAY's last stream id still to pass
	goAwayBuf  [4]byte
}

// feed passes p, calling onFrame (when not nil) with each frame header that
// completes, after the header block state has taken it into account.
func (s *scanner) feed(p []byte, onFrame func(header)) {
	for len(p) > 0 {
		if s.skip > 0 {
			n := min(s.skip, len(p))
			if s.goAwayN > 0 {
				s.lastStreamBytes(p[:min(n, s.goAwayN)])
			}
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
		h := header{
			length: int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2]),
			typ:    s.hdr[3],
			flags:  s.hdr[4],
			stream: binary.BigEndian.Uint32(s.hdr[5:]) & maxStream,
		}
		s.skip = h.length
		switch h.typ {
		case frameHeaders, framePushPromise:
			s.inBlock = h.flags&flagEndHeaders == 0
			s.blockStream = h.stream
		case frameContinuation:
			s.inBlock = s.inBlock && h.flags&flagEndHeaders == 0
		case frameGoAway:
			if h.length >= 8 {
				s.goAwayN = 4
			}
		}
		if onFrame != nil {
			onFrame(h)
		}
	}
}

// lastStreamBytes takes bytes of a GOAWAY's last stream id.
func (s *scanner) lastStreamBytes(b []byte) {
	copy(s.goAwayBuf[4-s.goAwayN:], b)
	s.goAwayN -= len(b)
	if s.goAwayN > 0 {
		return
	}
	last := binary.BigEndian.Uint32(s.goAwayBuf[:]) & maxStream
	if s.goAways == 0 || last < s.goAwayLast {
		s.goAwayLast = last
	}
	s.goAways++
}

// between reports whether the bytes passed so far end between two frames
// outside any header block: the only place another frame may go.
func (s *scanner) between() bool { return s.skip == 0 && s.hdrN == 0 && !s.inBlock }

// goAwayFrame returns a GOAWAY frame (RFC 9113 §6.8).
func goAwayFrame(lastStream, code uint32, debug string) []byte {
	length := 8 + len(debug)
	f := make([]byte, 9+length)
	f[0], f[1], f[2] = byte(length>>16), byte(length>>8), byte(length)
	f[3] = frameGoAway
	binary.BigEndian.PutUint32(f[9:], lastStream)
	binary.BigEndian.PutUint32(f[13:], code)
	copy(f[17:], debug)
	return f
}
