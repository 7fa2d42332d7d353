package audit

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// escape returns s safe to print on one line of a log or terminal:
// backslash and double quote are escaped, and every control character
// (C0, DEL, C1), line or paragraph separator and invisible format
// character (bidirectional overrides, zero-width characters, tag
// characters) is written as \n, \t, \xNN, \uNNNN or \UNNNNNNNN. Invalid
// UTF-8 bytes become \xNN. An attacker-chosen user agent or field value therefore cannot forge a log
// line or hide text (ASVS 16.4.1).
func escape(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' || c == '"' || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '"':
			b.WriteString(`\"`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r) && r > 0xffff:
			fmt.Fprintf(&b, `\U%08x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// unsafeRune: C1 controls, line/paragraph separators, and every format
// character (Unicode category Cf: bidi controls, zero-width characters,
// BOM, soft hyphen, word joiner, tag characters that smuggle invisible
// text), plus the interlinear annotation and Mongolian vowel separator.
func unsafeRune(r rune) bool {
	return (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 ||
		r == 0x180e || (r >= 0xfff9 && r <= 0xfffb) || unicode.Is(unicode.Cf, r)
}

// String renders the event as one line of key="value" pairs, every value
// passed through escape (and field names and detail keys with space and
// = escaped as well), for plain-text logs and consoles.
func (e *Entry) String() string {
	var b strings.Builder
	b.WriteString(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	kv := func(k, v string) {
		if v != "" {
			b.WriteString(" " + k + `="` + escape(v) + `"`)
		}
	}
	kv("tenant", e.Tenant)
	kv("actor", e.Actor)
	kv("actor_type", e.ActorType)
	kv("action", e.Action)
	kv("target_type", e.TargetType)
	kv("target_id", e.TargetID)
	kv("outcome", string(e.Outcome))
	kv("ip", e.IP)
	kv("user_agent", e.UserAgent)
	kv("request_id", e.RequestID)
	for _, c := range e.Changes {
		kv("change."+escapeKey(c.Field), c.Old+" -> "+c.New)
	}
	for _, k := range sortedKeys(e.Details) {
		kv("detail."+escapeKey(k), e.Details[k])
	}
	kv("id", e.ID)
	return b.String()
}

// escapeKey is escape for an unquoted key: space and = are escaped too, so
// a field name cannot end its key and start a key=value pair of its own.
func escapeKey(k string) string {
	k = escape(k)
	if strings.ContainsAny(k, " =") {
		k = strings.NewReplacer(" ", `\x20`, "=", `\x3d`).Replace(k)
	}
	return k
}
