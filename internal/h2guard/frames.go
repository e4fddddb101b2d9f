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
	flagPadded     = 0x8

	codeNoError         = 0x0
	codeInternalError   = 0x2
	codeCancel          = 0x8
	codeEnhanceYourCalm = 0xb

	maxStream = 1<<31 - 1
)

// noticePing is the payload of the PING that follows the graceful
// shutdown's first GOAWAY.
var noticePing = [8]byte{'h', 'r', 'p', 'c', 'g', 'o', 'n', 'e'}

// preface is the client connection preface (RFC 9113 §3.4).
const preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// header is the 9-byte header of a frame, with the first bytes of its
// payload.
type header struct {
	length     int
	typ, flags byte
	stream     uint32
	head       [8]byte // the payload's first min(length, 8) bytes
}

// code returns the error code of a RST_STREAM frame.
func (h header) code() uint32 { return binary.BigEndian.Uint32(h.head[:4]) }

// data returns how many bytes of data a DATA frame carries: its payload
// less the padding (RFC 9113 §6.1).
func (h header) data() int {
	if h.flags&flagPadded == 0 {
		return h.length
	}
	return max(0, h.length-1-int(h.head[0]))
}

// scanner follows the frames of one direction of a connection as its bytes
// pass, without copying them: it knows where each frame starts, whether a
// header block is open, and the last stream id of the GOAWAY frames passed.
type scanner struct {
	skip int     // bytes of the current frame's payload (or the preface) still to pass
	hdr  [9]byte // the frame header being read
	hdrN int

	cur            header // the frame being passed
	headN, headEnd int    // bytes of cur.head read, and to read

	frames int // frame headers passed

	// A header block runs from a HEADERS or PUSH_PROMISE frame without
	// END_HEADERS to the CONTINUATION frame with it; no other frame of the
	// connection may sit inside it (RFC 9113 §6.10).
	inBlock     bool
	blockStream uint32

	goAways    int    // GOAWAY frames whose last stream id has passed
	goAwayLast uint32 // the lowest of those ids
}

// feed passes p, calling onFrame (when not nil) with each frame once its
// header and the first bytes of its payload (header.head) have passed,
// after the header block state has taken it into account.
func (s *scanner) feed(p []byte, onFrame func(header)) {
	for len(p) > 0 {
		if s.headN < s.headEnd {
			n := copy(s.cur.head[s.headN:s.headEnd], p)
			s.headN += n
			s.skip -= n
			p = p[n:]
			if s.headN == s.headEnd {
				s.passed(onFrame)
			}
			continue
		}
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
		s.cur = header{
			length: int(s.hdr[0])<<16 | int(s.hdr[1])<<8 | int(s.hdr[2]),
			typ:    s.hdr[3],
			flags:  s.hdr[4],
			stream: binary.BigEndian.Uint32(s.hdr[5:]) & maxStream,
		}
		s.skip = s.cur.length
		s.headN, s.headEnd = 0, min(s.cur.length, len(s.cur.head))
		switch s.cur.typ {
		case frameHeaders, framePushPromise:
			s.inBlock = s.cur.flags&flagEndHeaders == 0
			s.blockStream = s.cur.stream
		case frameContinuation:
			s.inBlock = s.inBlock && s.cur.flags&flagEndHeaders == 0
		}
		if s.headEnd == 0 {
			s.passed(onFrame)
		}
	}
}

// passed takes the frame whose header and head have passed.
func (s *scanner) passed(onFrame func(header)) {
	if s.cur.typ == frameGoAway && s.cur.length >= 8 {
		last := binary.BigEndian.Uint32(s.cur.head[:4]) & maxStream
		if s.goAways == 0 || last < s.goAwayLast {
			s.goAwayLast = last
		}
		s.goAways++
	}
	if onFrame != nil {
		onFrame(s.cur)
	}
}

// between reports whether the bytes passed so far end between two frames
// outside any header block: the only place another frame may go.
func (s *scanner) between() bool { return s.skip == 0 && s.hdrN == 0 && !s.inBlock }

// pingFrame returns a PING frame, not an acknowledgement (RFC 9113 §6.7).
func pingFrame(payload [8]byte) []byte {
	return append([]byte{0, 0, 8, framePing, 0, 0, 0, 0, 0}, payload[:]...)
}

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
