package server_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/server"
	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// h2specPath is the route h2spec requests on the product: the page, which
// answers 200 with a body.
const h2specPath = "/"

// TestH2SpecFailsNoMoreThanBareNetHTTP runs h2spec, the HTTP/2 conformance
// tool, against the product (server.New with its defaults, through Serve)
// and against a bare net/http h2c server, in the same run: every case the
// product fails, the bare server must fail too. The cases the bare server
// fails are net/http's (with Go 1.27.3: connection-specific header, TE,
// repeated SETTINGS_INITIAL_WINDOW_SIZE, invalid preface, oversized
// HEADERS); anything more is the product's own doing, through its
// connection layer (write coalescing, the HTTP/2 guard) or its handler.
func TestH2SpecFailsNoMoreThanBareNetHTTP(t *testing.T) {
	testenv.SkipIfShort(t, "h2spec")
	bin, err := testenv.GoInstalled("h2spec")
	if err != nil {
		testenv.Missing(t, "h2spec (go install github.com/summerwind/h2spec/cmd/h2spec@v2.2.1+incompatible)", err)
	}
	t.Parallel()
	servers := map[string]string{"product": serveProduct(t), "bare": serveBare(t)}
	for name, addr := range servers {
		status, body := get(t, addr)
		assert.True(t, status == http.StatusOK && body > 0, fmt.Sprintf("%s answers GET %s over h2c with 200 and a body (got %d, %d bytes)", name, h2specPath, status, body))
	}

	type run struct {
		name string
		res  h2specResult
		err  error
	}
	runs := make(chan run, len(servers))
	for name, addr := range servers {
		go func() {
			res, err := runH2Spec(t, bin, addr, 0, "")
			runs <- run{name, res, err}
		}()
	}
	results := map[string]h2specResult{}
	for range servers {
		r := <-runs
		assert.NoError(t, r.err, "h2spec on "+r.name)
		results[r.name] = r.res
	}
	product, bare := results["product"], results["bare"]
	for _, name := range []string{"product", "bare"} {
		r := results[name]
		t.Logf("h2spec on %s: %d passed, %d failed, %d skipped, of %d; failing: %s", name, r.passed, len(r.failed), r.skipped, r.total, strings.Join(r.ids(), " "))
	}
	assert.True(t, product.total > 0 && product.total == bare.total, "both runs ran the same cases")

	// A case the product alone fails is run again, alone, with a generous
	// timeout per case: some cases race net/http's handler against the
	// request's DATA frames (bare net/http fails the content-length cases
	// of 8.1.2.6 in about one run of three), and a loaded machine may time
	// one out. Only a case the product fails every time is its own.
	var extra []string
	for _, id := range product.ids() {
		if _, ok := bare.failed[id]; ok {
			continue
		}
		name, why := product.names[id], product.failed[id]
		if failsEveryTime(t, bin, servers["product"], id, name, &why) {
			extra = append(extra, id+" "+name+": "+why)
		} else {
			t.Logf("h2spec %s %s failed once on the product, then passed: %s", id, name, why)
		}
	}
	if len(extra) > 0 {
		t.Errorf("h2spec cases the product fails and bare net/http passes:\n%s", strings.Join(extra, "\n"))
	}
}

// failsEveryTime runs the section of case id (named name) on addr up to 8
// times, and reports whether the case failed each time; why gets the last
// failure.
func failsEveryTime(t *testing.T, bin, addr, id, name string, why *string) bool {
	section := id[:strings.LastIndexByte(id, '/')]
	for range 8 {
		again, err := runH2Spec(t, bin, addr, 10*time.Second, section)
		assert.NoError(t, err, "h2spec "+section+" on the product, again")
		againID, failed := again.failedByName(name)
		if !failed {
			return false
		}
		*why = again.failed[againID]
	}
	return true
}

