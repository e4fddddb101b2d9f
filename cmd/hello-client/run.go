package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"time"

	"connectrpc.com/connect"

	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/cli"
)

// options are hello-client's settings.
type options struct {
	addr     string // as given; addrs parsed from it
	addrs    []*url.URL
	count    int
	protocol string
	encoding string
	rpc      string
	get      bool
	timeout  time.Duration
	tlsCA    string
	insecure bool
	names    []string
}

// rpcs maps each -rpc value to the call that makes it.
var rpcs = map[string]func(context.Context, rpc_packageconnect.HelloWorldServiceClient, []string, func(string)) error{
	"say-hello":         sayHello,
	"lots-of-replies":   lotsOfReplies,
	"lots-of-greetings": lotsOfGreetings,
	"bidi-hello":        bidiHello,
}

var envNames = map[string]string{
	"addr":     "HELLORPC_CLIENT_ADDR",
	"protocol": "HELLORPC_CLIENT_PROTOCOL",
	"timeout":  "HELLORPC_CLIENT_TIMEOUT",
}

// run makes the call that -rpc names (SayHello by default) -count times, each
// to the next of the servers that -addr lists or resolves to, and prints every
// reply message to stdout. Flags not given are taken from the HELLORPC_CLIENT_*
// variables of getenv; -timeout bounds all the calls together. -help returns
// nil; any failure is returned as one error that says what failed.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	opts, err := parseOptions(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.timeout)
	defer cancel()
	client, err := newClient(ctx, opts)
	if err != nil {
		return err
	}
	print := func(message string) { fmt.Fprintln(stdout, "hello client received: "+message) }
	for range opts.count {
		if err := rpcs[opts.rpc](ctx, client, opts.names, print); err != nil {
			return describe(err, opts)
		}
	}
	return nil
}

