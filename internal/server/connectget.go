package server

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
)

// checkConnectGET answers a Connect GET whose message query parameter is not
// valid URL-safe base64, though base64=1 says it is, with invalid_argument
// (400). connect-go would read it through a base64 decoder and report the
// decoder's error as unknown (500). The query is read as connect-go reads it
// (url.ParseQuery: keys and values percent-decoded, the first value of each
// key), and so is the message: padded or unpadded URL-safe base64.
func checkConnectGET(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && mayAskForBase64(r.URL.RawQuery) {
			query := r.URL.Query()
			if msg := query.Get("message"); query.Get("base64") == "1" {
				enc := base64.URLEncoding
				if len(msg)%4 != 0 {
					enc = base64.RawURLEncoding
				}
				if _, err := enc.DecodeString(msg); err != nil {
					writeRPCError(w, r, connect.CodeInvalidArgument,
						fmt.Sprintf("message query parameter is not URL-safe base64 (base64=1): %v", err))
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// mayAskForBase64 reports whether a raw query may hold base64=1 once decoded,
// so that most queries are not parsed twice. url.ParseQuery changes a key or
// value only by its percent escapes and by '+', which decodes to a space:
// without a '%', base64=1 must appear as it is.
func mayAskForBase64(rawQuery string) bool {
	return strings.Contains(rawQuery, "base64=1") || strings.Contains(rawQuery, "%")
}
