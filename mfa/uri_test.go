package mfa_test

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

func b32(b []byte) string { return base32.StdEncoding.EncodeToString(b) }

const goodSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // 20 bytes

func TestParseKeyURI(t *testing.T) {
	t.Parallel()
	good := mfa.KeyURI{Issuer: "Acme", AccountName: "alice@example.com", Secret: []byte("12345678901234567890"),
		Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}
	for _, c := range []struct {
		in   string
		want *mfa.KeyURI
	}{
		{"otpauth://totp/Acme:alice@example.com?secret=" + goodSecret + "&issuer=Acme", &good},
		{"otpauth://totp/Acme:%20alice@example.com?secret=" + strings.ToLower(goodSecret), &good},
		{"otpauth://totp/alice@example.com?secret=" + goodSecret + "&issuer=Acme&algorithm=SHA1&digits=6&period=30", &good},
		{"otpauth://totp/Acme:alice@example.com?secret=" + goodSecret + "&algorithm=sha512&digits=8&period=15",
			&mfa.KeyURI{Issuer: "Acme", AccountName: "alice@example.com", Secret: good.Secret, Algorithm: mfa.SHA512, Digits: 8, Period: 15 * time.Second}},
		{"otpauth://hotp/Acme:alice?secret=" + goodSecret + "&counter=1", nil},
		{"https://totp/Acme:alice?secret=" + goodSecret, nil},
		{"otpauth://totp/?secret=" + goodSecret, nil},
		{"otpauth://totp/Acme:?secret=" + goodSecret, nil},
		{"otpauth://totp/Acme:alice?secret=JBSWY3DPEHPK3PXP", nil}, // 80 bits
		{"otpauth://totp/Acme:alice?secret=not-base32!!", nil},
		{"otpauth://totp/Acme:alice", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&secret=" + goodSecret, nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&issuer=Other", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&algorithm=MD5", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&digits=7", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&period=60", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&period=030", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "&period=0", nil},
		{"otpauth://totp/Acme:alice%0A?secret=" + goodSecret, nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + "#frag", nil},
		{"otpauth://totp/Acme:alice?secret=" + goodSecret + strings.Repeat("&x=1", 600), nil},
	} {
		got, err := mfa.ParseKeyURI(c.in)
		if c.want == nil {
			require.ErrorIs(t, err, mfa.ErrInvalidKey, c.in)
			require.NotContains(t, err.Error(), goodSecret)
			continue
		}
		require.NoError(t, err, c.in)
		require.Equal(t, *c.want, got, c.in)
		again, err := mfa.ParseKeyURI(got.String())
		require.NoError(t, err)
		require.Equal(t, got, again)
	}
}
