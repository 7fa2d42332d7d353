// Package clientip finds the address of the client behind an HTTP request,
// trusting X-Forwarded-For only as far as an explicit list of proxies.
//
// Every Bulwark package that records an IP (session records, audit events,
// brute-force counters) takes it from a [Resolver], so a client cannot put an
// address of its choice into the audit log by sending the header itself
// (OWASP ASVS 5.0 16.2.1, 16.3.x).
//
// # How the address is chosen
//
// The TCP peer (Request.RemoteAddr) is the client unless it is a trusted
// proxy. When it is, X-Forwarded-For is read from the right, the end the
// proxies appended to, skipping addresses that are themselves trusted; the
// first untrusted address is the client. Anything left of it was written by
// the client and is ignored. A malformed entry stops the walk at the last
// address a trusted proxy vouched for. The zero Resolver trusts nobody and
// always returns the TCP peer, which is right for an app that faces the
// internet directly.
package clientip

import (
	"net/http"
	"net/netip"
	"strings"
)

// Resolver picks the client address of a request. The zero value trusts no
// proxy. A Resolver is immutable and safe for concurrent use.
type Resolver struct {
	trusted []netip.Prefix
}

// New returns a Resolver that trusts X-Forwarded-For appended by proxies in
// the given prefixes, for example netip.MustParsePrefix("10.0.0.0/8") for a
// load balancer on a private network. Prefixes are masked to canonical form;
// an invalid (zero) prefix is ignored, which trusts fewer proxies, never
// more. A Resolver is a value, not a service: it has no dependencies and
// nothing to fail, so New returns no error, and a zero Resolver (trust no
// proxy) is what a Config field of this type means when left unset.
func New(trustedProxies ...netip.Prefix) Resolver {
	ps := make([]netip.Prefix, 0, len(trustedProxies))
	for _, p := range trustedProxies {
		if p.IsValid() {
			ps = append(ps, p.Masked())
		}
	}
	return Resolver{trusted: ps}
}

// Loopback trusts proxies on 127.0.0.0/8 and ::1, the usual set-up with a
// reverse proxy (nginx, Caddy) on the same machine.
func Loopback() Resolver {
	return New(netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"))
}

// contains reports whether a is a trusted proxy address.
func (r Resolver) contains(a netip.Addr) bool {
	for _, p := range r.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Addr returns the client address of req, or the zero Addr if even the TCP
// peer cannot be parsed (as with a request built by hand in a test).
func (r Resolver) Addr(req *http.Request) netip.Addr {
	peer, ok := parseHostPort(req.RemoteAddr)
	if !ok {
		return netip.Addr{}
	}
	if !r.contains(peer) {
		return peer
	}
	client := peer
	hdrs := req.Header.Values("X-Forwarded-For")
	for i := len(hdrs) - 1; i >= 0; i-- {
		parts := strings.Split(hdrs[i], ",")
		for j := len(parts) - 1; j >= 0; j-- {
			a, ok := parseAddr(strings.TrimSpace(parts[j]))
			if !ok {
				return client
			}
			client = a
			if !r.contains(a) {
				return a
			}
		}
	}
	return client
}

// String returns the client address of req as text, or "" when unknown.
func (r Resolver) String(req *http.Request) string {
	a := r.Addr(req)
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

func parseHostPort(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return parseAddr(s)
}

// parseAddr accepts a bare address, an address with a port, and a bracketed
// IPv6 address, as proxies write them. Zones are dropped.
func parseAddr(s string) (netip.Addr, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone("").Unmap(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}