// serveProduct serves server.New with its defaults through Serve on a
// 127.0.0.1 listener, and returns its address.
func serveProduct(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	srv := server.New(server.Config{})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(context.Background(), ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		assert.NoError(t, <-served, "Serve")
	})
	return ln.Addr().String()
}

// serveBare serves a handler that answers 200 with a body on a plain
// net/http server with HTTP/1.1 and h2c, and returns its address.
func serveBare(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	assert.NoError(t, err, "listen")
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Protocols: protocols, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hello")
	})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		assert.ErrorIs(t, <-served, http.ErrServerClosed, "Serve")
	})
	return ln.Addr().String()
}

// get returns the status and body length of GET h2specPath over h2c.
func get(t *testing.T, addr string) (int, int) {
	protocols := new(http.Protocols)
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: protocols}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get("http://" + addr + h2specPath)
	assert.NoError(t, err, "GET "+h2specPath)
	defer res.Body.Close()
	n, err := io.Copy(io.Discard, res.Body)
	assert.NoError(t, err, "body")
	return res.StatusCode, int(n)
}

// h2specResult is one h2spec run, from its JUnit report.
type h2specResult struct {
	total, passed, skipped int
	failed                 map[string]string // case id (section/number) -> what failed
	names                  map[string]string // case id -> its section's and its own name
}

func (r h2specResult) ids() []string {
	var ids []string
	for id := range r.failed {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// failedByName reports whether the case named name failed, and its id.
func (r h2specResult) failedByName(name string) (string, bool) {
	for id := range r.failed {
		if r.names[id] == name {
			return id, true
		}
	}
	return "", false
}

// runH2Spec runs h2spec on addr: every case, or those of one section (as
// "http2/6.5.3"), with a timeout per case (0: h2spec's default, 2s).
func runH2Spec(t *testing.T, bin, addr string, timeout time.Duration, section string) (h2specResult, error) {
	host, port, _ := net.SplitHostPort(addr)
	report := filepath.Join(t.TempDir(), "h2spec.xml")
	args := []string{"-h", host, "-p", port, "-P", h2specPath, "-j", report}
	if timeout > 0 {
		args = append(args, "-o", strconv.Itoa(int(timeout.Seconds())))
	}
	if section != "" {
		args = append(args, section)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	data, readErr := os.ReadFile(report)
	if readErr != nil { // h2spec exits 1 when a case fails, but writes its report
		return h2specResult{}, fmt.Errorf("h2spec %s wrote no report (%v, %v):\n%s", strings.Join(args, " "), err, readErr, out)
	}
	return parseJUnit(data)
}

// junitText is an element of a JUnit report and its text.
type junitText struct {
	Text string `xml:",chardata"`
}

// parseJUnit reads h2spec's JUnit report. A case's id is its section's
// package and its number in the section, as h2spec numbers it.
func parseJUnit(data []byte) (h2specResult, error) {
	var report struct {
		Suites []struct {
			Name    string `xml:"name,attr"`
			Package string `xml:"package,attr"`
			Cases   []struct {
				Name    string     `xml:"classname,attr"`
				Error   *junitText `xml:"error"`
				Failure *junitText `xml:"failure"`
				Skipped *junitText `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &report); err != nil {
		return h2specResult{}, fmt.Errorf("h2spec's JUnit report: %w", err)
	}
	r := h2specResult{failed: map[string]string{}, names: map[string]string{}}
	for _, s := range report.Suites {
		for i, c := range s.Cases {
			id := s.Package + "/" + strconv.Itoa(i+1)
			r.total++
			r.names[id] = s.Name + ": " + c.Name
			switch {
			case c.Error != nil || c.Failure != nil:
				why := c.Error
				if why == nil {
					why = c.Failure
				}
				r.failed[id] = strings.Join(strings.Fields(why.Text), " ")
			case c.Skipped != nil:
				r.skipped++
			default:
				r.passed++
			}
		}
	}
	return r, nil
}
