package interop

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hellorpc/hellorpc/internal/testkit/chromium"
)

// npmPackage reports, as an error, that the npm package name is not
// installed under web/node_modules.
func (e *env) npmPackage(name string) error {
	if _, err := os.Stat(filepath.Join(e.root, "web", "node_modules", name, "package.json")); err != nil {
		return fmt.Errorf("the npm package %s is not installed (npm ci --prefix web)", name)
	}
	return nil
}

// bundle builds web/interop/<src> with esbuild into the temp dir.
func (e *env) bundle(ctx context.Context, src, out string, args ...string) (string, error) {
	esbuild, err := e.tool("esbuild")
	if err != nil {
		return "", err
	}
	target := filepath.Join(e.tmp, out)
	_, err = e.output(ctx, nil, esbuild, append([]string{"web/interop/" + src, "--bundle", "--format=esm",
		"--log-level=warning", "--outfile=" + target}, args...)...)
	return target, err
}

func (e *env) connectNodeCells(ctx context.Context) group {
	node, err := e.tool("node")
	if err == nil {
		_, err = e.bundle(ctx, "connect-node.ts", "connect-node.mjs", "--platform=node")
	}
	if err != nil {
		return group{missing: err, cells: []cell{{client: "connect-es (Node)", protocol: "all", http: "all", rpc: "all"}}}
	}
	script := filepath.Join(e.tmp, "connect-node.mjs")
	var cells []cell
	for _, protocol := range []string{"connect-json", "connect-binary", "grpcweb", "grpc"} {
		for _, http := range []string{"1.1", "2"} {
			if protocol == "grpc" && http == "1.1" {
				continue // connect-node offers gRPC over HTTP/2 only
			}
			for _, rpc := range []string{"unary", "server-stream"} {
				want := map[string][]string{"unary": wantUnary, "server-stream": wantServer}[rpc]
				cells = append(cells, cell{client: "connect-es (Node)", protocol: protocol, http: http, rpc: strings.ReplaceAll(rpc, "-", " "), want: want, parse: lines,
					run: func(ctx context.Context) (string, error) {
						return e.output(ctx, nil, node, script, e.url, protocol, http, rpc, "eric")
					}})
			}
		}
	}
	return group{cells: cells}
}

func (e *env) grpcJSCells() group {
	node, err := e.tool("node")
	if err == nil {
		err = e.npmPackage("@grpc/grpc-js")
	}
	if err != nil {
		return group{missing: err, cells: []cell{{client: "@grpc/grpc-js", protocol: "gRPC", http: "2", rpc: "all"}}}
	}
	call := func(rpc string, want []string, names ...string) cell {
		args := append([]string{"web/interop/grpc-js.mjs", e.addr, filepath.Join(e.root, "proto/rpc_package/helloworld.proto"), rpc}, names...)
		return cell{client: "@grpc/grpc-js", protocol: "gRPC", http: "2", rpc: strings.ReplaceAll(rpc, "-", " "), want: want, parse: lines,
			run: func(ctx context.Context) (string, error) { return e.output(ctx, nil, node, args...) }}
	}
	return group{cells: []cell{
		call("unary", wantUnary, "eric"),
		call("server-stream", wantServer, "eric"),
		call("client-stream", wantClient, "a", "b", "c"),
		call("bidi", wantBidi, "a", "b"),
	}}
}

// grpcWebCells drive Google's grpc-web runtime in Chromium, from a page on
// another origin than the API.
func (e *env) grpcWebCells(ctx context.Context) group {
	cells := []cell{}
	for _, format := range []string{"text", "binary"} {
		for _, rpc := range []string{"unary", "server-stream"} {
			want := map[string][]string{"unary": wantUnary, "server-stream": wantServer}[rpc]
			cells = append(cells, cell{client: "grpc-web (Chromium, cross-origin)", protocol: "grpcweb (" + format + ")", http: "1.1",
				rpc: strings.ReplaceAll(rpc, "-", " "), want: want, parse: lines})
		}
	}
	path, err := chromium.Path()
	if err == nil {
		_, err = e.bundle(ctx, "grpcweb.ts", "page/grpcweb.js")
	}
	if err != nil {
		return group{missing: fmt.Errorf("the grpc-web page needs Chromium and esbuild: %w", err), cells: cells}
	}
	browser := &browser{path: path, dir: filepath.Join(e.tmp, "chromium")}
	e.stop = append(e.stop, browser.close)
	for i := range cells {
		rpc := strings.ReplaceAll(cells[i].rpc, " ", "-")
		format := strings.TrimSuffix(strings.TrimPrefix(cells[i].protocol, "grpcweb ("), ")")
		cells[i].run = func(ctx context.Context) (string, error) {
			return browser.grpcWeb(ctx, e.pageURL+"/?api="+url.QueryEscape(e.url), rpc, format)
		}
	}
	return group{cells: cells}
}

// browser starts Chromium on first use.
type browser struct {
	path, dir string
	ctx       context.Context
	cancel    []context.CancelFunc
}

func (b *browser) close() {
	for _, cancel := range b.cancel {
		cancel()
	}
}

// grpcWeb opens the grpc-web page and makes one call; it returns the replies,
// one per line, or the error the runtime reported.
func (b *browser) grpcWeb(ctx context.Context, pageURL, rpc, format string) (string, error) {
	if b.ctx == nil {
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromium.Options(b.path, b.dir)...)
		tab, cancelTab := chromedp.NewContext(alloc)
		b.ctx, b.cancel = tab, []context.CancelFunc{cancelTab, cancelAlloc}
		if err := chromedp.Do(tab); err != nil {
			return "", fmt.Errorf("start Chromium: %w", err)
		}
	}
	// The browser outlives this call: bound the tab's work, and end it early
	// when the caller's ctx ends.
	tab, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	type event struct{ Kind, Text string }
	err := chromedp.Do(tab,
		chromedp.Navigate(pageURL),
		chromedp.Poll[chromedp.Void](`document.body.dataset.ready === "true"`),
	)
	if err != nil {
		return "", err
	}
	id, err := chromedp.Run(tab, chromedp.Evaluate[int](fmt.Sprintf(`window.hello.call(%q, "eric", %q)`, rpc, format)))
	if err != nil {
		return "", err
	}
	got, err := chromedp.Run(tab, chromedp.Poll[[]event](fmt.Sprintf(
		`window.hello.calls[%d].done ? window.hello.calls[%d].events.map(e => ({kind: e.kind, text: e.text})) : null`, id, id)))
	if err != nil {
		return "", err
	}
	out := ""
	for _, ev := range got {
		switch ev.Kind {
		case "data":
			out += ev.Text + "\n"
		case "error":
			return out, errors.New("grpc-web: " + ev.Text)
		}
	}
	return out, nil
}
