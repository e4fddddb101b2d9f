package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2/hpack"
)

// HTTP/2 frame types, flags and settings (RFC 9113 §6).
const (
	typeData, typeHeaders, typeRSTStream, typeSettings  = 0x0, 0x1, 0x3, 0x4
	typePing, typeGoAway, typeWindowUpdate, typeContinu = 0x6, 0x7, 0x8, 0x9
	flagEndStream, flagAck, flagEndHeaders              = 0x1, 0x1, 0x4
	flagPadded, flagPriority                            = 0x8, 0x20
	settingMaxConcurrentStreams                         = 0x3
)

// errCodes names the HTTP/2 error codes (RFC 9113 §7).
var errCodes = []string{"NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR",
	"SETTINGS_TIMEOUT", "STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL",
	"COMPRESSION_ERROR", "CONNECT_ERROR", "ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED"}

func errCode(c uint32) string {
	if int(c) < len(errCodes) {
		return errCodes[c]
	}
	return "0x" + strconv.FormatUint(uint64(c), 16)
}

// A kind is what the silent streams are: the RPC and the headers of their
// request. None sends END_STREAM or a DATA frame.
type kind struct {
	path        string
	contentType string
	length      string // content-length, "" for none
}

var kinds = map[string]kind{
	// A Connect JSON unary SayHello that declares its 15-byte body.
	"unary": {path: "/rpc_package.HelloWorldService/SayHello", contentType: "application/json", length: "15"},
	// A Connect JSON client stream (LotsOfGreetings) that sends no message.
	"client-stream": {path: "/rpc_package.HelloWorldService/LotsOfGreetings", contentType: "application/connect+json"},
}

// headerBlock encodes the request headers of k for authority.
func (k kind) headerBlock(authority string) []byte {
	var b bytes.Buffer
	enc := hpack.NewEncoder(&b)
	fields := [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", k.path},
		{":authority", authority}, {"content-type", k.contentType}, {"connect-protocol-version", "1"}}
	if k.length != "" {
		fields = append(fields, [2]string{"content-length", k.length})
	}
	for _, f := range fields {
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return b.Bytes()
}

// frame appends one HTTP/2 frame to b.
func frame(b *bytes.Buffer, typ, flags byte, stream uint32, payload []byte) {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	b.Write(h[:])
	b.Write(payload)
}

// An ending is how and when the server ended one held stream, counted from
// the moment the streams were opened.
type ending struct {
	at  time.Duration
	how string // "HTTP 504 deadline_exceeded", "RST_STREAM CANCEL", "GOAWAY NO_ERROR", "connection closed"
}

// stream is one stream the server has not ended yet.
type stream struct {
	status int
	body   []byte // the first bytes of the answer, where a Connect error's code is
}

// holder keeps the silent streams of one h2c connection open: it opens up
// to the streams asked for within the server's SETTINGS_MAX_CONCURRENT_STREAMS,
// never sends them a byte of body, answers the server's PINGs and SETTINGS,
// and records how the server ends them.
type holder struct {
	nc    net.Conn
	start time.Time // when the streams were opened

	wmu sync.Mutex // writes
	w   *bufio.Writer

	mu      sync.Mutex
	opened  int
	open    map[uint32]*stream
	endings []ending
	done    chan struct{} // closed when the connection is read no more
}

// maxBody is how much of an answer a stream keeps to read its Connect code.
const maxBody = 1024

// hold dials addr, opens up to n streams of kind k on it and keeps them
// open until close. It waits up to wait for the server's SETTINGS.
func hold(addr string, k kind, n int, wait time.Duration) (*holder, error) {
	nc, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	h := &holder{nc: nc, w: bufio.NewWriter(nc), open: map[uint32]*stream{}, done: make(chan struct{})}
	var b bytes.Buffer
	b.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	frame(&b, typeSettings, 0, 0, nil)
	if _, err := nc.Write(b.Bytes()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("write the preface to %s: %w", addr, err)
	}
	r := bufio.NewReader(nc)
	_ = nc.SetReadDeadline(time.Now().Add(wait))
	limit, err := serverSettings(r)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("read the SETTINGS of %s: %w", addr, err)
	}
	_ = nc.SetReadDeadline(time.Time{})
	if limit >= 0 {
		n = min(n, limit)
	}
	b.Reset()
	frame(&b, typeSettings, flagAck, 0, nil)
	block := k.headerBlock(addr)
	for i := range n {
		frame(&b, typeHeaders, flagEndHeaders, uint32(2*i+1), block)
		h.open[uint32(2*i+1)] = &stream{}
	}
	h.opened = n
	h.start = time.Now()
	if _, err := nc.Write(b.Bytes()); err != nil {
		nc.Close()
		return nil, fmt.Errorf("open %d streams on %s: %w", n, addr, err)
	}
	go h.read(r)
	return h, nil
}

// serverSettings reads frames up to the server's first SETTINGS and returns
// its SETTINGS_MAX_CONCURRENT_STREAMS, -1 when it gives none.
func serverSettings(r *bufio.Reader) (int, error) {
	for {
		typ, flags, _, p, err := readFrame(r)
		if err != nil {
			return 0, err
		}
		if typ != typeSettings || flags&flagAck != 0 {
			continue
		}
		limit := -1
		for ; len(p) >= 6; p = p[6:] {
			if binary.BigEndian.Uint16(p) == settingMaxConcurrentStreams {
				limit = int(binary.BigEndian.Uint32(p[2:]))
			}
		}
		return limit, nil
	}
}

