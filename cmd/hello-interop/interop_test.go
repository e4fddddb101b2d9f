package main

import (
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/cmd/hello-interop/interop"
	"github.com/hellorpc/hellorpc/internal/testkit/testenv"
)

// TestInteropMatrix runs every cell of the matrix; a missing client skips its
// cells, or fails them under HELLORPC_REQUIRE_ALL=1.
func TestInteropMatrix(t *testing.T) {
	testenv.SkipIfShort(t, "third-party clients")
	results, err := interop.Run(t.Context(), interop.Options{Root: "../.."})
	if err != nil {
		t.Fatalf("interop: %v", err)
	}
	missing := 0
	for _, r := range results {
		if r.Status == interop.Missing {
			missing++
		}
	}
	// A missing client stands for its cells with one row, so the full count
	// is known only when every client is here.
	if missing == 0 && len(results) < 50 {
		t.Fatalf("the matrix has %d cells, want at least 50", len(results))
	}
	for _, r := range results {
		name := strings.Join([]string{r.Client, r.Protocol, r.HTTP, r.RPC}, "/")
		t.Run(name, func(t *testing.T) {
			switch r.Status {
			case interop.Pass, interop.ByDesign:
				t.Logf("%s: %s", r.Status, r.Detail)
			case interop.Missing:
				testenv.Missing(t, r.Client, errorString(r.Detail))
			default:
				t.Errorf("%s: %s", r.Status, r.Detail)
			}
		})
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
