// Package h2frame writes and reads raw HTTP/2 frames (RFC 9113 §4) for tests
// that must send what no well-behaved client sends (floods, resets, odd
// prefaces) or see every frame a server writes, in order. It knows the
// frame layout, not the protocol: no flow control, no HPACK decoding.
package h2frame

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Preface is the client connection preface (RFC 9113 §3.4).
const Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// Frame types (RFC 9113 §6).
const (
	Data         byte = 0x0
	Headers      byte = 0x1
	Priority     byte = 0x2
	RSTStream    byte = 0x3
	Settings     byte = 0x4
	PushPromise  byte = 0x5
	Ping         byte = 0x6
	GoAway       byte = 0x7
	WindowUpdate byte = 0x8
	Continuation byte = 0x9
)

// Frame flags (RFC 9113 §6).
const (
	EndStream  byte = 0x1 // DATA, HEADERS
	Ack        byte = 0x1 // SETTINGS, PING
	EndHeaders byte = 0x4 // HEADERS, PUSH_PROMISE, CONTINUATION
)

// Frame is one frame as read.
type Frame struct {
	Type, Flags byte
	Stream      uint32
	Payload     []byte
}

func (f Frame) String() string {
	return fmt.Sprintf("type=%#x flags=%#x stream=%d length=%d", f.Type, f.Flags, f.Stream, len(f.Payload))
}

// GoAwayFields returns the last stream id, error code and debug data of a
// GOAWAY frame; ok is false for any other frame, or a GOAWAY too short.
func (f Frame) GoAwayFields() (lastStream, code uint32, debug string, ok bool) {
	if f.Type != GoAway || len(f.Payload) < 8 {
		return 0, 0, "", false
	}
	return binary.BigEndian.Uint32(f.Payload) & (1<<31 - 1), binary.BigEndian.Uint32(f.Payload[4:]), string(f.Payload[8:]), true
}

// Write writes one frame to w, in one Write call.
func Write(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	frame := make([]byte, 9, 9+len(payload))
	frame[0], frame[1], frame[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	frame[3], frame[4] = typ, flags
	binary.BigEndian.PutUint32(frame[5:], stream)
	_, err := w.Write(append(frame, payload...))
	return err
}

// Read reads one frame from r.
func Read(r io.Reader) (Frame, error) {
	var header [9]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Type: header[3], Flags: header[4], Stream: binary.BigEndian.Uint32(header[5:]) & (1<<31 - 1)}
	f.Payload = make([]byte, int(header[0])<<16|int(header[1])<<8|int(header[2]))
	if _, err := io.ReadFull(r, f.Payload); err != nil {
		return Frame{}, fmt.Errorf("payload of frame %v: %w", f, err)
	}
	return f, nil
}

// Literal encodes a header field for a header block as a literal without
// indexing, with a literal name, without Huffman coding (RFC 7541 §6.2.2).
func Literal(name, value string) []byte {
	b := []byte{0} // literal without indexing, new name
	b = append(length(b, len(name)), name...)
	return append(length(b, len(value)), value...)
}

// length appends the length of a string literal: an HPACK integer with a
// 7-bit prefix (RFC 7541 §5.1) and the Huffman bit clear.
func length(b []byte, n int) []byte {
	if n < 127 {
		return append(b, byte(n))
	}
	b = append(b, 127)
	for n -= 127; n >= 128; n >>= 7 {
		b = append(b, byte(n%128+128))
	}
	return append(b, byte(n))
}
