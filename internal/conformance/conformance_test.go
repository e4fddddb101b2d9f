package conformance_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/hellorpc/hellorpc/internal/conformance"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// serverModeVar, set to 1, makes the test binary the suite's server under
// test instead of running tests: connectconformance starts it so.
const serverModeVar = "HELLORPC_CONFORMANCE_SERVER"

func TestMain(m *testing.M) {
	if os.Getenv(serverModeVar) == "1" {
		// The runner stops each server it starts with SIGTERM.
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		err := conformance.Serve(ctx, os.Stdin, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance server:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// summary is the runner's last line: "Total cases: 730\n723 passed, 7 failed".
var summary = regexp.MustCompile(`Total cases: (\d+)\n(\d+) passed, (\d+) failed`)

// TestConnectConformance runs the Connect conformance suite
// (connectconformance v1.0.7, server mode) against server.New with the
// product's defaults and ConformanceService mounted, with every case that
// testdata/config.yaml declares, and no case allowed to fail.
func TestConnectConformance(t *testing.T) {
	testenv.SkipIfShort(t, "the Connect conformance suite")
	bin, err := testenv.GoInstalled("connectconformance")
	if err != nil {
		testenv.Missing(t, "connectconformance (go install connectrpc.com/conformance/cmd/connectconformance@v1.0.7)", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary, which serves: %v", err)
	}
	// Generous: the suite takes about a minute on a loaded machine; the
	// runner's own timeouts end a case that hangs.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--mode", "server", "--conf", "testdata/config.yaml", "--", self)
	cmd.Env = append(os.Environ(), serverModeVar+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	m := summary.FindSubmatch(out.Bytes())
	if m == nil {
		t.Fatalf("connectconformance printed no summary (%v):\n%s", runErr, out.Bytes())
	}
	t.Logf("Connect conformance suite on server.New: %s cases, %s passed, %s failed", m[1], m[2], m[3])
	if runErr != nil || string(m[3]) != "0" || string(m[1]) == "0" {
		t.Fatalf("connectconformance: %v\n%s", runErr, out.Bytes())
	}
}
