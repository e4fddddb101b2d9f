// Command h2flood floods one cleartext HTTP/2 (h2c) connection with cheap
// frames for a bounded time and reports how many it sent: empty DATA on an
// open stream, SETTINGS, PING, WINDOW_UPDATE, or rapid reset (HEADERS then
// RST_STREAM). It is the load of .ci/flood, which measures what the server
// spends on it. Loopback only: -addr must be a 127.0.0.0/8 address.
package main

import (
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// frame writes one HTTP/2 frame.
func frame(w io.Writer, typ, flags byte, stream uint32, payload []byte) error {
	h := make([]byte, 9)
	h[0], h[1], h[2] = byte(len(payload)>>16), byte(len(payload)>>8), byte(len(payload))
	h[3], h[4] = typ, flags
	binary.BigEndian.PutUint32(h[5:], stream)
	_, err := w.Write(append(h, payload...))
	return err
}

// lit is an HPACK literal header field without indexing.
func lit(n, v string) []byte {
	return append(append([]byte{0, byte(len(n))}, n...), append([]byte{byte(len(v))}, v...)...)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50090", "the server's loopback host:port")
	kind := flag.String("kind", "empty-data", "empty-data, settings, ping, window-update or rapid-reset")
	d := flag.Duration("d", 5*time.Second, "how long to flood (the run is bounded by it)")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "h2flood: -addr %q: give a loopback host:port\n", *addr)
		os.Exit(2)
	}
	c, err := net.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "h2flood: %v\n", err)
		os.Exit(1)
	}
	go io.Copy(io.Discard, c)
	w := bufio.NewWriterSize(c, 64<<10)
	w.WriteString("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	frame(w, 4, 0, 0, nil)
	block := append([]byte{0x83, 0x86}, lit(":path", "/rpc_package.HelloWorldService/SayHello")...)
	block = append(block, lit(":authority", *addr)...)
	block = append(block, lit("content-type", "application/grpc")...)
	frame(w, 1, 4, 1, block)
	end := time.Now().Add(*d)
	n := 0
	id := uint32(3)
	for time.Now().Before(end) {
		var err error
		switch *kind {
		case "empty-data":
			err = frame(w, 0, 0, 1, nil)
		case "settings":
			err = frame(w, 4, 0, 0, nil)
		case "ping":
			err = frame(w, 6, 0, 0, make([]byte, 8))
		case "window-update":
			err = frame(w, 8, 0, 0, []byte{0, 0, 0, 1})
		case "rapid-reset":
			if err = frame(w, 1, 4, id, block); err == nil {
				err = frame(w, 3, 0, id, []byte{0, 0, 0, 8})
			}
			id += 2
		}
		if err != nil {
			break
		}
		n++
		if n%1000 == 0 {
			if w.Flush() != nil {
				break
			}
		}
	}
	fmt.Printf("%s: %d units sent in %v\n", *kind, n, *d)
}
