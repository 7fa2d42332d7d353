package password_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"

	"github.com/bulwarkhq/bulwark/password"
)

// TestBcryptRawMatchesXCrypto: the bcrypt the onions recompute gives the
// output x/crypto/bcrypt stored, for every length up to bcrypt's 72 bytes.
func TestBcryptRawMatchesXCrypto(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"", "a", "correct horse battery staple", strings.Repeat("x", 71), strings.Repeat("y", 72)} {
		enc, err := bcrypt.GenerateFromPassword([]byte(pw), 4)
		require.NoError(t, err)
		salt, err := password.BcryptB64.DecodeString(string(enc[7:29]))
		require.NoError(t, err)
		want, err := password.BcryptB64.DecodeString(string(enc[29:]))
		require.NoError(t, err)
		got, err := password.BcryptRaw([]byte(pw), 4, salt)
		require.NoError(t, err)
		require.Equal(t, want, got, "len %d", len(pw))
	}
}

// legacyHashes returns a hash of pw in each legacy form an onion wraps.
func legacyHashes(t testing.TB, pw string) map[string]string {
	t.Helper()
	b, err := bcrypt.GenerateFromPassword([]byte(pw), 5)
	require.NoError(t, err)
	salt := []byte("0123456789abcdef")
	dk, err := scrypt.Key([]byte(pw), salt, 16, 8, 1, 32)
	require.NoError(t, err)
	b64 := base64.RawStdEncoding
	old, err := password.New(password.Config{Params: password.Params{Memory: 32, Time: 1, Parallelism: 1}})
	require.NoError(t, err)
	a, err := old.Hash(t.Context(), pw)
	require.NoError(t, err)
	return map[string]string{
		"bcrypt":    string(b),
		"scrypt":    "$scrypt$ln=4,r=8,p=1$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(dk),
		"argon2old": a,
	}
}

// TestWrap: a wrapped legacy hash verifies the same password and no other,
// keeps no trace of the legacy output, needs a rehash, is left alone by a
// second Wrap, and round-trips through the parser; a current hash is not
// wrapped.
func TestWrap(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	h := newHasher(t, password.Config{})
	const pw = "Zażółć gęślą jaźń 42"
	for name, legacy := range legacyHashes(t, pw) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			w, err := h.Wrap(ctx, legacy)
			require.NoError(t, err)
			require.True(t, strings.HasPrefix(w, "$argon2id-onion$v=19$m=64,t=1,p=1$"), w)
			require.NoError(t, h.Verify(ctx, pw, w))
			require.ErrorIs(t, h.Verify(ctx, pw+"!", w), password.ErrMismatch)
			require.True(t, h.NeedsRehash(w))
			out := legacy[strings.LastIndexByte(legacy, '$')+1:]
			if name == "bcrypt" {
				out = legacy[29:]
			}
			require.NotContains(t, w, out, "the legacy output is not kept")
			again, err := h.Wrap(ctx, w)
			require.NoError(t, err)
			require.Equal(t, w, again)
			rt, err := password.ParseRoundTrip(w)
			require.NoError(t, err)
			require.Equal(t, w, rt)
			require.Equal(t, password.InnerSetting(legacy), password.InnerSetting(w))
			require.NotEmpty(t, password.InnerSetting(w))
			// A hasher padding with this setting verifies it the same.
			padded := newHasher(t, password.Config{LegacyPad: []string{password.InnerSetting(w)}})
			require.NoError(t, padded.Verify(ctx, pw, w))
		})
	}
	cur, err := h.Hash(ctx, pw)
	require.NoError(t, err)
	same, err := h.Wrap(ctx, cur)
	require.NoError(t, err)
	require.Equal(t, cur, same, "nothing to wrap")
	_, err = h.Wrap(ctx, "$2b$99$"+strings.Repeat("a", 53))
	require.ErrorIs(t, err, password.ErrParamsTooLarge)
	_, err = h.Wrap(ctx, "nonsense")
	require.ErrorIs(t, err, password.ErrMalformedHash)
	for _, bad := range []string{"bcrypt$c=10", "bcrypt$v=2b,c=31", "nonsense", "scrypt$ln=40,r=8,p=1,l=32"} {
		_, err = password.New(password.Config{LegacyPad: []string{bad}})
		require.ErrorIs(t, err, password.ErrInvalidConfig, bad)
	}
}
