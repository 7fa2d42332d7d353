package clientip

import "net/netip"

// Contains reports whether r trusts a as a proxy, for the fuzz invariant.
func Contains(r Resolver, a netip.Addr) bool { return r.contains(a) }
