package clientip_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/clientip"
)

func req(remote string, xff ...string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = remote
	for _, h := range xff {
		r.Header.Add("X-Forwarded-For", h)
	}
	return r
}

func TestAddr(t *testing.T) {
	t.Parallel()
	lb := clientip.New(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"))
	cases := []struct {
		name string
		res  clientip.Resolver
		r    *http.Request
		want string
	}{
		{"no proxy trusted ignores header", clientip.Resolver{}, req("203.0.113.9:5000", "1.2.3.4"), "203.0.113.9"},
		{"untrusted peer ignores header", lb, req("198.51.100.7:1", "1.2.3.4"), "198.51.100.7"},
		{"trusted peer, one hop", lb, req("10.0.0.2:80", "203.0.113.9"), "203.0.113.9"},
		{"spoofed left entries ignored", lb, req("10.0.0.2:80", "6.6.6.6, 203.0.113.9"), "203.0.113.9"},
		{"chain of trusted proxies", lb, req("10.0.0.2:80", "6.6.6.6, 203.0.113.9, 10.1.1.1"), "203.0.113.9"},
		{"several header lines", lb, req("10.0.0.2:80", "6.6.6.6", "203.0.113.9, 10.9.9.9"), "203.0.113.9"},
		{"malformed entry stops walk", lb, req("10.0.0.2:80", "6.6.6.6, garbage, 10.1.1.1"), "10.1.1.1"},
		{"all trusted returns leftmost vouched", lb, req("10.0.0.2:80", "10.3.3.3"), "10.3.3.3"},
		{"no header returns peer", lb, req("10.0.0.2:80"), "10.0.0.2"},
		{"ipv6 peer", lb, req("[2001:db8::1]:443"), "2001:db8::1"},
		{"ipv6 in header with brackets and port", lb, req("[fd00::5]:80", "[2001:db8::2]:1234"), "2001:db8::2"},
		{"mapped v4 unmapped", clientip.Resolver{}, req("[::ffff:203.0.113.9]:80"), "203.0.113.9"},
		{"loopback preset", clientip.Loopback(), req("127.0.0.1:9", "203.0.113.9"), "203.0.113.9"},
		{"bad remote", lb, req("nonsense"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.res.String(tc.r))
		})
	}
}

func FuzzAddr(f *testing.F) {
	f.Add("10.0.0.2:80", "6.6.6.6, 203.0.113.9")
	f.Add("[fd00::1]:1", "[2001:db8::2]:1234, ,,")
	f.Add("x", "\x00")
	res := clientip.New(netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8"))
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := req(remote, xff)
		a := res.Addr(r)
		if !a.IsValid() {
			return
		}
		// An untrusted peer is always the answer: the header is ignored.
		peer := clientip.Resolver{}.Addr(req(remote))
		if a != peer && !clientip.Contains(res, peer) {
			t.Fatalf("untrusted peer %q but answer %v", remote, a)
		}
	})
}

func ExampleResolver() {
	// The app runs behind a load balancer on 10.0.0.0/8.
	res := clientip.New(netip.MustParsePrefix("10.0.0.0/8"))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.2:41000"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.9") // 6.6.6.6 was typed by the client
	fmt.Println(res.String(r))
	// Output: 203.0.113.9
}
