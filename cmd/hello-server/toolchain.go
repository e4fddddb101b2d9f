package main

import (
	"go/version"
	"runtime"
)

// fixedToolchain is the first Go release without two HTTP/2 server
// vulnerabilities that hello-server is exposed to: an HPACK encoder race
// (GO-2026-6617, CVE-2026-97032) and a flow-control double refund
// (CVE-2026-78663).
const fixedToolchain = "go1.26.9"

// toolchainWarning returns why goVersion (runtime.Version()'s form) should
// not serve in production, or "" when it has the fixes. Development builds
// ("devel ...") are not judged.
func toolchainWarning(goVersion string) string {
	if !version.IsValid(goVersion) || version.Compare(goVersion, fixedToolchain) >= 0 {
		return ""
	}
	return "built with " + goVersion + ", whose HTTP/2 server has two vulnerabilities fixed in " +
		fixedToolchain + " (GO-2026-6617 / CVE-2026-97032 HPACK encoder race, CVE-2026-78663 " +
		"flow-control double refund): rebuild with Go " + fixedToolchain[2:] + " or later before serving untrusted clients"
}

// buildVersion is the Go version this binary was built with.
var buildVersion = runtime.Version()
