// Package chromium finds Debian's Chromium and gives the chromedp options that
// hellorpc runs it with: headless, no sandbox (tests run as root), no GPU, no
// QUIC, and none of the background traffic that this machine's closed network
// refuses.
package chromium

import (
	"os"
	"os/exec"

	"github.com/chromedp/chromedp"
)

// PathVar names the environment variable that may point at another Chromium
// binary. Default /usr/bin/chromium, else "chromium" on PATH.
const PathVar = "HELLORPC_CHROMIUM"

// Path returns the Chromium binary to run, or an error saying why there is none.
func Path() (string, error) {
	if p := os.Getenv(PathVar); p != "" {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium", nil
	}
	return exec.LookPath("chromium")
}

// Options returns the allocator options for a headless Chromium at path with
// a fresh profile in userDataDir.
func Options(path, userDataDir string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(userDataDir),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(900, 700),
	}
}
