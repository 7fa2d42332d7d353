package password

import (
	"slices"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/internal/trunc"
)

// minContextRunes is the shortest context token checked: shorter ones ("al",
// "io") would reject too many good passwords by accident.
const minContextRunes = 3

// Bounds on what reaches the matcher, so that its cost (an alignment of
// every password variant against every token) stays in the microseconds
// whatever a caller passes: per-user words come from sign-up forms and
// strength meters, i.e. from attackers.
const (
	// maxContextWordBytes is how much of each context word is used: an
	// email address has at most 254 bytes (RFC 5321 §4.5.3.1), and a
	// password resembling a longer word resembles its first 254 bytes.
	maxContextWordBytes = 254
	// maxContextWords is how many per-user words [Policy.Check] and
	// [Estimate] use (the rest are ignored): a name, an email, a username
	// and a few more.
	maxContextWords = 8
	// maxMatchRunes is how much of the password the matcher reads:
	// defaultMaxLength, so the whole of any default-length password is
	// matched.
	maxMatchRunes = defaultMaxLength
	// maxTokenRunes bounds one token of a context word: a password that
	// resembles a longer token resembles its first 32 characters.
	maxTokenRunes = 32
	// maxUserTokens is how many distinct tokens of per-user words are
	// matched; a name and an email give about six.
	maxUserTokens = 16
)

// matchWork counts the matcher's work (alignment cells and bytes of context
// word read), for tests that prove the bounds without timing anything.
var matchWork atomic.Int64

// truncateRunes returns the first n runes of s.
func truncateRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// matchContext returns the index (across static then perUser) of the first
// context word the lower-cased password contains or closely resembles, or
// -1. An email address is split into its local part (and the dot, dash,
// plus or underscore separated pieces of it) and its domain's first label.
func matchContext(lower string, static, perUser []string) int {
	if len(perUser) > maxContextWords {
		perUser = perUser[:maxContextWords]
	}
	if len(static)+len(perUser) == 0 {
		return -1
	}
	lower = truncateRunes(lower, maxMatchRunes)
	variants := make([]variant, 1, 3)
	variants[0] = variant{s: lower}
	for _, v := range [2]string{unleet(lower, 'i'), unleet(lower, 'l')} {
		if v != variants[len(variants)-1].s {
			variants = append(variants, variant{s: v})
		}
	}
	userTokens := 0
	var seen []string
	for i := 0; i < len(static)+len(perUser); i++ {
		var w string
		if i < len(static) {
			w = static[i]
		} else {
			w = perUser[i-len(static)]
		}
		// Truncate before normalising: NFKC of a megabyte costs
		// milliseconds. NFKC can expand, so truncate after it too.
		w = trunc.UTF8(w, maxContextWordBytes)
		matchWork.Add(int64(len(w)))
		w = trunc.UTF8(strings.ToLower(Normalize(w)), 4*maxContextWordBytes)
		for _, tok := range contextTokens(w) {
			if i >= len(static) {
				// Per-user tokens are the attacker's: a budget of
				// them, and each distinct one aligned once.
				if userTokens == maxUserTokens || slices.Contains(seen, tok) {
					continue
				}
				userTokens++
				seen = append(seen, tok)
			}
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
			out = append(out, truncateRunes(t, maxTokenRunes))
		}
	}
	return out
}

// resembles reports whether any variant of the password contains tok, or
// contains a substring within one edit (insertion, deletion, substitution
// or transposition) of tok when tok has six or more characters, or is
// within two edits of tok as a whole.
func resembles(variants []variant, tok string) bool {
	utok := unleet(tok, 'i')
	for _, v := range variants {
		if strings.Contains(v.s, tok) || strings.Contains(v.s, utok) {
			return true
		}
	}
	if utf8.RuneCountInString(utok) < 6 {
		return false
	}
	tr := []rune(utok)
	// One edit touches at most two adjacent characters, so a substring
	// within one edit of tok contains tok's head (before the middle two
	// characters) or its tail (after them) unchanged: a cheap filter
	// before the quadratic alignment.
	h := len(tr) / 2
	head, tail := string(tr[:h-1]), string(tr[h+1:])
	for i := range variants {
		v := &variants[i]
		if v.r == nil {
			v.r = []rune(v.s)
		}
		if (strings.Contains(v.s, head) || strings.Contains(v.s, tail)) && substringDistance(v.r, tr) <= 1 {
			return true
		}
		if d := len(v.r) - len(tr); d >= -2 && d <= 2 && osaDistance(v.r, tr) <= 2 {
			return true
		}
	}
	return false
}

// variant is one reading of the lower-cased password, with its runes
// computed on first need.
type variant struct {
	s string
	r []rune
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
	matchWork.Add(int64(len(a)) * int64(n+1))
	var stack [3 * (maxMatchRunes + 1)]int // three rows for any bounded text, no allocation
	var buf []int
	if 3*(n+1) <= len(stack) {
		buf = stack[:3*(n+1)]
	} else {
		buf = make([]int, 3*(n+1))
	}
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
