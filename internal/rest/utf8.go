package rest

import (
	"fmt"
	"net/url"
	"unicode/utf8"

	"connectrpc.com/connect"
)

// checkUTF8 refuses a REST path or query whose decoded text is not valid
// UTF-8 (%80, say), with invalid_argument: the text becomes a proto string
// field, which must be valid UTF-8, and vanguard (or the in-process client
// of streamReplies) would fail to encode it and answer internal (500).
func checkUTF8(u *url.URL) error {
	if !utf8.ValidString(u.Path) {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("path %q is not valid UTF-8 once decoded", u.EscapedPath()))
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return connect.NewError(connect.CodeInvalidArgument,
			fmt.Errorf("query %q: %w", u.RawQuery, err))
	}
	for key, values := range query {
		if !utf8.ValidString(key) {
			return connect.NewError(connect.CodeInvalidArgument,
				fmt.Errorf("query parameter %q is not valid UTF-8 once decoded", url.QueryEscape(key)))
		}
		for _, v := range values {
			if !utf8.ValidString(v) {
				return connect.NewError(connect.CodeInvalidArgument,
					fmt.Errorf("query parameter %q: value %q is not valid UTF-8 once decoded", key, url.QueryEscape(v)))
			}
		}
	}
	return nil
}
