package web

import (
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"strings"
	"sync"
)

// policyBase is the Content-Security-Policy of every file of the page but
// for its inline blocks: scripts, styles and everything else from the
// page's own origin only; calls (connect-src) to the own origin or any
// http: or https: origin, since the page may call an API elsewhere (?api=);
// no framing, no plugins, no <base>, forms posting only home. The icon is an
// empty data: URL.
const policyBase = "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// inlineBlock matches an inline <script> or <style> element of index.html
// as build.mjs writes them (attributes allowed, no nesting): group 1 is
// the tag, group 2 the attributes, group 3 the text, which a Content-
// Security-Policy hash covers.
var inlineBlock = regexp.MustCompile(`(?s)<(script|style)(\s[^>]*)?>(.*?)</(?:script|style)>`)

// ContentSecurityPolicy returns the Content-Security-Policy sent with every
// file of the page: policyBase, plus script-src and style-src that allow
// the page's own origin and the inline <script> and <style> blocks of the
// embedded index.html by their SHA-256 hashes, and no other inline code (a
// script injected into the page is refused).
func ContentSecurityPolicy() string { return policy() }

var policy = sync.OnceValue(func() string {
	html, err := static.ReadFile("static/index.html")
	if err != nil {
		// The file is compiled in: failing to read it is a build defect.
		panic("web: reading the embedded index.html: " + err.Error())
	}
	return policyFor(string(html))
})

// policyFor returns the Content-Security-Policy for a page with html.
func policyFor(html string) string {
	sources := map[string][]string{"script": {"'self'"}, "style": {"'self'"}}
	for _, m := range inlineBlock.FindAllStringSubmatch(html, -1) {
		tag, attrs, text := m[1], m[2], m[3]
		if strings.Contains(attrs, "src=") || text == "" {
			continue // loads a file, which 'self' allows
		}
		sum := sha256.Sum256([]byte(text))
		sources[tag] = append(sources[tag], "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return policyBase + "; script-src " + strings.Join(sources["script"], " ") +
		"; style-src " + strings.Join(sources["style"], " ")
}
