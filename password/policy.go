package password

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/bulwarkhq/bulwark/password/internal/blocklist"
)

// Defaults applied by a zero [Policy], documented on its fields.
const (
	// defaultMinLength is 8 characters: ASVS 5.0 6.2.1 and NIST SP 800-63B
	// rev. 4 §3.1.1.2 (minimum for a password used with a second factor).
	// Both recommend 15 or more for a password that is the only factor; set
	// MinLength: 15 for password-only accounts.
	defaultMinLength = 8
	// defaultMaxLength is 128 characters. ASVS 5.0 6.2.9 and 800-63B ask for
	// at least 64; 128 leaves room for passphrases and password managers
	// while bounding the work one request can ask for. Longer passwords are
	// rejected with [CodeTooLong], never truncated.
	defaultMaxLength = 128
	// minAllowedMaxLength is the smallest MaxLength a Policy may set (ASVS
	// 5.0 6.2.9); smaller values are raised to it.
	minAllowedMaxLength = 64
)

// Policy decides whether a password is acceptable. Its zero value means the
// NIST SP 800-63B / ASVS 5.0 defaults: at least 8 and at most 128
// characters, no composition rules, the embedded blocklist on, no breach
// checker.
//
// A Policy is a value; it is safe to use concurrently once built, provided
// its BreachChecker is.
type Policy struct {
	// MinLength is the minimum number of characters (code points after NFKC
	// normalisation). Zero means 8 (ASVS 5.0 6.2.1 and NIST SP 800-63B rev.
	// 4 §3.1.1.2, the minimum for a password used with a second factor;
	// both recommend 15 or more where the password is the only factor, so
	// set 15 for password-only accounts). Values below 8 are raised to 8.
	MinLength int
	// MaxLength is the maximum number of characters. Zero means 128: ASVS
	// 5.0 6.2.9 and 800-63B ask for at least 64, and 128 leaves room for
	// passphrases and password managers while bounding the work one request
	// can ask for. Values below 64 (ASVS 5.0 6.2.9) are raised to 64.
	// Longer passwords are rejected with [CodeTooLong], never truncated.
	MaxLength int

	// Composition rules, all off by default because ASVS 5.0 6.2.5 and
	// 800-63B §3.1.1.2 advise against them. Each is a minimum count.
	// "Special" is any character that is neither a letter nor a number
	// (punctuation, symbols, spaces). See [PresetUpperDigitSpecial].
	MinUpper, MinLower, MinDigit, MinSpecial int

	// AllowCommon turns off the embedded blocklist of the 30,000 most common
	// passwords (ASVS 5.0 6.2.4). Leave it false.
	AllowCommon bool

	// ContextWords are the host's documented context-specific words (ASVS
	// 5.0 6.1.2, 6.2.11): product, company and project names. Per-user words
	// (name, email) are passed to [Policy.Check] instead.
	ContextWords []string

	// Breach, when set, is asked whether the password appears in a breach
	// corpus (ASVS 5.0 6.2.12); see [HIBP].
	Breach BreachChecker
	// BlockOnBreachCheckError makes a failing breach check reject the
	// password with [CodeBreachUnknown]. By default a failure does not block
	// (an outage of a third-party service should not stop sign-ups); it is
	// reported through Hook as [EventBreachCheckFailed].
	BlockOnBreachCheckError bool

	// Hook, if set, receives reportable events ([EventBreachedPassword],
	// [EventBreachCheckFailed]). It never receives the password. It is
	// optional (nil means no hook) and called synchronously, so a slow hook
	// slows [Policy.Check].
	Hook func(context.Context, Event)
	// Now is the clock for [Event].Time. Nil means time.Now.
	Now func() time.Time
}

// PresetUpperDigitSpecial returns the common contractual rule "at least 8
// characters with one upper-case letter, one digit and one special
// character", on top of the defaults (blocklist included).
func PresetUpperDigitSpecial() Policy {
	return Policy{MinLength: 8, MinUpper: 1, MinDigit: 1, MinSpecial: 1}
}

func (p Policy) minLength() int {
	if p.MinLength < defaultMinLength {
		return defaultMinLength
	}
	return p.MinLength
}

func (p Policy) maxLength() int {
	switch {
	case p.MaxLength == 0:
		return max(defaultMaxLength, p.minLength())
	case p.MaxLength < minAllowedMaxLength:
		return max(minAllowedMaxLength, p.minLength())
	}
	return max(p.MaxLength, p.minLength())
}

// Normalize returns the NFKC form of a password, the form this package
// checks and hashes. Invalid UTF-8 is returned unchanged.
func Normalize(password string) string {
	if !utf8.ValidString(password) {
		return password
	}
	return norm.NFKC.String(password)
}

type classCounts struct{ upper, lower, digit, special, letter, other, n int }

