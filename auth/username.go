package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// claimUsername is the [Claim.Kind] of a reserved username.
const claimUsername = "username"

const (
	// maxNameBytes caps each name given to [usernameBase]: names come from
	// a sign-up form, so their cost must be bounded.
	maxNameBytes = 256
	// maxBaseLen caps the letters part of a username, so that with its
	// number it fits the usual 40-character login fields.
	maxBaseLen = 32
	// usernameTriesPerWidth random numbers are tried per number width
	// (2 digits, then 3, ...) before widening.
	usernameTriesPerWidth = 8
	usernameMinDigits     = 2
	usernameMaxDigits     = 9
)

// translit maps letters that Unicode NFKD does not decompose into an ASCII
// base letter plus combining marks.
var translit = map[rune]string{
	'ł': "l", 'Ł': "L", // Polish
	'ß': "ss", 'ẞ': "SS", // German
	'ø': "o", 'Ø': "O", 'æ': "ae", 'Æ': "AE", // Danish, Norwegian
	'œ': "oe", 'Œ': "OE", // French
	'đ': "d", 'Đ': "D", // Croatian, Vietnamese
	'ð': "d", 'Ð': "D", 'þ': "th", 'Þ': "Th", // Icelandic
	'ı': "i",           // Turkish dotless i (İ decomposes)
	'ħ': "h", 'Ħ': "H", // Maltese
	'ŧ': "t", 'Ŧ': "T", // Sami
	'ŋ': "ng", 'Ŋ': "Ng", // Sami
	'ĸ': "k",
	'ƒ': "f",
}

// transliterate returns an ASCII rendering of s for identifiers. Letters
// with a Latin decomposition lose their marks (NFKD: Żółć → Zolc); letters
// NFKD leaves alone come from explicit tables: Latin (ł → l, ß → ss,
// ø → o, æ → ae, þ → th, ...), Cyrillic in the Russian passport style
// (Иван Петров → Ivan Petrov, Щукин → Shchukin), Greek per ELOT 743
// (Γιώργος Παπαδόπουλος → Giorgos Papadopoulos). Han characters become
// toneless pinyin through github.com/mozillazg/go-pinyin and Korean Hangul
// syllables the Revised Romanisation, each character a word of its own set
// off by spaces (王芳 → " wang  fang ", 김민준 → " gim  min  jun "). ASCII
// is kept, and any other character (scripts with no table here, emoji,
// symbols) becomes a space. German umlauts lose their dots (Müller →
// Muller), as in most login systems; hosts that prefer "ue" can
// transliterate before calling. The cost is linear in len(s), with a small
// constant per character.
func transliterate(s string) string {
	var b strings.Builder
	rs := []rune(norm.NFC.String(s))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r < utf8.RuneSelf {
			b.WriteRune(r)
			continue
		}
		var next rune
		if i+1 < len(rs) {
			next = rs[i+1]
		}
		if out, consumed, ok := romanize(r, next); ok {
			b.WriteString(out)
			if consumed {
				i++
			}
			continue
		}
		for _, d := range norm.NFKD.String(string(r)) {
			switch {
			case d < utf8.RuneSelf:
				b.WriteRune(d)
			case unicode.Is(unicode.Mn, d):
				// combining mark: dropped
			default:
				if t, ok := translit[d]; ok {
					b.WriteString(t)
				} else {
					b.WriteByte(' ')
				}
			}
		}
	}
	return b.String()
}

// usernameBase returns the letters part of a generated username: the
// names passed through [transliterate], each word capitalised, everything
// but ASCII letters removed ("Łukasz", "Żółć" → "LukaszZolc";
// "anne-marie", "o'neil" → "AnneMarieONeil"; "Иван", "Петров" →
// "IvanPetrov"; "王", "芳" → "WangFang"), cut to 32 characters. A name
// with nothing [transliterate] can render (emoji, a script without a
// table) gives "User". Names longer than 256 bytes,
// or both empty, give [ErrInvalidName].
func usernameBase(first, last string) (string, error) {
	if len(first) > maxNameBytes || len(last) > maxNameBytes {
		return "", fmt.Errorf("%w: name longer than %d bytes", ErrInvalidName, maxNameBytes)
	}
	if strings.TrimSpace(first) == "" && strings.TrimSpace(last) == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidName)
	}
	var b strings.Builder
	for _, part := range []string{first, last} {
		startWord := true
		for _, c := range []byte(transliterate(part)) {
			isLetter := (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
			if !isLetter {
				startWord = true
				continue
			}
			if startWord && c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			startWord = false
			if b.Len() < maxBaseLen {
				b.WriteByte(c)
			}
		}
	}
	if b.Len() == 0 {
		return "User", nil
	}
	return b.String(), nil
}

// UsernameKey is the case-folded form under which a username is claimed,
// so that JanKowalski37 and jankowalski37 are the same login. A
// [CredentialStore] folds the login the same way to find a user ByLogin.
func UsernameKey(username string) string { return strings.ToLower(username) }

// GenerateUsername builds a username in the JanKowalski37 form and claims
// it for owner in claims, so that it is unique across every instance that
// shares the store. The letters part is the names transliterated to ASCII,
// each word capitalised, everything but ASCII letters removed, cut to 32
// characters ("Łukasz", "Żółć" → "LukaszZolc"; "Иван", "Петров" →
// "IvanPetrov"; "王", "芳" → "WangFang"; see "Usernames" in the package
// doc), or "User" when nothing in the names can be rendered. It draws the
// number at random from rng (crypto/rand if nil): two digits first
// (10–99), and after a few collisions three, then more, up to nine. Each
// candidate is claimed with an atomic insert-if-absent ([ClaimStore.Claim])
// as the [Claim] of Kind "username" and Key [UsernameKey] of the username
// (logins are unique case-insensitively; a host with users from before
// auth claims their usernames the same way once); on [ErrTaken] it draws
// again. It returns [ErrUsernameExhausted] if every draw was taken,
// [ErrInvalidName] for unusable names (longer than 256 bytes, or both
// empty), and a wrapped store error otherwise.
//
// Random rather than sequential numbers keep the username from telling how
// many namesakes have registered.
func GenerateUsername(ctx context.Context, claims ClaimStore, first, last, owner string, now time.Time, rng io.Reader) (string, error) {
	base, err := usernameBase(first, last)
	if err != nil {
		return "", err
	}
	rng = randOrDefault(rng)
	for digits := usernameMinDigits; digits <= usernameMaxDigits; digits++ {
		lo := pow10(digits - 1)
		span := big.NewInt(9 * lo)
		for range usernameTriesPerWidth {
			n, err := randInt(rng, span)
			if err != nil {
				return "", fmt.Errorf("auth: username number: %w", err)
			}
			name := base + strconv.FormatInt(lo+n, 10)
			err = claims.Claim(ctx, Claim{Kind: claimUsername, Key: UsernameKey(name), Owner: owner, CreatedAt: now})
			switch {
			case err == nil:
				return name, nil
			case errors.Is(err, ErrTaken):
				continue
			default:
				return "", fmt.Errorf("auth: claim username: %w", err)
			}
		}
	}
	return "", ErrUsernameExhausted
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
