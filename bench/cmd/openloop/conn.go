package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"
)

// A protocol is how a call is framed: its content type, its deadline header
// and its body, and how its outcome is read from the answer's headers.
type protocol struct {
	name        string
	contentType string
	body        []byte // the request body, framed
	grpc        bool   // outcome in grpc-status (trailers), else the HTTP status
}

var protocols = map[string]protocol{
	"connect": {name: "Connect JSON", contentType: "application/json", body: []byte(`{"name":"eric"}`)},
	"grpc":    {name: "gRPC", contentType: "application/grpc", body: []byte{0, 0, 0, 0, 6, 0x0a, 4, 'e', 'r', 'i', 'c'}, grpc: true},
}

// timeoutHeader returns the header field that carries a deadline d away.
func (p protocol) timeoutHeader(d time.Duration) (string, string) {
	ms := max(d.Milliseconds(), 1)
	if p.grpc {
		return "grpc-timeout", strconv.FormatInt(ms, 10) + "m"
	}
	return "connect-timeout-ms", strconv.FormatInt(ms, 10)
}

// outcome is how a call ended.
type outcome uint8

const (
	ok       outcome = iota // answered OK
	shed                    // resource_exhausted (HTTP 429, grpc-status 8)
	late                    // deadline_exceeded from the server (504, grpc-status 4)
	timedOut                // no answer by the deadline: the client cancelled it
	failed                  // anything else: refused stream, connection lost, other codes
)

// call is one call in flight.
type call struct {
	due      time.Time // when it was meant to start: its latency counts from here
	deadline time.Time
	done     func(outcome, time.Duration)
	status   int    // HTTP status, once the headers came
	grpc     string // grpc-status, once it came
}

// conn is one h2c connection that carries calls: a writer that frames them
// and a reader that matches the answers. It honours the server's
// SETTINGS_MAX_CONCURRENT_STREAMS: a call waits for a free stream, and is
// dropped as timed out when its deadline passes first. A call with no answer
// by its deadline is reset (RST_STREAM CANCEL), as gRPC clients do.
type conn struct {
	p    protocol
	addr string
	nc   net.Conn

	mu       sync.Mutex
	w        *bufio.Writer
	enc      *hpack.Encoder
	hbuf     bytes.Buffer
	next     uint32           // next stream id
	open     map[uint32]*call // streams in flight
	maxOpen  int              // the server's SETTINGS_MAX_CONCURRENT_STREAMS; 0 until its SETTINGS came
	settled  bool             // the server's first SETTINGS came
	sendWin  int              // connection-level send window
	waiting  []*call          // calls waiting for a stream or window
	closed   bool
	fifo     bool // waiting calls take a stream in order of arrival
	recvSeen int  // DATA bytes received since the last WINDOW_UPDATE
}

const bigWindow = 1 << 30

// goAways and resets count the GOAWAY frames and the stream resets of open
// calls that the server sent, for the "other" column.
var goAways, resets atomic.Int64

func dial(addr string, p protocol, fifo bool) (*conn, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	c := &conn{p: p, addr: addr, nc: nc, w: bufio.NewWriterSize(nc, 64<<10), next: 1,
		open: map[uint32]*call{}, sendWin: 65535, fifo: fifo}
	c.enc = hpack.NewEncoder(&c.hbuf)
	c.w.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	settings := make([]byte, 6)
	binary.BigEndian.PutUint16(settings, 4) // SETTINGS_INITIAL_WINDOW_SIZE
	binary.BigEndian.PutUint32(settings[2:], bigWindow)
	c.frame(0x4, 0, 0, settings)
	c.frame(0x8, 0, 0, binary.BigEndian.AppendUint32(nil, bigWindow-65535))
	if err := c.w.Flush(); err != nil {
		nc.Close()
		return nil, err
	}
	go c.read()
	go c.expire()
	return c, nil
}

// frame buffers one frame; c.mu is held (or c is not shared yet).
func (c *conn) frame(typ, flags byte, stream uint32, payload []byte) {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	c.w.Write(h[:])
	c.w.Write(payload)
}

// start sends cl, or queues it until a stream and window are free.
func (c *conn) start(cl *call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cl.done(failed, 0)
		return
	}
	c.waiting = append(c.waiting, cl)
	c.sendWaiting(time.Now())
	c.w.Flush()
}

// sendWaiting sends the waiting calls that fit, picked in random order (as
// grpc-go's, which all wake when a stream frees and race for it) unless
// c.fifo; c.mu is held.
func (c *conn) sendWaiting(now time.Time) {
	for len(c.waiting) > 0 && len(c.open) < c.maxOpen && c.sendWin >= len(c.p.body) {
		i := 0
		if !c.fifo {
			i = rand.IntN(len(c.waiting))
		}
		cl := c.waiting[i]
		c.waiting[i] = c.waiting[0]
		c.waiting[0] = nil
		c.waiting = c.waiting[1:]
		left := cl.deadline.Sub(now)
		if left <= 0 {
			cl.done(timedOut, now.Sub(cl.due))
			continue
		}
		id := c.next
		c.next += 2
		c.hbuf.Reset()
		c.enc.WriteField(hpack.HeaderField{Name: ":method", Value: "POST"})
		c.enc.WriteField(hpack.HeaderField{Name: ":scheme", Value: "http"})
		c.enc.WriteField(hpack.HeaderField{Name: ":path", Value: "/rpc_package.HelloWorldService/SayHello"})
		c.enc.WriteField(hpack.HeaderField{Name: ":authority", Value: c.addr})
		c.enc.WriteField(hpack.HeaderField{Name: "content-type", Value: c.p.contentType})
		if c.p.grpc {
			c.enc.WriteField(hpack.HeaderField{Name: "te", Value: "trailers"})
		}
		name, value := c.p.timeoutHeader(left)
		c.enc.WriteField(hpack.HeaderField{Name: name, Value: value, Sensitive: true}) // never indexed
		c.frame(0x1, 0x4, id, c.hbuf.Bytes())
		c.frame(0x0, 0x1, id, c.p.body)
		c.sendWin -= len(c.p.body)
		c.open[id] = cl
	}
}

