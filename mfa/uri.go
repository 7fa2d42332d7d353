package mfa

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxURILen caps the input of [ParseKeyURI] before it is parsed. It is
// above the longest URI [KeyURI.String] makes (two 256-byte labels, each
// byte percent-encoded, and a 512-bit secret), so every key the package
// writes reads back.
const maxURILen = 4096

// KeyURI is a parsed otpauth://totp/ Key URI.
type KeyURI struct {
	Issuer      string
	AccountName string
	Secret      []byte
	Algorithm   Algorithm
	Digits      int
	Period      time.Duration
}

// String encodes k as an otpauth:// URI in the Key URI format. Every part
// is percent-encoded except RFC 3986's unreserved characters and '@', so
// that '&', '+', '%', '#', '?', '/' and spaces (as %20, never '+') in the
// issuer or account name read back exactly with net/url, [ParseKeyURI]
// and authenticator apps. (pquerna/otp escapes query values as path
// segments, which leaves '&' and '+' bare: "AT&T" read back as "AT".)
func (k KeyURI) String() string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if k.Issuer != "" {
		b.WriteString(uriEscape(k.Issuer))
		b.WriteByte(':')
	}
	b.WriteString(uriEscape(k.AccountName))
	b.WriteString("?secret=")
	b.WriteString(b32.EncodeToString(k.Secret))
	if k.Issuer != "" {
		b.WriteString("&issuer=")
		b.WriteString(uriEscape(k.Issuer))
	}
	b.WriteString("&algorithm=")
	b.WriteString(uriEscape(string(k.Algorithm)))
	b.WriteString("&digits=")
	b.WriteString(strconv.Itoa(k.Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.Itoa(int(k.Period / time.Second)))
	return b.String()
}

// uriEscape percent-encodes every byte of s but ALPHA, DIGIT, "-", ".",
// "_", "~" (RFC 3986 unreserved) and "@", which is legal in both a path
// segment and a query and keeps e-mail addresses readable.
func uriEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// ParseKeyURI parses and validates an otpauth://totp/ Key URI (the format
// of Google Authenticator's wiki, which other apps follow), for hosts that
// import factors from another system with [Manager.ImportTOTP]. It is strict: the secret must be
// base32 of at least 160 bits; algorithm SHA1, SHA256 or SHA512 (default
// SHA1); digits 6 or 8 (default 6); period 1 to 30 seconds (default 30); a
// parameter may not repeat; an issuer parameter must match the label's
// issuer prefix. Inputs over 4096 bytes are refused unread. Every failure
// is [ErrInvalidKey]; the error never contains the secret.
func ParseKeyURI(s string) (KeyURI, error) {
	bad := func(why string) (KeyURI, error) {
		return KeyURI{}, fmt.Errorf("%w: malformed otpauth URI: %s", ErrInvalidKey, why)
	}
	if len(s) > maxURILen {
		return bad("too long")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("not a URL")
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.User != nil || u.Opaque != "" || u.Fragment != "" {
		return bad("not otpauth://totp/")
	}
	label := strings.TrimPrefix(u.Path, "/")
	if label == u.Path {
		return bad("missing label")
	}
	var k KeyURI
	if i := strings.IndexByte(label, ':'); i >= 0 {
		k.Issuer, label = label[:i], label[i+1:]
	}
	// Spaces before the account name are dropped with or without an
	// issuer prefix: String writes the issuer parameter into the label, so
	// a kept leading space would not read back.
	k.AccountName = strings.TrimLeft(label, " ")
	if k.AccountName == "" || validLabel(k.AccountName) != nil || validLabel(k.Issuer) != nil {
		return bad("invalid label")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("invalid query")
	}
	for _, v := range q {
		if len(v) != 1 {
			return bad("repeated parameter")
		}
	}
	if iss, ok := q["issuer"]; ok {
		if validLabel(iss[0]) != nil || iss[0] == "" || (k.Issuer != "" && iss[0] != k.Issuer) {
			return bad("issuer mismatch")
		}
		k.Issuer = iss[0]
	}
	sec := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	k.Secret, err = b32.DecodeString(sec)
	if err != nil || len(k.Secret) < defaultSecretBytes || len(k.Secret) > maxSecretBytes {
		return bad("secret must be base32 of 160 to 512 bits")
	}
	k.Algorithm = SHA1
	if a, ok := q["algorithm"]; ok {
		k.Algorithm = Algorithm(strings.ToUpper(a[0]))
		if !k.Algorithm.valid() {
			return bad("unsupported algorithm")
		}
	}
	k.Digits = 6
	if d, ok := q["digits"]; ok {
		if d[0] != "6" && d[0] != "8" {
			return bad("digits must be 6 or 8")
		}
		k.Digits = int(d[0][0] - '0')
	}
	k.Period = defaultTOTPPeriod
	if p, ok := q["period"]; ok {
		n, err := strconv.Atoi(p[0])
		if err != nil || n < 1 || n > 30 || strconv.Itoa(n) != p[0] {
			return bad("period must be 1 to 30 seconds")
		}
		k.Period = time.Duration(n) * time.Second
	}
	return k, nil
}

// validLabel accepts an issuer or account name for an otpauth label: valid
// UTF-8, printable, at most 256 bytes, no ':' (the label separator).
func validLabel(s string) error {
	if len(s) > 256 || !utf8.ValidString(s) || strings.ContainsRune(s, ':') {
		return ErrInvalidInput
	}
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ErrInvalidInput
		}
	}
	return nil
}