// readFrame reads one frame: its type, flags, stream and payload.
func readFrame(r *bufio.Reader) (typ, flags byte, id uint32, p []byte, err error) {
	var h [9]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return
	}
	p = make([]byte, int(h[0])<<16|int(h[1])<<8|int(h[2]))
	if _, err = io.ReadFull(r, p); err != nil {
		return
	}
	return h[3], h[4], binary.BigEndian.Uint32(h[5:]) & 0x7fffffff, p, nil
}

// write sends one frame at once.
func (h *holder) write(typ, flags byte, id uint32, p []byte) {
	var b bytes.Buffer
	frame(&b, typ, flags, id, p)
	h.wmu.Lock()
	defer h.wmu.Unlock()
	_ = h.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_, _ = h.w.Write(b.Bytes())
	_ = h.w.Flush()
}

// read handles the server's frames until the connection ends.
func (h *holder) read(r *bufio.Reader) {
	defer close(h.done)
	dec := hpack.NewDecoder(4096, nil)
	var block []byte // a header block in progress
	var blockID uint32
	var blockEnd bool
	for {
		typ, flags, id, p, err := readFrame(r)
		if err != nil {
			h.endAll("connection closed")
			return
		}
		switch typ {
		case typeSettings:
			if flags&flagAck == 0 {
				h.write(typeSettings, flagAck, 0, nil)
			}
		case typePing:
			if flags&flagAck == 0 {
				h.write(typePing, flagAck, 0, p)
			}
		case typeGoAway:
			if len(p) >= 8 {
				h.endAbove(binary.BigEndian.Uint32(p)&0x7fffffff, "GOAWAY "+errCode(binary.BigEndian.Uint32(p[4:])))
			}
		case typeRSTStream:
			if len(p) >= 4 {
				h.end(id, "RST_STREAM "+errCode(binary.BigEndian.Uint32(p)))
			}
		case typeData:
			if len(p) > 0 { // give the window back, so that every answer gets through
				var inc [4]byte
				binary.BigEndian.PutUint32(inc[:], uint32(len(p)))
				h.write(typeWindowUpdate, 0, 0, inc[:])
				h.write(typeWindowUpdate, 0, id, inc[:])
			}
			h.data(id, unpad(flags, p))
			if flags&flagEndStream != 0 {
				h.end(id, "")
			}
		case typeHeaders, typeContinu:
			if typ == typeHeaders {
				p = unpad(flags, p)
				if flags&flagPriority != 0 && len(p) >= 5 {
					p = p[5:]
				}
				block, blockID, blockEnd = nil, id, flags&flagEndStream != 0
			}
			block = append(block, p...)
			if flags&flagEndHeaders == 0 {
				continue
			}
			fields, err := dec.DecodeFull(block)
			if err != nil {
				h.endAll("bad header block: " + err.Error())
				return
			}
			for _, f := range fields {
				if f.Name == ":status" {
					h.status(blockID, f.Value)
				}
			}
			if blockEnd {
				h.end(blockID, "")
			}
		}
	}
}

// unpad strips the padding of a DATA or HEADERS payload.
func unpad(flags byte, p []byte) []byte {
	if flags&flagPadded == 0 || len(p) == 0 {
		return p
	}
	pad := int(p[0])
	if 1+pad > len(p) {
		return nil
	}
	return p[1 : len(p)-pad]
}

func (h *holder) status(id uint32, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.open[id]; s != nil && s.status == 0 {
		s.status, _ = strconv.Atoi(v)
	}
}

func (h *holder) data(id uint32, p []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.open[id]; s != nil && len(s.body) < maxBody {
		s.body = append(s.body, p[:min(len(p), maxBody-len(s.body))]...)
	}
}

// end records that the server ended stream id: how, or its answer's status
// and Connect code when how is "".
func (h *holder) end(id uint32, how string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(id, how, time.Since(h.start))
}

func (h *holder) endLocked(id uint32, how string, at time.Duration) {
	s := h.open[id]
	if s == nil {
		return
	}
	if how == "" {
		how = answer(s.status, s.body)
	}
	delete(h.open, id)
	h.endings = append(h.endings, ending{at: at, how: how})
}

// endAbove ends the streams above last (a GOAWAY's last stream id).
func (h *holder) endAbove(last uint32, how string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	at := time.Since(h.start)
	for id := range h.open {
		if id > last {
			h.endLocked(id, how, at)
		}
	}
}

// endAll ends every stream still open.
func (h *holder) endAll(how string) {
	h.endAbove(0, how)
}

// held is the number of streams the server has not ended.
func (h *holder) held() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.open)
}

// close ends the connection and returns the endings the server chose: those
// after it are the client's.
func (h *holder) close() []ending {
	h.mu.Lock()
	endings := append([]ending(nil), h.endings...)
	h.mu.Unlock()
	h.nc.Close()
	<-h.done
	return endings
}

var codeRE = regexp.MustCompile(`"code"\s*:\s*"([a-z_]+)"`)

// answer names an answer: its HTTP status and the Connect error code of its
// body (unary: the error's JSON; streaming: the end-stream message's).
func answer(status int, body []byte) string {
	s := "HTTP " + strconv.Itoa(status)
	if status == 0 {
		s = "no status"
	}
	if m := codeRE.FindSubmatch(body); m != nil {
		s += " " + string(m[1])
	}
	return s
}