func parseOptions(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	var opts options
	fs := flag.NewFlagSet("hello-client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&opts.addr, "addr", "http://localhost:50000", "server `URL`, or several separated by commas; calls go to each in turn, and to each address a host name resolves to")
	fs.IntVar(&opts.count, "count", 1, "make the call this many times (spread over the servers of -addr)")
	fs.StringVar(&opts.protocol, "protocol", "grpc", "`protocol`: grpc (over h2c), grpcweb or connect (over HTTP/1.1)")
	fs.StringVar(&opts.encoding, "encoding", "proto", "message `encoding`: proto or json")
	fs.StringVar(&opts.rpc, "rpc", "say-hello", "`RPC` to call: say-hello, lots-of-replies, lots-of-greetings or bidi-hello")
	fs.BoolVar(&opts.get, "get", false, "use HTTP GET (Connect protocol and say-hello only)")
	fs.DurationVar(&opts.timeout, "timeout", 10*time.Second, "give up after this long")
	fs.StringVar(&opts.tlsCA, "tls-ca", "", "PEM `file` of the CA that signed the server's certificate (https URLs)")
	fs.BoolVar(&opts.insecure, "insecure-skip-verify", false, "do not verify the server's certificate (https URLs; for testing only)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: hello-client [flags] [NAME...]\n\n"+
			"NAME defaults to eric; lots-of-greetings and bidi-hello take several.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return opts, err
	}
	if err := cli.ApplyEnv(fs, envNames, getenv); err != nil {
		return opts, err
	}
	if _, ok := rpcs[opts.rpc]; !ok {
		return opts, fmt.Errorf("unknown -rpc %q: use say-hello, lots-of-replies, lots-of-greetings or bidi-hello", opts.rpc)
	}
	opts.names = fs.Args()
	if len(opts.names) == 0 {
		opts.names = []string{"eric"}
	}
	if len(opts.names) > 1 && (opts.rpc == "say-hello" || opts.rpc == "lots-of-replies") {
		return opts, fmt.Errorf("-rpc %s takes one NAME, got %d: %q", opts.rpc, len(opts.names), opts.names)
	}
	switch opts.protocol {
	case "grpc", "grpcweb", "connect":
	default:
		return opts, fmt.Errorf("unknown -protocol %q: use grpc, grpcweb or connect", opts.protocol)
	}
	if opts.encoding != "proto" && opts.encoding != "json" {
		return opts, fmt.Errorf("unknown -encoding %q: use proto or json", opts.encoding)
	}
	if opts.get && (opts.protocol != "connect" || opts.rpc != "say-hello") {
		return opts, fmt.Errorf("-get works only with -protocol connect and -rpc say-hello")
	}
	var err error
	if opts.addrs, err = splitAddrs(opts.addr); err != nil {
		return opts, err
	}
	if opts.count < 1 {
		return opts, fmt.Errorf("invalid -count %d: must be at least 1", opts.count)
	}
	if opts.timeout <= 0 {
		return opts, fmt.Errorf("invalid -timeout %s: must be positive", opts.timeout)
	}
	return opts, nil
}

// newClient builds the generated client for the chosen protocol and encoding.
func newClient(ctx context.Context, opts options) (rpc_packageconnect.HelloWorldServiceClient, error) {
	var clientOpts []connect.ClientOption
	switch opts.protocol {
	case "grpc":
		clientOpts = append(clientOpts, connect.WithGRPC())
	case "grpcweb":
		clientOpts = append(clientOpts, connect.WithGRPCWeb())
	}
	if opts.encoding == "json" {
		clientOpts = append(clientOpts, connect.WithProtoJSON())
	}
	if opts.get {
		clientOpts = append(clientOpts, connect.WithHTTPGet())
	}
	tlsConfig, err := clientTLS(opts)
	if err != nil {
		return nil, err
	}
	// gRPC and bidirectional streams need HTTP/2.
	http2Only := opts.protocol == "grpc" || opts.rpc == "bidi-hello"
	client := httpClient(http2Only, tlsConfig)
	base := opts.addrs[0].Scheme + "://" + opts.addrs[0].Host
	if len(opts.addrs) > 1 || net.ParseIP(opts.addrs[0].Hostname()) == nil {
		servers, err := targets(ctx, opts.addrs, net.DefaultResolver.LookupHost)
		if err != nil {
			return nil, err
		}
		if len(servers) > 1 {
			if opts.addrs[0].Scheme == "https" && tlsConfig.ServerName == "" {
				tlsConfig.ServerName = opts.addrs[0].Hostname() // the certificate names the host, not an address
			}
			client.Transport = &roundRobin{next: client.Transport, targets: servers}
		}
	}
	return rpc_packageconnect.NewHelloWorldServiceClient(client, base, clientOpts...), nil
}

// clientTLS returns the TLS settings of -tls-ca and -insecure-skip-verify.
func clientTLS(opts options) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: opts.insecure} //nolint:gosec // the user asked for it
	if opts.tlsCA != "" {
		pem, err := os.ReadFile(opts.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("read -tls-ca: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-tls-ca %s holds no PEM certificate", opts.tlsCA)
		}
	}
	return cfg, nil
}

// httpClient returns a client for http URLs that speaks HTTP/1.1, or HTTP/2
// with prior knowledge (h2c) when http2Only is true; for https URLs it speaks
// HTTP/2 (and HTTP/1.1 unless http2Only), negotiated by ALPN.
func httpClient(http2Only bool, tlsConfig *tls.Config) *http.Client {
	protocols := new(http.Protocols)
	protocols.SetHTTP2(true)
	if http2Only {
		protocols.SetUnencryptedHTTP2(true)
	} else {
		protocols.SetHTTP1(true)
	}
	return &http.Client{Transport: &http.Transport{
		Protocols:         protocols,
		TLSClientConfig:   tlsConfig,
		ForceAttemptHTTP2: true,
	}}
}

// describe turns a failed call into one line that says what went wrong.
func describe(err error, opts options) error {
	var opErr *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: connection refused (is hello-server running there?)", opts.addr)
	case connect.CodeOf(err) == connect.CodeDeadlineExceeded || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s%q to %s: no reply within %s", opts.rpc, opts.names, opts.addr, opts.timeout)
	case errors.As(err, &opErr):
		return fmt.Errorf("cannot reach %s: %v", opts.addr, opErr)
	}
	return fmt.Errorf("%s%q to %s over %s: %s: %s", opts.rpc, opts.names, opts.addr, opts.protocol,
		connect.CodeOf(err), errorMessage(err))
}

// errorMessage returns the server's message for err, without the code prefix.
func errorMessage(err error) string {
	var connectErr *connect.Error
	if errors.As(err, &connectErr) {
		return connectErr.Message()
	}
	return err.Error()
}
