// Package interop runs the interop matrix: third-party clients that people
// already use (Python grpcio, grpcurl, buf curl, curl, connect-es in Node,
// @grpc/grpc-js, Google's grpc-web runtime in Chromium) against a freshly
// built hello-server, and hello-client against the tutorial's Python server.
// Each cell is one client × protocol × HTTP version × RPC kind; cells that
// cannot work by protocol design are run too, and must fail.
//
// cmd/hello-interop prints the matrix as a table; its test runs it under
// go test.
package interop

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
)

// Status is the outcome of one cell.
type Status string

const (
	Pass     Status = "pass"
	Fail     Status = "FAIL"
	ByDesign Status = "n/a by design" // cannot work by protocol design, and failed as it should
	Missing  Status = "missing"       // the client is not installed here
)

// Result is one cell of the matrix.
type Result struct {
	Client, Protocol, HTTP, RPC string
	Status                      Status
	Detail                      string // the reply, or the error the client got
}

// Options configure Run.
type Options struct {
	// Root is the project's root directory. Default ".".
	Root string
	// Log receives progress lines. Default: discard.
	Log io.Writer
}

// cell is one client call and what it must give.
type cell struct {
	client, protocol, http, rpc string
	want                        []string // the replies, in order; nil when the cell must fail
	why                         string   // for a cell that must fail: why it cannot work
	run                         func(ctx context.Context) (string, error)
	parse                       func(out string) []string
}

// Run builds and starts the servers, runs every cell and returns the results.
func Run(ctx context.Context, opts Options) ([]Result, error) {
	if opts.Root == "" {
		opts.Root = "."
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	e, err := setup(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer e.close()

	var results []Result
	for _, g := range e.groups(ctx) {
		if g.missing != nil {
			for _, c := range g.cells {
				results = append(results, Result{c.client, c.protocol, c.http, c.rpc, Missing, g.missing.Error()})
			}
			continue
		}
		for _, c := range g.cells {
			fmt.Fprintf(opts.Log, "interop: %s %s %s %s\n", c.client, c.protocol, c.http, c.rpc)
			r := runCell(ctx, c)
			r.Detail = portRE.ReplaceAllString(r.Detail, "127.0.0.1:PORT") // the same table every run
			results = append(results, r)
		}
	}
	return results, nil
}

var portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// runCell runs c and judges its output.
func runCell(ctx context.Context, c cell) Result {
	r := Result{Client: c.client, Protocol: c.protocol, HTTP: c.http, RPC: c.rpc}
	out, err := c.run(ctx)
	switch {
	case c.want == nil && err != nil:
		r.Status, r.Detail = ByDesign, c.why+"; the client says: "+firstLine(err.Error())
	case c.want == nil:
		r.Status, r.Detail = Fail, "succeeded, but "+c.why+": "+firstLine(out)
	case err != nil:
		r.Status, r.Detail = Fail, err.Error()
	default:
		got := c.parse(out)
		if slices.Equal(got, c.want) {
			r.Status, r.Detail = Pass, summary(got)
		} else {
			r.Status, r.Detail = Fail, fmt.Sprintf("got %q, want %q", got, c.want)
		}
	}
	return r
}

func summary(replies []string) string {
	if len(replies) == 1 {
		return replies[0]
	}
	return fmt.Sprintf("%s … %s (%d replies)", replies[0], replies[len(replies)-1], len(replies))
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// Table renders results as a Markdown table.
func Table(results []Result) string {
	var b strings.Builder
	b.WriteString("| client | protocol | HTTP | RPC | result | reply or error |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		detail := strings.ReplaceAll(r.Detail, "|", "\\|")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.Client, r.Protocol, r.HTTP, r.RPC, r.Status, detail)
	}
	return b.String()
}
