package password_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/bulwarkhq/bulwark/password"
)

// TestWrapVerifiesLikeBcrypt: for bcrypt's edge cases (72-byte truncation,
// a cut inside a character, 8-bit characters, $2a$/$2b$/$2y$, salts and
// outputs with stray low bits, costs out of range), a wrapped hash accepts
// exactly the passwords x/crypto/bcrypt accepts for the original, and Wrap
// never writes an onion that Verify cannot read.
func TestWrapVerifiesLikeBcrypt(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newHasher(t, password.Config{})
	long := strings.Repeat("ab", 40)          // 80 bytes
	multi := strings.Repeat("x", 71) + "żółw" // 72-byte cut inside 'ż'
	high := "ÿ€\u00a0\u0080 Ω≈ç√∫˜µ≤≥÷"
	mk := func(pw string, prefix string) string {
		b := []byte(pw)
		if len(b) > 72 {
			b = b[:72]
		}
		enc, err := bcrypt.GenerateFromPassword(b, 4)
		require.NoError(t, err)
		return prefix + string(enc[3:])
	}
	type tc struct {
		name, hash string
		tries      []string
	}
	var cases []tc
	for _, v := range []string{"$2a", "$2b", "$2y"} {
		cases = append(cases,
			tc{"long" + v, mk(long, v), []string{long, long[:72], long[:72] + "zz", long[:71]}},
			tc{"multi" + v, mk(multi, v), []string{multi, multi[:72], multi[:71]}},
			tc{"high" + v, mk(high, v), []string{high, high[:len(high)-1], strings.ToUpper(high)}},
		)
	}
	base := mk("salty", "$2b")
	// The salt's last character carries 2 bits; the output's last 4.
	const alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for _, at := range []struct{ pos, spare int }{{28, 15}, {59, 3}} {
		idx := strings.IndexByte(alphabet, base[at.pos])
		for i := idx &^ at.spare; i <= idx|at.spare; i++ {
			s := base[:at.pos] + alphabet[i:i+1] + base[at.pos+1:]
			cases = append(cases, tc{"char" + alphabet[i:i+1] + "@" + string(rune('0'+at.pos%10)), s, []string{"salty", "salt"}})
		}
	}
	for _, cost := range []string{"03", "00", "32", "99"} {
		cases = append(cases, tc{"cost" + cost, base[:4] + cost + base[6:], []string{"salty"}})
	}
	for _, c := range cases {
		w, werr := h.Wrap(ctx, c.hash)
		if werr != nil {
			continue // refused, as UpgradeHashes counts it: the hash stays
		}
		_, perr := password.ParseRoundTrip(w)
		require.NoError(t, perr, "%s: Wrap wrote an onion Verify cannot read: %s", c.name, w)
		for _, pw := range c.tries {
			legacy := bcrypt.CompareHashAndPassword([]byte(c.hash), trunc72(pw))
			onion := h.Verify(ctx, pw, w)
			require.Equal(t, legacy == nil, onion == nil, "%s %q: bcrypt %v, onion %v", c.name, pw, legacy, onion)
			if onion != nil {
				require.True(t, errors.Is(onion, password.ErrMismatch), "%s: %v", c.name, onion)
			}
		}
	}
}

func trunc72(s string) []byte {
	if len(s) > 72 {
		return []byte(s[:72])
	}
	return []byte(s)
}

// TestOnionSameWorkForUnnormalisedGuess: a wrong guess that NFKC changes
// (an onion is then tried twice, normalised and as given) costs the same
// KDF work against an onion, a current hash and no account at all, so a
// login's timing does not tell which accounts had legacy hashes.
func TestOnionSameWorkForUnnormalisedGuess(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const pw = "correct horse battery"
	legacy, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
	require.NoError(t, err)
	h := newHasher(t, password.Config{LegacyPad: []string{password.InnerSetting(string(legacy))}})
	onion, err := h.Wrap(ctx, string(legacy))
	require.NoError(t, err)
	current, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	for _, guess := range []string{"wrong guess", "\u212b wrong \ufb01 guess"} {
		work := map[string]int64{}
		for name, verify := range map[string]func() error{
			"onion":   func() error { return h.Verify(ctx, guess, onion) },
			"current": func() error { return h.Verify(ctx, guess, current) },
			"none":    func() error { return h.VerifyNone(ctx, guess) },
		} {
			before := password.VerifyWork(h)
			require.ErrorIs(t, verify(), password.ErrMismatch)
			work[name] = password.VerifyWork(h) - before
		}
		require.Equal(t, work["onion"], work["current"], "guess %q: %v", guess, work)
		require.Equal(t, work["onion"], work["none"], "guess %q: %v", guess, work)
	}
}
