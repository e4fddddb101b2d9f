package main

import (
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/assert"
)

func TestToolchainWarning(t *testing.T) {
	for v, warn := range map[string]bool{
		"go1.26.8": true, "go1.25.12": true, "go1.26.9": false, "go1.26.10": false,
		"go1.27.3": false, "devel go1.27-abcdef": false,
	} {
		got := toolchainWarning(v)
		assert.Equal(t, got != "", warn, "a warning for "+v+": "+got)
		if warn {
			assert.True(t, strings.Contains(got, v) && strings.Contains(got, "CVE-2026-97032"), "the warning names the version and the CVEs: "+got)
		}
	}
}
