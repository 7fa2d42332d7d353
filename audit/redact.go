package audit

import (
	"math"
	"regexp"
	"strings"
	"unicode"
)

// sensitiveNames are matched against field names lowercased with every
// character that is not a letter or digit removed, so user_password,
// userPassword and "User Password" all match "password".
var sensitiveNames = []string{
	"password", "passwd", "passphrase", "secret", "token", "apikey", "accesskey",
	"privatekey", "credential", "authorization", "cookie", "sessionid", "totp",
	"recoverycode", "otpcode", "cvv", "cvc", "cardsecurity", "pinnumber",
	"pwd", "privkey", "signingkey", "encryptionkey", "masterkey", "verificationcode",
	"resetcode", "mfacode", "securityanswer",
}

// sensitiveField reports whether a field name says it holds a secret
// (password, secret, token, API key, ...), whatever its spelling.
func sensitiveField(name string) bool {
	var b strings.Builder
	for _, r := range name {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	n := b.String()
	for _, s := range sensitiveNames {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// DefaultRedactor is the redactor a zero [Config] uses:
//   - a field whose name is sensitive (password, secret, token, API key,
//     ..., whatever its spelling) becomes [REDACTED];
//   - a value that looks like a secret (bearer credentials,
//     JWTs, private keys, well-known API key formats, long random strings)
//     becomes [REDACTED];
//   - inside a longer text (an error string, a message), a URL's password
//     and the value of any key=value or "key": "value" pair with a
//     sensitive key become [REDACTED];
//   - payment card numbers anywhere in a value (13 to 19 digits, with
//     spaces or dashes, passing the Luhn check) are masked to their last
//     four digits: the log never holds payment data (ASVS 16.2.5), and a
//     partial number is all a reader needs (ASVS 14.2.6; PCI DSS allows at
//     most the first six and last four digits to be shown).
func DefaultRedactor(field, value string) (string, bool) {
	if sensitiveField(field) {
		return redactedMarker, true
	}
	if looksSecret(value) {
		return redactedMarker, true
	}
	value, inline := maskInlineSecrets(value)
	if masked, ok := maskCardNumbers(value); ok {
		return masked, true
	}
	return value, inline
}

var (
	// scheme://user:PASSWORD@host
	urlPasswordRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@:]*:)([^\s/?#@]+)@`)
	// key=value, key: value, "key":"value", key='value'
	inlinePairRE = regexp.MustCompile(`([A-Za-z0-9_.-]+)["']?[ \t]*[=:][ \t]*((?i:bearer|basic|digest|token)[ \t]+[^\s,;&"'}\]]+|"[^"]*"|'[^']*'|[^\s,;&"'}\]]+)`)
)

// maskInlineSecrets redacts secrets written inside a longer text, as in
// error strings and log messages: the password of a URL's userinfo, and
// the value of any key=value or key: value pair whose key is sensitive
// (sensitiveField), as in a DSN, a query string or a JSON dump.
func maskInlineSecrets(v string) (string, bool) {
	if !strings.ContainsAny(v, "=:") {
		return v, false
	}
	changed := false
	if strings.Contains(v, "://") {
		out := urlPasswordRE.ReplaceAllString(v, "${1}"+redactedMarker+"@")
		changed = out != v
		v = out
	}
	locs := inlinePairRE.FindAllStringSubmatchIndex(v, -1)
	if len(locs) == 0 {
		return v, changed
	}
	var b strings.Builder
	last := 0
	for _, m := range locs {
		key, val := v[m[2]:m[3]], [2]int{m[4], m[5]}
		if !sensitiveField(key) || v[val[0]:val[1]] == redactedMarker {
			continue
		}
		b.WriteString(v[last:val[0]])
		b.WriteString(redactedMarker)
		last = val[1]
		changed = true
	}
	if last == 0 {
		return v, changed
	}
	b.WriteString(v[last:])
	return b.String(), changed
}

var secretPrefixes = []string{
	"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "sk_live_", "sk_test_", "rk_live_",
	"xoxb-", "xoxp-", "xoxa-", "xoxs-", "AKIA", "ASIA", "AIza", "glpat-", "npm_", "-----BEGIN",
}

// looksSecret reports whether a value looks like a credential: an HTTP
// Authorization value, a JWT, a PEM key, a well-known API key format, or a
// long random-looking token. UUIDs are not treated as secrets.
func looksSecret(v string) bool {
	t := strings.TrimSpace(v)
	lower := strings.ToLower(t)
	if strings.HasPrefix(lower, "bearer ") || strings.HasPrefix(lower, "basic ") ||
		strings.Contains(t, "PRIVATE KEY") {
		return true
	}
	for _, p := range secretPrefixes {
		if strings.HasPrefix(t, p) && len(t) >= len(p)+12 {
			return true
		}
	}
	if strings.HasPrefix(t, "eyJ") && strings.Count(t, ".") == 2 && len(t) > 20 {
		return true
	}
	return randomToken(t)
}

// randomToken: one word of at least 32 base64/hex characters mixing letters
// and digits with high per-character entropy.
func randomToken(t string) bool {
	if len(t) < 32 || len(t) > 8192 || isUUID(t) {
		return false
	}
	var letters, digits bool
	var freq [128]int
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= '0' && c <= '9':
			digits = true
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			letters = true
		case c == '+', c == '/', c == '=', c == '-', c == '_':
		default:
			return false
		}
		freq[c]++
	}
	if !letters || !digits {
		return false
	}
	var h float64
	n := float64(len(t))
	for _, f := range freq {
		if f > 0 {
			p := float64(f) / n
			h -= p * math.Log2(p)
		}
	}
	return h >= 3.5
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !isHex(c) {
			return false
		}
	}
	return true
}