// expire cancels the streams and waiting calls whose deadline has passed,
// every 5 ms, until the connection closes.
func (c *conn) expire() {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		for id, cl := range c.open {
			if !now.Before(cl.deadline) {
				delete(c.open, id)
				c.frame(0x3, 0, id, []byte{0, 0, 0, 8}) // CANCEL
				cl.done(timedOut, now.Sub(cl.due))
			}
		}
		keep := c.waiting[:0]
		for _, cl := range c.waiting {
			if now.Before(cl.deadline) {
				keep = append(keep, cl)
			} else {
				cl.done(timedOut, now.Sub(cl.due))
			}
		}
		clear(c.waiting[len(keep):])
		c.waiting = keep
		c.sendWaiting(now)
		c.w.Flush()
		c.mu.Unlock()
	}
}

// read reads the server's frames until the connection ends.
func (c *conn) read() {
	r := bufio.NewReaderSize(c.nc, 64<<10)
	var cur *call // the call whose header block is decoded
	dec := hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if cur == nil {
			return
		}
		switch f.Name {
		case ":status":
			cur.status, _ = strconv.Atoi(f.Value)
		case "grpc-status":
			cur.grpc = f.Value
		}
	})
	var hdr [9]byte
	var payload []byte
	err := func() error {
		for {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return err
			}
			n := int(hdr[0])<<16 | int(hdr[1])<<8 | int(hdr[2])
			typ, flags, id := hdr[3], hdr[4], binary.BigEndian.Uint32(hdr[5:])&(1<<31-1)
			if cap(payload) < n {
				payload = make([]byte, n)
			}
			payload = payload[:n]
			if _, err := io.ReadFull(r, payload); err != nil {
				return err
			}
			if err := c.handle(typ, flags, id, payload, dec, &cur); err != nil {
				return err
			}
		}
	}()
	c.mu.Lock()
	c.closed = true
	for id, cl := range c.open {
		delete(c.open, id)
		cl.done(failed, time.Since(cl.due))
	}
	for _, cl := range c.waiting {
		cl.done(failed, time.Since(cl.due))
	}
	c.waiting = nil
	c.mu.Unlock()
	c.nc.Close()
	_ = err
}

// handle acts on one frame from the server.
func (c *conn) handle(typ, flags byte, id uint32, payload []byte, dec *hpack.Decoder, cur **call) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer c.w.Flush()
	switch typ {
	case 0x4: // SETTINGS
		if flags&1 != 0 {
			return nil
		}
		if !c.settled { // no limit given: RFC 9113's default, none; take many
			c.settled, c.maxOpen = true, 1000
		}
		for i := 0; i+6 <= len(payload); i += 6 {
			if binary.BigEndian.Uint16(payload[i:]) == 3 {
				c.maxOpen = int(binary.BigEndian.Uint32(payload[i+2:]))
			}
		}
		c.frame(0x4, 1, 0, nil)
		c.sendWaiting(time.Now())
	case 0x6: // PING
		if flags&1 == 0 {
			c.frame(0x6, 1, 0, payload)
		}
	case 0x8: // WINDOW_UPDATE
		if id == 0 && len(payload) == 4 {
			c.sendWin += int(binary.BigEndian.Uint32(payload) & (1<<31 - 1))
			c.sendWaiting(time.Now())
		}
	case 0x7: // GOAWAY
		goAways.Add(1)
		return errors.New("GOAWAY")
	case 0x1, 0x9: // HEADERS, CONTINUATION
		if typ == 0x1 && flags&0x8 != 0 { // PADDED
			pad := int(payload[0])
			payload = payload[1 : len(payload)-pad]
		}
		if typ == 0x1 && flags&0x20 != 0 { // PRIORITY
			payload = payload[5:]
		}
		*cur = c.open[id]
		if _, err := dec.Write(payload); err != nil {
			return fmt.Errorf("decode headers: %w", err)
		}
		if flags&0x1 != 0 {
			c.finish(id)
		}
	case 0x0: // DATA
		c.recvSeen += len(payload)
		if c.recvSeen > 1<<20 {
			c.frame(0x8, 0, 0, binary.BigEndian.AppendUint32(nil, uint32(c.recvSeen)))
			c.recvSeen = 0
		}
		if flags&0x1 != 0 {
			c.finish(id)
		}
	case 0x3: // RST_STREAM
		if cl, open := c.open[id]; open {
			resets.Add(1)
			delete(c.open, id)
			cl.done(failed, time.Since(cl.due))
			c.sendWaiting(time.Now())
		}
	}
	return nil
}

// finish ends stream id with what its headers said; c.mu is held.
func (c *conn) finish(id uint32) {
	cl, open := c.open[id]
	if !open {
		return
	}
	delete(c.open, id)
	took := time.Since(cl.due)
	var o outcome
	switch {
	case c.p.grpc && cl.grpc == "0", !c.p.grpc && cl.status == 200:
		o = ok
	case c.p.grpc && cl.grpc == "8", !c.p.grpc && cl.status == 429:
		o = shed
	case c.p.grpc && cl.grpc == "4", !c.p.grpc && cl.status == 504:
		o = late
	default:
		o = failed
	}
	cl.done(o, took)
	c.sendWaiting(time.Now())
}

func (c *conn) close() { c.nc.Close() }
