package server

import (
	"net/netip"
	"strings"
)

// maxClientIPLen bounds the client address the share reads from a header
// (-client-ip-header): an IPv6 address with a zone and a port fits.
const maxClientIPLen = 64

// clientPrefix returns the client address that values, the lines of the
// header a trusted proxy sets (-client-ip-header), name: the last
// comma-separated element of the last line, which is the hop the proxy
// itself appended to X-Forwarded-For (those before it are the client's
// word) and the whole value of a one-address header such as X-Real-IP. It
// may carry a port ("192.0.2.1:1234", "[2001:db8::1]:1234"). An IPv6
// client is its /64 (one host is commonly given a whole /64, and could
// otherwise take a share per address of it), an IPv4 one its address.
// False for anything else: no header, an empty or overlong element, or one
// that is not an address (RFC 7239's Forwarded, "unknown", garbage); the
// caller then falls back to the connection.
func clientPrefix(values []string) (netip.Prefix, bool) {
	if len(values) == 0 {
		return netip.Prefix{}, false
	}
	v := values[len(values)-1]
	v = strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:])
	if v == "" || len(v) > maxClientIPLen {
		return netip.Prefix{}, false
	}
	bare := v
	if len(v) > 2 && v[0] == '[' && v[len(v)-1] == ']' {
		bare = v[1 : len(v)-1]
	}
	addr, err := netip.ParseAddr(bare)
	if err != nil {
		ap, err := netip.ParseAddrPort(v)
		if err != nil {
			return netip.Prefix{}, false
		}
		addr = ap.Addr()
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is4() {
		return netip.PrefixFrom(addr, 32), true
	}
	p, err := addr.Prefix(64)
	return p, err == nil
}
