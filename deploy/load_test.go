package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
)

// callDeadline is every call's deadline at the client: a typical one, longer
// than the balancers' timeouts for a greeting, so that the balancer gives up
// on a stuck instance (and tries another) before the client gives up on the
// call.
const callDeadline = 5 * time.Second

// clientIdleTimeout is how long the clients keep an idle connection: less
// than the balancers' own keep-alive timeouts (HAProxy's timeout
// http-keep-alive 10s, nginx's keepalive_timeout 75s), as it must be: a
// client that sends on a connection at the moment the server closes it for
// being idle loses the call (deploy/README.md).
const clientIdleTimeout = 5 * time.Second

// protocol is one way of calling SayHello through a balancer. Each call
// carries id in its X-Call-Id header, for the balancer's log (test copies of
// the configurations log it).
type protocol struct {
	name string
	call func(ctx context.Context, id string) error
}

// protocols are the four a balancer carries: gRPC over h2c, and Connect
// JSON, gRPC-Web and REST over HTTP/1.1 with keep-alive, as browsers and
// most HTTP clients call. No client retries a call: what fails is lost.
// (Go's Transport, as browsers do, sends a GET again on a new connection
// when the server closed the kept-alive one before reading the request; it
// never does so for a POST.)
func protocols(lb balancer) []protocol {
	h2cClient, h1Client := httpClients()
	unary := func(c rpc_packageconnect.HelloWorldServiceClient) func(context.Context, string) error {
		return func(ctx context.Context, id string) error {
			ctx, info := connect.NewClientContext(ctx)
			info.RequestHeader().Set("X-Call-Id", id)
			_, err := c.SayHello(ctx, &rpc.HelloRequest{Name: "eric"})
			return err
		}
	}
	return []protocol{
		{"grpc", unary(rpc_packageconnect.NewHelloWorldServiceClient(h2cClient, lb.grpcURL, connect.WithGRPC()))},
		{"connect-json", unary(rpc_packageconnect.NewHelloWorldServiceClient(h1Client, lb.http1URL, connect.WithProtoJSON()))},
		{"grpc-web", unary(rpc_packageconnect.NewHelloWorldServiceClient(h1Client, lb.http1URL, connect.WithGRPCWeb()))},
		{"rest", func(ctx context.Context, id string) error { return restHello(ctx, h1Client, lb.http1URL, id) }},
	}
}

// httpClients returns an HTTP client that speaks h2c only, and one that
// speaks HTTP/1.1 with keep-alive.
func httpClients() (h2c, h1 *http.Client) {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: protocols}},
		&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: clientIdleTimeout}}
}

// restHello calls GET /v1/hello/eric, SayHello's REST form.
func restHello(ctx context.Context, client *http.Client, base, id string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/v1/hello/eric", nil)
	if err != nil {
		return err
	}
	req.Header.Set("X-Call-Id", id)
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"Hello, eric!"`) {
		return fmt.Errorf("REST: HTTP status %d: %.100s", res.StatusCode, body)
	}
	return nil
}

// call is one call of a load: its X-Call-Id, when it started and ended at
// the client, and how it failed (nil: it succeeded).
type call struct {
	id, protocol string
	start, end   time.Time
	err          error
}

// load calls SayHello in a closed loop, workers per protocol, each call
// with callDeadline and an id that names the scenario, until finish. Bounded: a worker makes at most a
// million calls.
type load struct {
	stop atomic.Bool
	wg   sync.WaitGroup
	mu   sync.Mutex
	ok   atomic.Int64 // calls that succeeded so far
	all  []call
}

func startLoad(ctx context.Context, scenario string, protocols []protocol, workers int) *load {
	l := new(load)
	for _, p := range protocols {
		for w := range workers {
			l.wg.Go(func() {
				var mine []call
				for n := 0; n < 1_000_000 && !l.stop.Load() && ctx.Err() == nil; n++ {
					callCtx, cancel := context.WithTimeout(ctx, callDeadline)
					c := call{id: fmt.Sprintf("%s-%s-%d-%d", scenario, p.name, w, n), protocol: p.name, start: time.Now()}
					c.err = p.call(callCtx, c.id)
					c.end = time.Now()
					cancel()
					if c.err == nil {
						l.ok.Add(1)
					}
					mine = append(mine, c)
				}
				l.mu.Lock()
				l.all = append(l.all, mine...)
				l.mu.Unlock()
			})
		}
	}
	return l
}

// waitCalls waits until n more calls have succeeded (or ctx ends), so that a
// scenario starts on a load under way, however slow the machine.
func (l *load) waitCalls(ctx context.Context, n int64) {
	want := l.ok.Load() + n
	for l.ok.Load() < want && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
}

// finish stops the load and returns every call it made.
func (l *load) finish() []call {
	l.stop.Store(true)
	l.wg.Wait()
	return l.all
}

// outcome sums up the calls of one scenario: how many, how many failed
// (lost: no client retries), by error kind, and the longest.
type outcome struct {
	calls, lost int
	kinds       map[string]int
	longest     time.Duration
}

func outcomeOf(calls []call) outcome {
	o := outcome{calls: len(calls), kinds: map[string]int{}}
	for _, c := range calls {
		o.longest = max(o.longest, c.end.Sub(c.start))
		if c.err != nil {
			o.lost++
			o.kinds[c.protocol+": "+errorKind(c.err)]++
		}
	}
	return o
}

func (o outcome) String() string {
	kinds := make([]string, 0, len(o.kinds))
	for _, k := range slices.Sorted(maps.Keys(o.kinds)) {
		kinds = append(kinds, fmt.Sprintf("%s ×%d", k, o.kinds[k]))
	}
	return fmt.Sprintf("calls=%d lost=%d longest=%v kinds=[%s]", o.calls, o.lost, o.longest.Round(time.Millisecond), strings.Join(kinds, "; "))
}

var httpStatus = regexp.MustCompile(`\b[45]\d\d\b`)

// errorKind names how a call failed, without the parts that differ from one
// call to the next (addresses, ports).
func errorKind(err error) string {
	code := connect.CodeOf(err).String() // unknown for errors of no RPC
	if errors.Is(err, context.DeadlineExceeded) {
		code = connect.CodeDeadlineExceeded.String()
	}
	msg := err.Error()
	for _, cause := range []string{"connection reset", "server closed idle connection", "connection refused",
		"broken pipe", "unexpected EOF", "EOF", "deadline exceeded", "stream error", "GOAWAY"} {
		if strings.Contains(msg, cause) {
			return code + " (" + cause + ")"
		}
	}
	if s := httpStatus.FindString(msg); s != "" {
		return code + " (HTTP " + s + ")"
	}
	return code + " (" + msg + ")"
}
