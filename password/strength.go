package password

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/password/internal/blocklist"

	"github.com/bulwarkhq/bulwark/internal/trunc"
)

// Hint is a stable feedback code from [Estimate], for translation.
type Hint string

// Feedback codes.
const (
	HintCommon      Hint = "common"       // the whole password is a common password
	HintCommonWord  Hint = "common_word"  // it contains a common password
	HintContextWord Hint = "context_word" // it contains or resembles a context word
	HintRepeats     Hint = "repeats"      // a character three or more times in a row ("aaa")
	HintSequence    Hint = "sequence"     // sequences ("abcd", "4321")
	HintShort       Hint = "short"        // shorter than the default minimum
	HintAddWords    Hint = "add_words"    // add another word or two
)

// Strength is a cheap estimate of how hard a password is to guess.
type Strength struct {
	// Score runs from 0 (guessable in under 10^3 guesses) to 4 (over 10^10),
	// with thresholds at 10^3, 10^6, 10^8 and 10^10 as in zxcvbn.
	Score int
	// Log10Guesses is the estimated number of guesses, as a power of ten.
	Log10Guesses float64
	// Hints name the weaknesses found; HintAddWords appears below score 4.
	Hints []Hint
}

// Estimate scores a password for a strength meter. It is a heuristic in
// the spirit of zxcvbn, not a policy: it charges the full alphabet size for
// each character, a single bit for repeats and sequence steps, and the
// list rank for common passwords and embedded common words, and caps the
// score at 1 for passwords resembling a context word. It runs in
// microseconds and allocates little, whatever the input: it reads at most
// the first 256 characters of the password and bounds the context words as
// [Policy.Check] does. Use [Policy.Check] to accept or reject.
func Estimate(password string, contextWords ...string) Strength {
	// Estimate only the first maxMatchRunes characters: nothing is stored,
	// and a longer password scores 4 on its head already unless it repeats
	// itself. Truncating first bounds the work of every step below.
	password = trunc.UTF8(password, 4*maxMatchRunes)
	if !utf8.ValidString(password) || password == "" {
		return Strength{Hints: []Hint{HintShort}}
	}
	pw := truncateRunes(Normalize(password), maxMatchRunes)
	lower := strings.ToLower(pw)
	set := blocklist.Default()
	var hints []Hint
	hint := func(h Hint) {
		for _, x := range hints {
			if x == h {
				return
			}
		}
		hints = append(hints, h)
	}
	var bits float64
	if r := set.Rank(lower); r > 0 {
		bits = math.Log2(float64(r) + 1)
		hint(HintCommon)
	} else {
		c := countClasses(pw)
		pool := 0
		if c.lower > 0 {
			pool += 26
		}
		if c.upper > 0 {
			pool += 26
		}
		if c.digit > 0 {
			pool += 10
		}
		if c.special > 0 {
			pool += 33
		}
		if c.other > 0 {
			pool += 100
		}
		perChar := math.Log2(float64(max(pool, 2)))
		runes := []rune(lower)
		for i := 0; i < len(runes); {
			if w, rank := longestCommonWord(set, runes[i:]); w >= 4 {
				// At least 50 guesses per word (as zxcvbn), +1 bit for capitalisation.
				bits += math.Log2(float64(max(rank, 50))) + 1
				hint(HintCommonWord)
				i += w
				continue
			}
			switch {
			case i > 1 && runes[i] == runes[i-1] && runes[i] == runes[i-2]: // "aaa", not "tt
				bits++
				hint(HintRepeats)
			case i > 1 && runes[i]-runes[i-1] == runes[i-1]-runes[i-2] && abs(runes[i]-runes[i-1]) == 1:
				bits++
				hint(HintSequence)
			default:
				bits += perChar
			}
			i++
		}
		if c.n < defaultMinLength {
			hint(HintShort)
		}
	}
	log10 := bits * math.Log10(2)
	score := 0
	for _, t := range []float64{3, 6, 8, 10} {
		if log10 >= t {
			score++
		}
	}
	if matchContext(lower, nil, contextWords) >= 0 {
		score = min(score, 1)
		hint(HintContextWord)
	}
	if score < 4 {
		hint(HintAddWords)
	}
	return Strength{Score: score, Log10Guesses: log10, Hints: hints}
}

// longestCommonWord returns the length and rank of the longest list entry
// (4 to 20 characters, letters only) that r starts with, or 0.
func longestCommonWord(set *blocklist.Set, r []rune) (int, int) {
	n := 0
	for n < len(r) && n < 20 && unicode.IsLetter(r[n]) {
		n++
	}
	for ; n >= 4; n-- {
		if rank := set.Rank(string(r[:n])); rank > 0 {
			return n, rank
		}
	}
	return 0, 0
}

func abs(r rune) rune {
	if r < 0 {
		return -r
	}
	return r
}
