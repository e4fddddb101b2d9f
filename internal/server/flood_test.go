package server_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/greeter"
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
	// The floods below carry a little of what the five above carry none of
	// (an acknowledgement, a padded or 1-byte payload, a reset the server
	// sends itself): each must be cut as those are.
	"PING ACK": func(w io.Writer, _ int, _ []byte) error {
		return h2frame.Write(w, h2frame.Ping, h2frame.Ack, 0, make([]byte, 8))
	},
	"padding-only DATA": func(w io.Writer, i int, block []byte) error {
		if i == 0 {
			return h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, 1, block)
		}
		return h2frame.Write(w, h2frame.Data, padded, 1, []byte{0}) // pad length 0, no data
	},
	"1-byte DATA": func(w io.Writer, i int, block []byte) error {
		if i == 0 {
			return openMessage(w, block)
		}
		return h2frame.Write(w, h2frame.Data, 0, 1, []byte{'a'})
	},
	"9 WINDOW_UPDATEs per 1-byte DATA": func(w io.Writer, i int, block []byte) error {
		if i == 0 {
			return openMessage(w, block)
		}
		if err := h2frame.Write(w, h2frame.Data, 0, 1, []byte{'a'}); err != nil {
			return err
		}
		for range 9 {
			if err := h2frame.Write(w, h2frame.WindowUpdate, 0, 0, []byte{0, 0, 0, 1}); err != nil {
				return err
			}
		}
		return nil
	},
	"WINDOW_UPDATE(0) the server resets": func(w io.Writer, i int, block []byte) error {
		id := uint32(2*i + 1)
		if err := h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, id, block); err != nil {
			return err
		}
		return h2frame.Write(w, h2frame.WindowUpdate, 0, id, []byte{0, 0, 0, 0}) // PROTOCOL_ERROR
	},
}

// padded is the PADDED flag of a DATA frame (RFC 9113 §6.1).
const padded = 0x8

// openMessage opens stream 1 with block and starts a gRPC message of about
// 960 KiB (under the 1 MiB cap), so that the handler goes on reading what
// follows as the rest of the message.
func openMessage(w io.Writer, block []byte) error {
	if err := h2frame.Write(w, h2frame.Headers, h2frame.EndHeaders, 1, block); err != nil {
		return err
	}
	return h2frame.Write(w, h2frame.Data, 0, 1, []byte{0, 0, 0x0f, 0, 0})
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
			assertFloodIsCut(t, conn, flood, block)
			status, body := post(t, servertest.H2CClient(t), srv.URL+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, 200, "a well-behaved call after the flood ("+body+")")
		})
	}
}

// TestHTTP2FloodsOverTLSGetEnhanceYourCalm: the same floods, over HTTP/2 on
// TLS (ALPN h2), are cut the same way: TLS is terminated below the guard.
func TestHTTP2FloodsOverTLSGetEnhanceYourCalm(t *testing.T) {
	t.Parallel()
	addr, client, tlsConfig := startTLS(t, server.Config{})
	block := grpcRequestBlock(addr)
	for name, flood := range floods {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			conn, err := tls.Dial("tcp", addr, tlsConfig)
			assert.NoError(t, err, "dial with TLS")
			assert.Equal(t, conn.ConnectionState().NegotiatedProtocol, "h2", "ALPN")
			assertFloodIsCut(t, conn, flood, block)
			status, body := post(t, client, "https://"+addr+sayHello, `{"name":"eric"}`)
			assert.Equal(t, status, 200, "a well-behaved call after the flood ("+body+")")
		})
	}
}

// startTLS serves server.New(cfg) with a fresh certificate on 127.0.0.1 until
// the test ends, and returns its address, an HTTP/2 client that trusts it,
// and the TLS configuration of a raw HTTP/2 client.
func startTLS(t *testing.T, cfg server.Config) (string, *http.Client, *tls.Config) {
	t.Helper()
	cfg.TLSCertFile, cfg.TLSKeyFile = servertest.WriteCert(t)
	pemBytes, err := os.ReadFile(cfg.TLSCertFile)
	assert.NoError(t, err, "read the certificate")
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	srv := server.New(cfg)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		assert.NoError(t, <-done, "serve")
	})
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	tlsConfig := &tls.Config{RootCAs: pool, NextProtos: []string{"h2"}}
	tr := &http.Transport{Protocols: protocols, TLSClientConfig: tlsConfig.Clone()}
	t.Cleanup(tr.CloseIdleConnections)
	return ln.Addr().String(), &http.Client{Transport: tr, Timeout: 20 * time.Second}, tlsConfig
}

// assertFloodIsCut floods conn, past the client preface, with up to 100,000
// units of flood, and checks that the server answers GOAWAY
// ENHANCE_YOUR_CALM saying why and closes the connection.
func assertFloodIsCut(t *testing.T, conn net.Conn, flood func(io.Writer, int, []byte) error, block []byte) {
	t.Helper()
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

// TestStreamsOfSmallMessagesAreNotFlooded: a client stream and a bidi stream
// of 10,000 small messages each, one small DATA frame a message, in every
// form that streams over h2c, end as they should, and the guard cuts no
// connection.
func TestStreamsOfSmallMessagesAreNotFlooded(t *testing.T) {
	t.Parallel()
	const messages = 10_000
	m := metrics.New()
	srv := servertest.Start(t, server.Config{Metrics: m, Greeter: greeter.Options{MaxStreamMessages: messages}})
	for _, f := range streamForms() {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute) // generous: counted, not timed
			defer cancel()
			client := rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, f.opts...)

			greetings, err := client.LotsOfGreetings(ctx)
			assert.NoError(t, err, "LotsOfGreetings")
			for range messages {
				assert.NoError(t, greetings.Send(&rpc.HelloRequest{Name: "a"}), "send to LotsOfGreetings")
			}
			reply, err := greetings.CloseAndReceive()
			assert.NoError(t, err, "LotsOfGreetings")
			assert.True(t, strings.HasSuffix(reply.GetMessage(), "a and a!"), "the greeting of every name")

			bidi, err := client.BidiHello(ctx)
			assert.NoError(t, err, "BidiHello")
			sent := make(chan error, 1)
			go func() {
				for range messages {
					if err := bidi.Send(&rpc.HelloRequest{Name: "a"}); err != nil {
						sent <- err
						return
					}
				}
				sent <- bidi.CloseRequest()
			}()
			replies := 0
			for ; replies < messages; replies++ {
				if _, err := bidi.Receive(); err != nil {
					t.Fatalf("BidiHello: reply %d: %v", replies, err)
				}
			}
			assert.NoError(t, <-sent, "send to BidiHello")
			assert.NoError(t, bidi.CloseResponse(), "CloseResponse")
			assert.Equal(t, replies, messages, "BidiHello replies")
		})
	}
	t.Cleanup(func() {
		assert.Equal(t, scrape(t, m.Handler())["hellorpc_connections_flooded_total"], float64(0), "flooded connections")
	})
}
