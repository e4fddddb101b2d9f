package web_test

import (
	"crypto/sha256"
	"encoding/base64"
	"os"
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
	"github.com/hellorpc/hellorpc/web"
)

// TestPolicyAllowsThePagesInlineBlocksOnly checks the page's CSP against
// static/index.html: the text of its inline <script> and <style> is allowed
// by hash, under the right directive, and nothing inline besides.
func TestPolicyAllowsThePagesInlineBlocksOnly(t *testing.T) {
	t.Parallel()
	html, err := os.ReadFile("static/index.html")
	assert.NoError(t, err, "read static/index.html")
	policy := web.ContentSecurityPolicy()
	for _, tag := range []string{"script", "style"} {
		open := strings.Index(string(html), "<"+tag)
		assert.True(t, open >= 0, "index.html has an inline <"+tag+">")
		start := open + strings.Index(string(html[open:]), ">") + 1
		end := start + strings.Index(string(html[start:]), "</"+tag+">")
		sum := sha256.Sum256(html[start:end])
		want := tag + "-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
		assert.Contains(t, policy, want, "CSP allows the inline <"+tag+">")
		assert.Equal(t, strings.Count(string(html), "<"+tag), 1, "inline <"+tag+"> blocks")
	}
	assert.Equal(t, strings.Count(policy, "'sha256-"), 2, "hashes in the CSP")
	assert.True(t, !strings.Contains(policy, "unsafe-inline"), "no 'unsafe-inline': "+policy)
}
