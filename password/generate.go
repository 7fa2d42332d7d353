package password

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark/password/internal/blocklist"
)

// Character classes for generated passwords. The special characters leave
// out quotes, backslash, backtick and space, which break naive shells,
// config files and CSV exports.
const (
	genUpper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	genLower   = "abcdefghijklmnopqrstuvwxyz"
	genDigit   = "0123456789"
	genSpecial = "!#$%&()*+,-./:;<=>?@[]^_{|}~"
	genAll     = genUpper + genLower + genDigit + genSpecial
)

// Defaults of [GenerateOptions], documented on its fields.
const (
	defaultGenerateLength  = 20 // ~129 bits from 90 characters (ASVS 5.0 11.5.1: 128)
	defaultPassphraseWords = 8  // ~112 bits from 17,557 words
)

// maxGenerateAttempts bounds the retries when a random draw happens to fail
// the policy (for example by landing on a blocklisted word).
const maxGenerateAttempts = 64

// GenerateOptions configures [Generate] and [Passphrase]. The zero value
// means the defaults.
type GenerateOptions struct {
	// Length of a generated password in characters. Zero means the larger
	// of 20 and the policy's minimum: 20 characters from a 90-character
	// alphabet are about 129 bits, and ASVS 5.0 11.5.1 asks 128 bits for
	// unguessable values.
	Length int
	// Words in a passphrase. Zero means 8: eight draws from the list of
	// 17,557 words (about 14.1 bits each) are over 110 bits.
	Words int
	// Separator between passphrase words. Empty means "-".
	Separator string
	// Rand is the randomness source. Nil means crypto/rand.
	Rand io.Reader
}

func (o GenerateOptions) rand() io.Reader {
	if o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// randIntn returns a uniform integer in [0, n) by rejection sampling, so no
// value is more likely than another (no modulo bias).
func randIntn(r io.Reader, n int) (int, error) {
	if n <= 0 || n > 1<<31 {
		return 0, fmt.Errorf("%w: bad range", ErrInvalidConfig)
	}
	limit := (uint64(1) << 32) / uint64(n) * uint64(n)
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, fmt.Errorf("password: reading randomness: %w", err)
		}
		if v := uint64(binary.BigEndian.Uint32(b[:])); v < limit {
			return int(v % uint64(n)), nil
		}
	}
}

// localOnly is the policy without the network and hook: generated
// passwords are checked against the local rules only.
func localOnly(p Policy) Policy {
	p.Breach, p.Hook = nil, nil
	return p
}

// Generate returns a random password that satisfies p's local rules
// (length, composition, blocklist, static context words): the required
// characters of each class are drawn first, the rest from all classes, and
// the result is shuffled, every draw uniform from crypto/rand (or
// opt.Rand). It does not consult p's BreachChecker. It returns an error
// wrapping [ErrInvalidConfig] when the policy cannot be met at the
// requested length, [ErrTooLong] when the length exceeds the policy's
// maximum, or a randomness error.
func Generate(p Policy, opt GenerateOptions) (string, error) {
	n := opt.Length
	if n == 0 {
		n = max(defaultGenerateLength, p.minLength())
	}
	switch {
	case n > p.maxLength():
		return "", ErrTooLong
	case n < p.minLength():
		return "", fmt.Errorf("%w: length below the policy minimum", ErrInvalidConfig)
	case p.MinUpper+p.MinLower+p.MinDigit+p.MinSpecial > n:
		return "", fmt.Errorf("%w: composition rules exceed the length", ErrInvalidConfig)
	}
	r := opt.rand()
	lp := localOnly(p)
	buf := make([]byte, 0, n)
	for range maxGenerateAttempts {
		buf = buf[:0]
		var err error
		for _, req := range []struct {
			set string
			n   int
		}{{genUpper, p.MinUpper}, {genLower, p.MinLower}, {genDigit, p.MinDigit}, {genSpecial, p.MinSpecial}, {genAll, n}} {
			for len(buf) < n && req.n > 0 {
				var i int
				if i, err = randIntn(r, len(req.set)); err != nil {
					return "", err
				}
				buf = append(buf, req.set[i])
				req.n--
			}
		}
		for i := len(buf) - 1; i > 0; i-- { // Fisher-Yates
			j, err := randIntn(r, i+1)
			if err != nil {
				return "", err
			}
			buf[i], buf[j] = buf[j], buf[i]
		}
		if lp.Check(context.Background(), string(buf)) == nil {
			return string(buf), nil
		}
	}
	return "", fmt.Errorf("%w: could not satisfy the policy", ErrInvalidConfig)
}

var passphraseWords = sync.OnceValue(func() []string {
	// Words of 4 to 8 letters from the embedded frequency list.
	ok := regexp.MustCompile(`^[a-z]{4,8}$`)
	out := make([]string, 0, passphraseListSize)
	for w := range strings.SplitSeq(blocklist.Raw(), "\n") {
		if ok.MatchString(w) {
			out = append(out, w)
		}
	}
	return out
})

// passphraseListSize is the number of words a passphrase draws from (about
// 14.1 bits each).
const passphraseListSize = 17557

// Passphrase returns random words joined by a separator, adapted to p (more
// words than asked are drawn if needed to reach p's minimum length): with
// MinUpper each word is capitalised, with MinDigit that many random digits
// are appended as a final group, with MinSpecial beyond the separators that
// many random special characters likewise. The words are the 4-8 letter
// entries of the embedded frequency list (17,557 words); their
// strength comes from the number of independent uniform draws, not from
// the words being rare. Errors are as for [Generate].
func Passphrase(p Policy, opt GenerateOptions) (string, error) {
	words := opt.Words
	if words == 0 {
		words = defaultPassphraseWords
	}
	sep := opt.Separator
	if sep == "" {
		sep = "-"
	}
	if words < 1 {
		return "", fmt.Errorf("%w: words must be positive", ErrInvalidConfig)
	}
	list := passphraseWords()
	r := opt.rand()
	lp := localOnly(p)
	pick := func(set string, n int) (string, error) {
		b := make([]byte, n)
		for i := range b {
			j, err := randIntn(r, len(set))
			if err != nil {
				return "", err
			}
			b[i] = set[j]
		}
		return string(b), nil
	}
	for range maxGenerateAttempts {
		parts := make([]string, 0, words+2)
		// Draw the requested words, and more while the words and separators
		// alone are shorter than the policy's minimum.
		for length := 0; len(parts) < words || length < p.minLength(); {
			i, err := randIntn(r, len(list))
			if err != nil {
				return "", err
			}
			w := list[i]
			if p.MinUpper > 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			parts = append(parts, w)
			length += len(w) + utf8.RuneCountInString(sep)
		}
		if p.MinDigit > 0 {
			d, err := pick(genDigit, p.MinDigit)
			if err != nil {
				return "", err
			}
			parts = append(parts, d)
		}
		if extra := p.MinSpecial - specialCount(sep)*(len(parts)-1); extra > 0 {
			s, err := pick(genSpecial, extra)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		out := strings.Join(parts, sep)
		if utf8.RuneCountInString(out) > p.maxLength() {
			return "", ErrTooLong
		}
		if lp.Check(context.Background(), out) == nil {
			return out, nil
		}
	}
	return "", fmt.Errorf("%w: could not satisfy the policy", ErrInvalidConfig)
}

func specialCount(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsNumber(r) {
			n++
		}
	}
	return n
}
