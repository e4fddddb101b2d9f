package server

import (
	"strings"
	"testing"

	"github.com/hellorpc/hellorpc/internal/testkit/assert"
)

// TestClientPrefix reads the client address as a proxy's header gives it,
// and refuses (the share then falls back to the connection) anything that
// is not one address.
func TestClientPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		values []string
		want   string // "": no address
	}{
		{[]string{"192.0.2.1"}, "192.0.2.1/32"},
		{[]string{"198.51.100.7, 192.0.2.1"}, "192.0.2.1/32"},
		{[]string{"198.51.100.7", "10.1.1.1 ,  192.0.2.1 "}, "192.0.2.1/32"},
		{[]string{"192.0.2.1:4711"}, "192.0.2.1/32"},
		{[]string{"::ffff:192.0.2.1"}, "192.0.2.1/32"},
		{[]string{"2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::/64"},
		{[]string{"[2001:db8::1]"}, "2001:db8::/64"},
		{[]string{"[2001:db8::1]:80"}, "2001:db8::/64"},
		{[]string{"fe80::1%eth0"}, "fe80::/64"},
		{nil, ""},
		{[]string{""}, ""},
		{[]string{"192.0.2.1,"}, ""},
		{[]string{"unknown"}, ""},
		{[]string{"for=192.0.2.1"}, ""},
		{[]string{"192.0.2.1 192.0.2.2"}, ""},
		{[]string{"192.0.2.256"}, ""},
		{[]string{"[192.0.2.1"}, ""},
		{[]string{"192.0.2.1:99999"}, ""},
		{[]string{strings.Repeat("1", 100)}, ""},
		{[]string{"\x00\xff"}, ""},
	} {
		p, ok := clientPrefix(tc.values)
		got := ""
		if ok {
			got = p.String()
		}
		assert.Equal(t, got, tc.want, "client address of "+strings.Join(tc.values, " | "))
	}
}
