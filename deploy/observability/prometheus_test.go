package observability_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	rpc "github.com/hellorpc/hellorpc/gen/rpc_package"
	"github.com/hellorpc/hellorpc/gen/rpc_package/rpc_packageconnect"
	"github.com/hellorpc/hellorpc/internal/metrics"
	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/server/servertest"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// prometheus is a Prometheus process with its HTTP API at url.
type prometheus struct {
	url  string
	logs servertest.Buffer
}

// startPrometheus runs Debian's prometheus on a free loopback port, scraping
// target every second as job "hellorpc", with alerts.yml loaded.
func startPrometheus(t *testing.T, bin, target string) *prometheus {
	dir := t.TempDir()
	rules, err := filepath.Abs("alerts.yml")
	assert.NoError(t, err, "alerts.yml")
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [%q]
scrape_configs:
  - job_name: hellorpc
    static_configs: [{targets: [%q]}]
`, rules, target)
	assert.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o600), "config")
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port, for Prometheus to take
	assert.NoError(t, err, "free port")
	addr := ln.Addr().String()
	ln.Close()
	p := &prometheus{url: "http://" + addr}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &p.logs, &p.logs
	assert.NoError(t, cmd.Start(), "start prometheus")
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("prometheus:\n%s", p.logs.String())
		}
	})
	// Ready within 600 polls; a loaded machine starts it slowly.
	for i := 0; ; i++ {
		res, err := http.Get(p.url + "/-/ready")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return p
			}
		}
		if i == 600 {
			t.Fatalf("prometheus not ready after %d polls: %v", i, err)
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("prometheus exited: %v", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sample is one element of an instant vector.
type sample struct {
	Metric map[string]string
	Value  float64
}

// query runs an instant PromQL query and returns its vector.
func (p *prometheus) query(t *testing.T, q string) []sample {
	t.Helper()
	res, err := http.Get(p.url + "/api/v1/query?query=" + url.QueryEscape(q))
	assert.NoError(t, err, "query "+q)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	assert.NoError(t, err, "read the answer to "+q)
	var answer struct {
		Status, Error string
		Data          struct {
			Result []struct {
				Metric map[string]string
				Value  [2]json.RawMessage
			}
		}
	}
	assert.NoError(t, json.Unmarshal(body, &answer), "decode "+string(body))
	assert.Equal(t, answer.Status, "success", q+": "+answer.Error)
	var out []sample
	for _, r := range answer.Data.Result {
		var s string
		assert.NoError(t, json.Unmarshal(r.Value[1], &s), "value")
		v, err := strconv.ParseFloat(s, 64)
		assert.NoError(t, err, "value "+s)
		out = append(out, sample{r.Metric, v})
	}
	return out
}

// scalar runs q, which must give one sample, and returns its value.
func (p *prometheus) scalar(t *testing.T, q string) float64 {
	t.Helper()
	v := p.query(t, q)
	assert.Equal(t, len(v), 1, "samples of "+q)
	return v[0].Value
}

// waitScrapes waits until Prometheus has scraped the target n more times
// (counted with its own up series), within 600 polls.
func (p *prometheus) waitScrapes(t *testing.T, n int) {
	t.Helper()
	scrapes := func() float64 {
		v := p.query(t, `count_over_time(up{job="hellorpc"}[1h])`)
		if len(v) == 0 {
			return 0
		}
		return v[0].Value
	}
	start := scrapes()
	for i := 0; scrapes() < start+float64(n); i++ {
		if i == 600 {
			t.Fatalf("fewer than %d scrapes after %d polls", n, i)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestPrometheusScrapesEveryProtocol has a real Prometheus scrape a server
// called in gRPC, gRPC-Web, Connect and REST, with errors, and asks it what
// the dashboard and the alerts ask: the rate of calls per method and
// protocol, the error ratio, and SayHello's p99, below 1 ms unloaded. It
// also runs every query of the dashboard and finds alerts.yml's rules loaded
// and healthy.
func TestPrometheusScrapesEveryProtocol(t *testing.T) {
	bin := lookPath(t, "prometheus")
	m := metrics.New()
	srv := servertest.Start(t, server.Config{Metrics: m})
	scraped := httptest.NewServer(m.Handler())
	t.Cleanup(scraped.Close)
	p := startPrometheus(t, bin, strings.TrimPrefix(scraped.URL, "http://"))

	ctx := t.Context()
	clients := map[string]rpc_packageconnect.HelloWorldServiceClient{
		"grpc":     rpc_packageconnect.NewHelloWorldServiceClient(servertest.H2CClient(t), srv.URL, connect.WithGRPC()),
		"grpc_web": rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL, connect.WithGRPCWeb()),
		"connect":  rpc_packageconnect.NewHelloWorldServiceClient(servertest.HTTP1Client(t), srv.URL),
	}
	h1 := servertest.HTTP1Client(t)
	var took []time.Duration // of every successful SayHello, as the client saw it
	timed := func(call func() error) error {
		start := time.Now()
		err := call()
		if err == nil {
			took = append(took, time.Since(start))
		}
		return err
	}
	rest := func(name string) error {
		res, err := h1.Get(srv.URL + "/v1/hello/" + url.PathEscape(name))
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("REST: HTTP %d", res.StatusCode)
		}
		return nil
	}
	// calls makes ok good calls and bad ones (an empty name: invalid_argument)
	// in every protocol.
	calls := func(ok, bad int) {
		for protocol, c := range clients {
			for i := range ok + bad {
				name := "eric"
				if i >= ok {
					name = ""
				}
				err := timed(func() error { _, err := c.SayHello(ctx, &rpc.HelloRequest{Name: name}); return err })
				assert.True(t, (err == nil) == (i < ok), fmt.Sprintf("%s call %d: %v", protocol, i, err))
			}
		}
		for i := range ok {
			assert.NoError(t, timed(func() error { return rest(fmt.Sprint("eric", i)) }), "REST call")
		}
		for range bad {
			assert.True(t, rest(strings.Repeat("a", 101)) != nil, "REST call with a name too long")
		}
	}
	// Every series exists before the rates are asked for, then grows.
	calls(1, 1)
	p.waitScrapes(t, 2)
	calls(150, 50)
	p.waitScrapes(t, 2)

	const sayHello = `rpc_method="rpc_package.HelloWorldService/SayHello"`
	total := p.scalar(t, `sum(rpc_server_call_duration_seconds_count{`+sayHello+`})`)
	assert.Equal(t, total, float64(4*(151+51)), "SayHello calls scraped")
	rates := p.query(t, `sum by (rpc_method, protocol) (rate(rpc_server_call_duration_seconds_count[1m]))`)
	got := map[string]float64{}
	for _, s := range rates {
		got[s.Metric["rpc_method"]+" "+s.Metric["protocol"]] = s.Value
	}
	for _, protocol := range []string{"grpc", "grpc_web", "connect", "rest"} {
		assert.True(t, got["rpc_package.HelloWorldService/SayHello "+protocol] > 0, "a rate of SayHello calls in "+protocol+fmt.Sprint(got))
	}
	assert.Equal(t, len(got), 4, fmt.Sprint("rates: SayHello in four protocols, nothing else: ", got))
	ratio := p.scalar(t, `sum(rate(rpc_server_call_duration_seconds_count{rpc_response_status_code!="OK"}[1m])) / sum(rate(rpc_server_call_duration_seconds_count[1m]))`)
	assert.True(t, ratio > 0.15 && ratio < 0.35, fmt.Sprintf("error ratio %.3f, 50 of 200 calls a protocol", ratio))
	invalid := p.scalar(t, `sum(rpc_server_call_duration_seconds_count{rpc_response_status_code="INVALID_ARGUMENT"})`)
	assert.Equal(t, invalid, float64(4*51), "invalid_argument calls")

	// The server's p99 is at most the clients' (each call's server time is
	// within its client time), to the resolution of the buckets: below 1 ms
	// whenever the clients saw SayHello's p99 below 1 ms, as an unloaded
	// machine does. A loaded one (the clients' p99 above) cannot show
	// whether the server would be faster, so the test asks no more of it
	// than the bound.
	p99 := p.scalar(t, `histogram_quantile(0.99, sum by (le) (rate(rpc_server_call_duration_seconds_bucket{`+sayHello+`, rpc_response_status_code="OK"}[1m])))`)
	slices.Sort(took)
	clientP99 := took[(len(took)*99+99)/100-1].Seconds()
	bound := math.Inf(1)
	if i, _ := slices.BinarySearch(metrics.DurationBuckets, clientP99); i < len(metrics.DurationBuckets) {
		bound = metrics.DurationBuckets[i]
	}
	if p99 > bound {
		buckets := p.query(t, `sum by (le) (rpc_server_call_duration_seconds_bucket{`+sayHello+`, rpc_response_status_code="OK"})`)
		t.Errorf("SayHello p99 %.6f s, above the clients' %.6f s (bucket bound %g); buckets: %v", p99, clientP99, bound, buckets)
	}
	if clientP99 < 0.001 {
		assert.True(t, p99 < 0.001, fmt.Sprintf("SayHello p99 %.6f s below 1 ms, as the clients' (%.6f s)", p99, clientP99))
	}
	t.Logf("SayHello p99 %.1f µs (the clients' %.1f µs over %d calls); error ratio %.3f", p99*1e6, clientP99*1e6, len(took), ratio)

	for _, q := range dashboardQueries(t) {
		_ = p.query(t, q) // each parses and runs
	}
	res, err := http.Get(p.url + "/api/v1/rules")
	assert.NoError(t, err, "rules")
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	assert.True(t, bytes.Count(body, []byte(`"health":"ok"`)) == 5, "five rules loaded and evaluated healthy: "+string(body))
}
