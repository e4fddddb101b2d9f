package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
)

// target is one server a call may go to: where to connect, and the Host it
// is addressed as (its name, when it was found through DNS).
type target struct {
	hostPort string
	host     string
}

// targets turns -addr into the servers to balance over: each URL of a
// comma-separated list, and each address that a URL's host name resolves
// to, so that a DNS name with several records spreads calls as a list does.
func targets(ctx context.Context, addrs []*url.URL, lookup func(context.Context, string) ([]string, error)) ([]target, error) {
	var out []target
	for _, u := range addrs {
		host, port := u.Hostname(), u.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
		}
		if net.ParseIP(host) != nil {
			out = append(out, target{hostPort: u.Host, host: u.Host})
			continue
		}
		ips, err := lookup(ctx, host)
		if err != nil {
			return nil, fmt.Errorf("resolve %s of -addr: %w", host, err)
		}
		for _, ip := range sameFamily(ips) {
			out = append(out, target{hostPort: net.JoinHostPort(ip, port), host: u.Host})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-addr names no server")
	}
	return out, nil
}

// sameFamily keeps the IPv4 addresses of ips if it has any, else the IPv6
// ones: a name with both (localhost: 127.0.0.1 and ::1) usually names one
// server on two stacks, not two servers.
func sameFamily(ips []string) []string {
	var v4, v6 []string
	for _, ip := range ips {
		if p := net.ParseIP(ip); p != nil && p.To4() != nil {
			v4 = append(v4, ip)
		} else {
			v6 = append(v6, ip)
		}
	}
	if len(v4) > 0 {
		return v4
	}
	return v6
}

// roundRobin sends each request (each call: a stream is one request) to the
// next target in turn. It balances per call, which an L4 balancer in front
// of HTTP/2 cannot.
type roundRobin struct {
	next    http.RoundTripper
	targets []target
	n       atomic.Uint64
}

func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	t := rr.targets[(rr.n.Add(1)-1)%uint64(len(rr.targets))]
	req = req.Clone(req.Context())
	req.URL.Host = t.hostPort
	req.Host = t.host
	return rr.next.RoundTrip(req)
}

// splitAddrs parses -addr: one URL or several, comma-separated, all with the
// same scheme.
func splitAddrs(addr string) ([]*url.URL, error) {
	var out []*url.URL
	for a := range strings.SplitSeq(addr, ",") {
		a = strings.TrimSpace(a)
		u, err := url.Parse(a)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("invalid -addr %q: want a URL such as http://localhost:50000, or several separated by commas", a)
		}
		if len(out) > 0 && u.Scheme != out[0].Scheme {
			return nil, fmt.Errorf("invalid -addr %q: every URL must use the same scheme", addr)
		}
		out = append(out, u)
	}
	return out, nil
}
