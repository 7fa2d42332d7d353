package password

import (
	"strings"
	"unicode/utf8"
)

// minContextRunes is the shortest context token checked: shorter ones ("al",
// "io") would reject too many good passwords by accident.
const minContextRunes = 3

// matchContext returns the index (across static then perUser) of the first
// context word the lower-cased password contains or closely resembles, or
// -1. An email address is split into its local part (and the dot, dash,
// plus or underscore separated pieces of it) and its domain's first label.
func matchContext(lower string, static, perUser []string) int {
	if len(static)+len(perUser) == 0 {
		return -1
	}
	variants := []string{lower}
	for _, v := range []string{unleet(lower, 'i'), unleet(lower, 'l')} {
		if v != variants[len(variants)-1] {
			variants = append(variants, v)
		}
	}
	for i := 0; i < len(static)+len(perUser); i++ {
		var w string
		if i < len(static) {
			w = static[i]
		} else {
			w = perUser[i-len(static)]
		}
		for _, tok := range contextTokens(strings.ToLower(Normalize(w))) {
			if resembles(variants, tok) {
				return i
			}
		}
	}
	return -1
}

func contextTokens(w string) []string {
	w = strings.TrimSpace(w)
	toks := []string{w}
	if at := strings.LastIndexByte(w, '@'); at >= 0 {
		local, domain := w[:at], w[at+1:]
		toks = []string{local}
		if dot := strings.IndexByte(domain, '.'); dot > 0 {
			toks = append(toks, domain[:dot])
		}
		w = local
	}
	toks = append(toks, strings.FieldsFunc(w, func(r rune) bool {
		return r == '.' || r == '-' || r == '_' || r == '+' || r == ' '
	})...)
	out := toks[:0]
	for _, t := range toks {
		if utf8.RuneCountInString(t) >= minContextRunes {
			out = append(out, t)
		}
	}
	return out
}

// resembles reports whether any variant of the password contains tok, or
// contains a substring within one edit (insertion, deletion, substitution
// or transposition) of tok when tok has six or more characters, or is
// within two edits of tok as a whole.
func resembles(variants []string, tok string) bool {
	utok := unleet(tok, 'i')
	for _, v := range variants {
		if strings.Contains(v, tok) || strings.Contains(v, utok) {
			return true
		}
	}
	tr := []rune(utok)
	if len(tr) < 6 {
		return false
	}
	for _, v := range variants {
		vr := []rune(v)
		if substringDistance(vr, tr) <= 1 {
			return true
		}
		if d := len(vr) - len(tr); d >= -2 && d <= 2 && osaDistance(vr, tr) <= 2 {
			return true
		}
	}
	return false
}

// substringDistance is the smallest optimal-string-alignment distance
// between pat and any substring of text (Sellers' algorithm: a free start
// anywhere in text, and the best end), in one O(len(text)·len(pat)) pass.
func substringDistance(text, pat []rune) int {
	return alignDistance(pat, text, true)
}

// osaDistance is the optimal-string-alignment edit distance (Levenshtein
// plus adjacent transposition).
func osaDistance(a, b []rune) int {
	return alignDistance(a, b, false)
}

// alignDistance computes the OSA distance of a against b, or, when
// anywhere is set, against the best-matching substring of b.
func alignDistance(a, b []rune, anywhere bool) int {
	n := len(b)
	buf := make([]int, 3*(n+1))
	prev2, prev, cur := buf[:n+1], buf[n+1:2*(n+1)], buf[2*(n+1):]
	for j := range prev {
		if !anywhere {
			prev[j] = j
		}
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= n; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	if !anywhere {
		return prev[n]
	}
	best := len(a)
	for _, d := range prev {
		best = min(best, d)
	}
	return best
}

// unleet undoes common character substitutions ("p4ssw0rd" -> "password").
// one is what '1' and '!' become ('i' or 'l'): both readings are tried.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1', '!':
			return one
		case '|':
			return 'l'
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		case '9':
			return 'g'
		}
		return r
	}, s)
}
