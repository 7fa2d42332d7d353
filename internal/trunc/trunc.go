// Package trunc cuts client-chosen text to a byte budget without splitting
// a UTF-8 character, for values such as the User-Agent that the client
// picks and Bulwark keeps.
package trunc

import "unicode/utf8"

// UTF8 returns s cut to at most n bytes on a character boundary.
func UTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
