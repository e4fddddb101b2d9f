package server_test

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/h2frame"
)

// floods are the cheap-frame floods of HTTP/2: each writes one unit of the
// flood on a connection past its preface and SETTINGS.
var floods = map[string]func(w io.Writer, i int, block []byte) error{
	"empty DATA": func(w io.Writer, i int, block []byte) error {
		if i == 0 { // one open stream to send DATA on
			return h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, 1, block)
		}
		return h2frame.Write(w, h2frame.Data, 0, 1, nil)
	},
	"SETTINGS": func(w io.Writer, _ int, _ []byte) error { return h2frame.Write(w, h2frame.Settings, 0, 0, nil) },
	"PING":     func(w io.Writer, _ int, _ []byte) error { return h2frame.Write(w, h2frame.Ping, 0, 0, make([]byte, 8)) },
	"WINDOW_UPDATE": func(w io.Writer, _ int, _ []byte) error {
		return h2frame.Write(w, h2frame.WindowUpdate, 0, 0, []byte{0, 0, 0, 1})
	},
	"rapid reset": func(w io.Writer, i int, block []byte) error {
		id := uint32(2*i + 1)
		if err := h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, id, block); err != nil {
			return err
		}
		return h2frame.Write(w, h2frame.RSTStream, 0, id, []byte{0, 0, 0, 8}) // CANCEL
	},
}

// grpcRequestBlock returns the header block of a gRPC SayHello request to
// addr, without HPACK indexing.
func grpcRequestBlock(addr string) []byte {
	block := []byte{0x83, 0x86} // :method POST, :scheme http
	block = append(block, h2frame.Literal(":path", sayHello)...)
	block = append(block, h2frame.Literal(":authority", addr)...)
	block = append(block, h2frame.Literal("content-type", "application/grpc")...)
	return append(block, h2frame.Literal("te", "trailers")...)
}

// readGoAway reads the server's frames until GOAWAY or the connection's end,
// and returns GOAWAY's error code and debug data (code -1: none came).
func readGoAway(conn net.Conn) (int, string) {
	r := bufio.NewReader(conn)
	for {
		f, err := h2frame.Read(r)
		if err != nil {
			return -1, ""
		}
		if _, code, debug, ok := f.GoAwayFields(); ok {
			return int(code), debug
		}
	}
}

// TestHTTP2FloodsGetEnhanceYourCalm floods one h2c connection with each kind
// of cheap frame: the server answers GOAWAY ENHANCE_YOUR_CALM and closes it,
// and still serves a well-behaved client.
func TestHTTP2FloodsGetEnhanceYourCalm(t *testing.T) {
	t.Parallel()
	srv := servertest.Start(t, server.Config{})
	addr := srv.Listener.Addr().String()
	block := grpcRequestBlock(addr)
	for name, flood := range floods {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := net.Dial("tcp", addr)
			assert.NoError(t, err, "dial")
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
			goAway := make(chan [2]any, 1)
			closed := make(chan error, 1)
			go func() {
				code, debug := readGoAway(conn)
				goAway <- [2]any{code, debug}
				_, err := io.Copy(io.Discard, conn) // then the server closes the connection
				closed <- err
			}()
			w := bufio.NewWriter(conn)
			_, _ = w.WriteString(h2frame.Preface)
			_ = h2frame.Write(w, h2frame.Settings, 0, 0, nil)
			const units = 100_000
			sent := 0
			for ; sent < units; sent++ {
				if flood(w, sent, block) != nil || (sent%500 == 0 && w.Flush() != nil) {
					break
				}
			}
			_ = w.Flush()
			got := <-goAway
			t.Logf("sent %d of %d before the server closed; GOAWAY code %v %q", sent, units, got[0], got[1])
			assert.Equal(t, got[0], any(0xb), "GOAWAY error code ENHANCE_YOUR_CALM")
			assert.True(t, strings.HasPrefix(got[1].(string), "too many"), "GOAWAY says why")
			select {
			case err := <-closed:
				netErr, ok := err.(net.Error)
				assert.True(t, !ok || !netErr.Timeout(), "the server closed the connection after GOAWAY")
			case <-time.After(10 * time.Second):
				t.Fatal("the connection stayed open after GOAWAY")
			}

			status, body := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, 200, "a well-behaved call after the flood ("+body+")")
		})
	}
}

// TestFloodedConnectionsAreCounted checks the metric of the flood guard: one
// flooded connection, one count.
func TestFloodedConnectionsAreCounted(t *testing.T) {
	t.Parallel()
	m := metrics.New()
	srv := servertest.Start(t, server.Config{Metrics: m})
	assert.Equal(t, scrape(t, m.Handler())["hellorpc_connections_flooded_total"], float64(0), "flooded connections before")
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	assert.NoError(t, err, "dial")
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	go func() {
		w := bufio.NewWriter(conn)
		_, _ = w.WriteString(h2frame.Preface)
		_ = h2frame.Write(w, h2frame.Settings, 0, 0, nil)
		for i := 0; i < 5000 && floods["PING"](w, i, nil) == nil; i++ {
		}
		_ = w.Flush()
	}()
	code, _ := readGoAway(conn)
	assert.Equal(t, code, 0xb, "GOAWAY error code ENHANCE_YOUR_CALM")
	assert.Equal(t, scrape(t, m.Handler())["hellorpc_connections_flooded_total"], float64(1), "flooded connections after")
}