func countClasses(s string) classCounts {
	var c classCounts
	for _, r := range s {
		c.n++
		switch {
		case unicode.IsUpper(r):
			c.upper++
			c.letter++
		case unicode.IsLower(r):
			c.lower++
			c.letter++
		case unicode.IsLetter(r):
			c.letter++
			c.other++
		case unicode.IsNumber(r):
			c.digit++
		default:
			c.special++
		}
	}
	return c
}

// Check reports whether password satisfies the policy. It returns nil, or a
// *[PolicyError] listing every violated rule (the breach check is skipped
// for a password that is invalid UTF-8 or too long). contextWords are
// per-user words such as the user's name and email address; an email is
// split into its local part and domain name. They are checked after
// [Policy.ContextWords], and a [CodeContextWord] violation reports the
// word's index in that combined list.
//
// The password is NFKC-normalised first and counted in code points; it is
// never truncated. The minimum length applies to the shorter of the typed
// and the normalised password, so characters that NFKC expands (U+FDFA
// becomes 18 code points) do not count as several. Errors other than *PolicyError are not returned: breach
// checker failures are handled as documented on
// [Policy.BlockOnBreachCheckError].
//
// Every input has a bounded cost: a password longer than 16 bytes per
// allowed character gets [CodeTooLong] before it is normalised, a too-long
// password skips the blocklist, context-word and breach checks, at most
// 8 per-user words are used, and each context word is read up to 254
// bytes (see the package doc, "Bounded cost").
func (p Policy) Check(ctx context.Context, password string, contextWords ...string) error {
	var vs []Violation
	add := func(c Code, kv ...any) {
		v := Violation{Code: c}
		if len(kv) > 0 {
			v.Params = make(map[string]int, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				v.Params[kv[i].(string)] = kv[i+1].(int)
			}
		}
		vs = append(vs, v)
	}
	// Bound the work before normalising. NFKC can compose several code
	// points into one (Hangul jamo, combining marks), so allow generously
	// more than MaxLength code points of 4 bytes each.
	maxLen := p.maxLength()
	if len(password) > 16*maxLen {
		if !utf8.ValidString(password) {
			add(CodeInvalidUTF8)
		} else {
			add(CodeTooLong, "max", maxLen, "actual", utf8.RuneCountInString(password))
		}
		return &PolicyError{Violations: vs}
	}
	if !utf8.ValidString(password) {
		add(CodeInvalidUTF8)
		return &PolicyError{Violations: vs}
	}
	pw := Normalize(password)
	c := countClasses(pw)
	// NFKC can also expand one code point into many (U+FDFA becomes 18),
	// so the minimum sees the shorter of the typed and normalised counts:
	// a single ligature must not pass as an 8-character password.
	if n := min(c.n, utf8.RuneCountInString(password)); n < p.minLength() {
		add(CodeTooShort, "min", p.minLength(), "actual", n)
	}
	tooLong := c.n > maxLen
	if tooLong {
		add(CodeTooLong, "max", maxLen, "actual", c.n)
	}
	if c.upper < p.MinUpper {
		add(CodeMinUpper, "min", p.MinUpper, "actual", c.upper)
	}
	if c.lower < p.MinLower {
		add(CodeMinLower, "min", p.MinLower, "actual", c.lower)
	}
	if c.digit < p.MinDigit {
		add(CodeMinDigit, "min", p.MinDigit, "actual", c.digit)
	}
	if c.special < p.MinSpecial {
		add(CodeMinSpecial, "min", p.MinSpecial, "actual", c.special)
	}
	// A too-long password is refused whatever it contains: the list and
	// context-word matchers, whose cost grows with the password's length,
	// are not run on it.
	if !tooLong {
		lower := strings.ToLower(pw)
		if !p.AllowCommon {
			if r := blocklist.Default().Rank(lower); r > 0 {
				add(CodeCommon, "rank", r)
			}
		}
		if i := matchContext(lower, p.ContextWords, contextWords); i >= 0 {
			add(CodeContextWord, "index", i)
		}
	}
	var cause error
	if p.Breach != nil && !tooLong {
		breached, err := p.Breach.Breached(ctx, pw)
		switch {
		case err != nil:
			cause = err
			if !errors.Is(err, ErrBreachCheck) {
				cause = errors.Join(ErrBreachCheck, err)
			}
			p.emit(ctx, Event{Type: EventBreachCheckFailed, Err: cause})
			if p.BlockOnBreachCheckError {
				add(CodeBreachUnknown)
			} else {
				cause = nil
			}
		case breached:
			add(CodeBreached)
			p.emit(ctx, Event{Type: EventBreachedPassword})
		}
	}
	if len(vs) == 0 {
		return nil
	}
	return &PolicyError{Violations: vs, Err: cause}
}

func (p Policy) emit(ctx context.Context, e Event) {
	if p.Hook != nil {
		if p.Now != nil {
			e.Time = p.Now().UTC()
		} else {
			e.Time = time.Now().UTC()
		}
		p.Hook(ctx, e)
	}
}