// maskCardNumbers replaces every payment card number in s with
// "**** **** **** " and its last four digits, and reports whether it
// replaced anything. A card number is 13 to 19 digits passing the Luhn
// check, either contiguous or in groups joined by single spaces or dashes;
// within a longer run of groups ("ref 1234 4111 1111 1111 1111") every
// run of whole groups that forms one is found, longest first. A contiguous
// run of more than 19 digits is not a card number.
func maskCardNumbers(s string) (string, bool) {
	var out strings.Builder
	changed := false
	i := 0
	for i < len(s) {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			out.WriteByte(s[i])
			i++
			continue
		}
		groups := digitGroups(s, i)
		pos := i
		for g := 0; g < len(groups); {
			h, digits := cardWindow(s, groups[g:])
			if h < 0 {
				g++
				continue
			}
			out.WriteString(s[pos:groups[g][0]])
			out.WriteString(maskedCardPrefix)
			out.WriteString(digits[len(digits)-4:])
			pos = groups[g+h][1]
			g += h + 1
			changed = true
		}
		end := groups[len(groups)-1][1]
		out.WriteString(s[pos:end])
		i = end
	}
	if !changed {
		return s, false
	}
	return out.String(), true
}

// digitGroups returns the [start, end) of each group of digits from i,
// groups being joined by one space or dash.
func digitGroups(s string, i int) [][2]int {
	var gs [][2]int
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		gs = append(gs, [2]int{i, j})
		if j+1 < len(s) && (s[j] == ' ' || s[j] == '-') && isDigit(s[j+1]) {
			i = j + 1
			continue
		}
		return gs
	}
}

// cardWindow finds the longest run of whole groups, starting at gs[0],
// whose digits form a card number; it returns the index of its last group
// and its digits, or -1.
func cardWindow(s string, gs [][2]int) (int, string) {
	var d []byte
	best, bestDigits := -1, ""
	for h, g := range gs {
		if g[1]-g[0] > 19 {
			break
		}
		d = append(d, s[g[0]:g[1]]...)
		if len(d) > 19 {
			break
		}
		if len(d) >= 13 && luhn(string(d)) {
			best, bestDigits = h, string(d)
		}
	}
	return best, bestDigits
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
