package audit_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
)

// FuzzRedactEscape feeds attacker-chosen values through the default
// redactor and Escape: neither may panic, the redactor must not let the
// test card number through, and escaped output must be one safe line.
func FuzzRedactEscape(f *testing.F) {
	for _, s := range []string{"4111 1111 1111 1111", "a\nb\x1b[2J\u202e", "Bearer x", "\xff\xfe", "card 5500-0055-5555-5559 ok"} {
		f.Add("note", s)
	}
	f.Fuzz(func(t *testing.T, field, value string) {
		out, _ := audit.DefaultRedactor(field, value)
		const card = "4111111111111111"
		if i := strings.Index(value, card); i >= 0 && (i == 0 || !isDigit(value[i-1])) &&
			(i+len(card) == len(value) || !isDigit(value[i+len(card)])) && strings.Contains(out, card) {
			t.Fatalf("redacted output %q still holds the test card number", out)
		}
		e := audit.Escape(value)
		if !utf8.ValidString(e) {
			t.Fatalf("Escape(%q) is not valid UTF-8", value)
		}
		for _, r := range e {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) {
				t.Fatalf("Escape(%q) = %q keeps %U", value, e, r)
			}
		}
	})
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// A field name or detail key is as attacker-influenced as a value (a diff
// of a user-edited map): it must not be able to add a key=value pair of
// its own to the rendered line.
func TestStringKeyInjection(t *testing.T) {
	t.Parallel()
	ev := audit.Entry{Time: time.Unix(0, 0), Action: "record.updated",
		Changes: []audit.Change{{Field: "x outcome=success y", Old: "a", New: "b"}},
		Details: map[string]string{"k actor=root": "v"}}
	s := ev.String()
	require.NotContains(t, s, " outcome=")
	require.NotContains(t, s, " actor=")
}

// Invisible format characters hide text from a human reader: Unicode tag
// characters (U+E0000 block) smuggle whole ASCII strings, the word joiner
// and soft hyphen hide inside words.
func TestEscapeInvisibleFormatCharacters(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"admin\U000E0041\U000E0042", "ad\u2060min", "ad\u00admin", "x\u180ey", "a\ufff9b"} {
		out := audit.Escape(in)
		for _, r := range out {
			require.False(t, r > 0x7e, "Escape(%q) = %q keeps %U", in, out, r)
		}
	}
	require.Equal(t, `a\U000e0041b`, audit.Escape("a\U000E0041b"))
}
