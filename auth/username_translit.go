package auth

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// Tables for the scripts that NFKD does not bring to Latin letters. Each is
// a common romanisation simplified for logins: no diacritics, no
// apostrophes, one fixed spelling per letter.

// cyrillic follows the Russian passport style (BGN/PCGN-like: ж zh, х kh,
// ц ts, щ shch, ю yu, я ya; ъ and ь dropped), with the extra letters of
// Ukrainian, Belarusian, Serbian, Macedonian and Kazakh. A letter shared
// by several languages gets its Russian value (г → g).
var cyrillic = map[rune]string{
	'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "e",
	'ж': "zh", 'з': "z", 'и': "i", 'й': "y", 'к': "k", 'л': "l", 'м': "m",
	'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s", 'т': "t", 'у': "u",
	'ф': "f", 'х': "kh", 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
	'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	// Ukrainian, Belarusian
	'є': "ye", 'і': "i", 'ї': "yi", 'ґ': "g", 'ў': "w",
	// Serbian, Macedonian
	'ђ': "dj", 'ј': "j", 'љ': "lj", 'њ': "nj", 'ћ': "c", 'џ': "dz",
	'ѓ': "gj", 'ќ': "kj", 'ѕ': "dz",
	// Kazakh and other Turkic languages
	'ә': "a", 'ғ': "g", 'қ': "q", 'ң': "ng", 'ө': "o", 'ұ': "u", 'ү': "u", 'һ': "h",
}

// greek follows ELOT 743 / ISO 843 (type 2) without accents; the
// digraphs below come first.
var greek = map[rune]string{
	'α': "a", 'β': "v", 'γ': "g", 'δ': "d", 'ε': "e", 'ζ': "z", 'η': "i",
	'θ': "th", 'ι': "i", 'κ': "k", 'λ': "l", 'μ': "m", 'ν': "n", 'ξ': "x",
	'ο': "o", 'π': "p", 'ρ': "r", 'σ': "s", 'ς': "s", 'τ': "t", 'υ': "y",
	'φ': "f", 'χ': "ch", 'ψ': "ps", 'ω': "o",
}

// greekPairs are the ELOT 743 digraphs that read differently from their
// letters (ου → ou, αυ → av, ευ → ev, γγ → ng, ...), keyed by the lower-case
// accentless pair.
var greekPairs = map[[2]rune]string{
	{'ο', 'υ'}: "ou", {'α', 'υ'}: "av", {'ε', 'υ'}: "ev", {'η', 'υ'}: "iv",
	{'γ', 'γ'}: "ng", {'γ', 'χ'}: "nch", {'γ', 'ξ'}: "nx",
}

// pinyinArgs turns one Han character into toneless pinyin (its first, most
// common reading). Fallback is set so the library's mutable package-level
// default is never consulted.
var pinyinArgs = pinyin.Args{
	Style:    pinyin.Normal,
	Fallback: func(rune, pinyin.Args) []string { return nil },
}

// romanize returns the ASCII romanisation of r (and of next, when the two
// form a digraph; consumed reports that), or ok false when no table knows
// r. Han characters come back as a separate word ("wang") so each syllable
// starts a capital in a username.
func romanize(r, next rune) (out string, consumed, ok bool) {
	lower := unicode.ToLower(r)
	upper := lower != r
	switch {
	case unicode.Is(unicode.Cyrillic, r):
		out, ok = cyrillic[lower]
	case unicode.Is(unicode.Greek, r):
		b, nb := greekBase(lower), greekBase(unicode.ToLower(next))
		if s, pair := greekPairs[[2]rune{b, nb}]; pair {
			out, consumed, ok = s, true, true
		} else {
			out, ok = greek[b]
		}
	case unicode.Is(unicode.Han, r):
		py := pinyin.SinglePinyin(r, pinyinArgs)
		if len(py) == 0 {
			return "", false, false
		}
		// Chinese passports write ü as yu after l and n (吕 → Lyu); the
		// library spells it v.
		s := strings.ReplaceAll(py[0], "v", "yu")
		return " " + s + " ", false, true
	case unicode.Is(unicode.Hangul, r):
		out, ok = hangul(r)
		return " " + out + " ", false, ok
	}
	if !ok {
		return "", false, false
	}
	switch {
	case upper && consumed && unicode.IsUpper(next):
		out = strings.ToUpper(out) // ΟΥ → OU
	case upper && out != "":
		out = strings.ToUpper(out[:1]) + out[1:]
	}
	return out, consumed, true
}

// greekBase strips the tonos and dialytika from a Greek letter.
func greekBase(r rune) rune {
	switch r {
	case 'ά':
		return 'α'
	case 'έ':
		return 'ε'
	case 'ή':
		return 'η'
	case 'ί', 'ϊ', 'ΐ':
		return 'ι'
	case 'ό':
		return 'ο'
	case 'ύ', 'ϋ', 'ΰ':
		return 'υ'
	case 'ώ':
		return 'ω'
	}
	return r
}

// Revised Romanisation of Korean, applied per syllable block from its
// arithmetic decomposition (Unicode section 3.12).
var (
	hangulLead  = []string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"}
	hangulVowel = []string{"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"}
	hangulTail  = []string{"", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"}
)

func hangul(r rune) (string, bool) {
	const base, count = 0xAC00, 19 * 21 * 28
	i := int(r) - base
	if i < 0 || i >= count {
		return "", false
	}
	return hangulLead[i/(21*28)] + hangulVowel[i%(21*28)/28] + hangulTail[i%28], true
}
