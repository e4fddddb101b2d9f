// Package testenv decides what a test does when something it needs from
// outside Go (Chromium, Debian's python3-grpcio, a third-party client) is
// missing: on a developer's machine it skips with a clear message; with
// HELLORPC_REQUIRE_ALL=1, as .ci/run sets after installing everything, it
// fails instead, so that nothing is skipped in CI.
package testenv

import (
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

// Command returns the path of the executable file, looked up on PATH and
// then in $GOPATH/bin (where go install puts it), or stops the test through
// Missing when it cannot be found.
func Command(t testing.TB, file, what string) string {
	t.Helper()
	path, err := exec.LookPath(file)
	if err != nil {
		var err2 error
		if path, err2 = exec.LookPath(filepath.Join(build.Default.GOPATH, "bin", file)); err2 != nil {
			Missing(t, what, err)
		}
	}
	return path
}

// Python returns Debian's /usr/bin/python3 after checking that it can import
// grpc and grpc_tools (packages python3-grpcio and python3-grpc-tools), or
// stops the test through Missing.
func Python(t testing.TB) string {
	t.Helper()
	const python = "/usr/bin/python3"
	const what = "Debian's python3 with grpcio and grpc-tools (apt-get install python3-grpcio python3-grpc-tools)"
	out, err := exec.Command(python, "-c", "import grpc, grpc_tools").CombinedOutput()
	if err != nil {
		Missing(t, what, &exec.Error{Name: python + ": " + string(out), Err: err})
	}
	return python
}
