package mfa_test

import (
	"context"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// checkURI reads uri with net/url and requires that it names issuer and
// account exactly, in the label and in the issuer parameter, and that
// ParseKeyURI reads the same back.
func checkURI(t *testing.T, uri, issuer, account string, secret []byte) {
	t.Helper()
	u, err := url.Parse(uri)
	require.NoError(t, err, uri)
	require.Equal(t, "otpauth", u.Scheme)
	require.Equal(t, "totp", u.Host)
	require.Equal(t, "/"+issuer+":"+account, u.Path, uri)
	q, err := url.ParseQuery(u.RawQuery)
	require.NoError(t, err, uri)
	require.Equal(t, []string{issuer}, q["issuer"], uri)
	for _, p := range []string{"secret", "algorithm", "digits", "period"} {
		require.Len(t, q[p], 1, "%s in %s", p, uri)
	}
	require.NotContains(t, u.RawQuery, "+", "a space or plus must be percent-encoded: %s", uri)
	k, err := mfa.ParseKeyURI(uri)
	require.NoError(t, err, uri)
	require.Equal(t, issuer, k.Issuer)
	require.Equal(t, account, k.AccountName)
	if secret != nil {
		require.Equal(t, secret, k.Secret)
	}
}

func TestEnrollURIEscaping(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct{ issuer, account string }{
		{"AT&T Wireless", "alice@example.com"},
		{"C++ Guild", "bob+totp@example.com"},
		{"100% Acme", "a=b&c=d"},
		{"Q?A #1", "x/y;z,w"},
		{"Zażółć gęślą", "jaźń 日本"},
	} {
		f := newFixture(t, mfa.Config{Issuer: c.issuer})
		e, err := f.m.EnrollTOTP(ctx, "u", c.account)
		require.NoError(t, err)
		checkURI(t, e.URI, c.issuer, c.account, nil)
		k, err := mfa.ParseKeyURI(e.URI)
		require.NoError(t, err)
		require.Equal(t, e.Secret, b32nopad(k.Secret))
	}
}

func b32nopad(b []byte) string { return strings.TrimRight(b32(b), "=") }

// randomLabel returns a printable string of up to 40 runes, biased towards
// the characters URIs treat specially, with no ':'.
func randomLabel(r *rand.Rand) string {
	const special = "&+%#?/=;,@$!'()*[] ~\\\"<>^`{|}"
	n := 1 + r.IntN(40)
	var b strings.Builder
	for b.Len() < n {
		var c rune
		switch r.IntN(4) {
		case 0:
			c = rune(special[r.IntN(len(special))])
		case 1:
			c = rune(0x20 + r.IntN(0x5f))
		default:
			c = rune(r.IntN(0x3000))
		}
		if c != ':' && unicode.IsPrint(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// TestKeyURIRoundTripProperty: for arbitrary printable issuers and account
// names, the URI the package makes (at enrollment and with
// KeyURI.String) reads back exactly with net/url and ParseKeyURI.
func TestKeyURIRoundTripProperty(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	secret := []byte("12345678901234567890")
	for i := range 300 {
		issuer, account := randomLabel(r), randomLabel(r)
		k := mfa.KeyURI{Issuer: issuer, AccountName: account, Secret: secret, Algorithm: mfa.SHA1, Digits: 6, Period: 30e9}
		if strings.HasPrefix(account, " ") {
			// The Key URI format allows spaces after the label's colon, so
			// an account name cannot start with one.
			f := newFixture(t, mfa.Config{Issuer: issuer})
			_, err := f.m.EnrollTOTP(ctx, "u", account)
			require.ErrorIs(t, err, mfa.ErrInvalidInput, "%q", account)
			continue
		}
		checkURI(t, k.String(), issuer, account, secret)
		if i%10 == 0 { // enrollment renders a QR code: sample it
			f := newFixture(t, mfa.Config{Issuer: issuer, QRCodeSize: 200}) // room for a long URI
			e, err := f.m.EnrollTOTP(ctx, "u", account)
			require.NoError(t, err, "%q %q", issuer, account)
			checkURI(t, e.URI, issuer, account, nil)
		}
	}
}
