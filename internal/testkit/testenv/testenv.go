// Package testenv decides what a test does when something it needs from
// outside Go (Chromium, Debian's python3-grpcio, a third-party client) is
// missing: on a developer's machine it skips with a clear message; with
// HELLORPC_REQUIRE_ALL=1, as .ci/run sets after installing everything, it
// fails instead, so that nothing is skipped in CI.
package testenv

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RequireAllVar is the environment variable that turns skips into failures.
const RequireAllVar = "HELLORPC_REQUIRE_ALL"

// Missing stops the test because what is unavailable (err says why): a skip,
// or a failure under HELLORPC_REQUIRE_ALL=1.
func Missing(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv(RequireAllVar) == "1" {
		t.Fatalf("%s is required (%s=1) but unavailable: %v", what, RequireAllVar, err)
	}
	t.Skipf("skipping: %s is unavailable (%v); install it or set %s=1 to make this a failure", what, err, RequireAllVar)
}

// SkipIfShort skips a test that runs something outside Go (a browser, a
// subprocess client) under go test -short.
func SkipIfShort(t testing.TB, what string) {
	t.Helper()
	if testing.Short() {
		t.Skipf("skipping under -short: the test runs %s", what)
	}
}

// GoInstalled finds the executable name on PATH or in $GOPATH/bin, where
// go install puts it.
func GoInstalled(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := filepath.Join(build.Default.GOPATH, "bin", name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s is not on PATH nor in %s", name, filepath.Dir(p))
	}
	return p, nil
}
