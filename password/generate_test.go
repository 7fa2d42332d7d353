package password_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

// TestGeneratedPasswordsPassPolicy is the property test: 100,000
// generated passwords, across the default policy, the preset and a strict
// policy, all pass their policy.
func TestGeneratedPasswordsPassPolicy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		policy password.Policy
		opt    password.GenerateOptions
		n      int
	}{
		{"default", password.Policy{}, password.GenerateOptions{}, 40000},
		{"preset 8", password.PresetUpperDigitSpecial(), password.GenerateOptions{Length: 8}, 40000},
		{"strict", password.Policy{MinLength: 12, MinUpper: 3, MinLower: 3, MinDigit: 3, MinSpecial: 3}, password.GenerateOptions{Length: 12}, 20000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			seen := make(map[string]bool, tc.n)
			for range tc.n {
				pw, err := password.Generate(tc.policy, tc.opt)
				require.NoError(t, err)
				if err := tc.policy.Check(ctx, pw); err != nil {
					t.Fatalf("generated password fails its policy: %v", err)
				}
				seen[pw] = true
			}
			require.Len(t, seen, tc.n, "no repeats")
		})
	}
}

func TestGenerateDefaults(t *testing.T) {
	t.Parallel()
	pw, err := password.Generate(password.Policy{}, password.GenerateOptions{})
	require.NoError(t, err)
	require.Equal(t, password.DefaultGenerateLength, len(pw))
	pw, err = password.Generate(password.Policy{MinLength: 30}, password.GenerateOptions{})
	require.NoError(t, err)
	require.Equal(t, 30, len(pw))
	require.Regexp(t, "^[A-Za-z0-9!#$%&()*+,\\-./:;<=>?@\\[\\]^_{|}~]+$", pw)
}

func TestGenerateErrors(t *testing.T) {
	t.Parallel()
	_, err := password.Generate(password.Policy{}, password.GenerateOptions{Length: 200})
	require.ErrorIs(t, err, password.ErrTooLong)
	_, err = password.Generate(password.Policy{}, password.GenerateOptions{Length: 7})
	require.ErrorIs(t, err, password.ErrInvalidConfig)
	_, err = password.Generate(password.Policy{MinDigit: 5, MinUpper: 5}, password.GenerateOptions{Length: 9})
	require.ErrorIs(t, err, password.ErrInvalidConfig)
	_, err = password.Generate(password.Policy{}, password.GenerateOptions{Rand: bytes.NewReader([]byte{1, 2, 3})})
	require.Error(t, err)
	_, err = password.Passphrase(password.Policy{}, password.GenerateOptions{Words: -1})
	require.ErrorIs(t, err, password.ErrInvalidConfig)
	_, err = password.Passphrase(password.Policy{}, password.GenerateOptions{Words: 20})
	require.ErrorIs(t, err, password.ErrTooLong)
}

func TestPassphrase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	require.Equal(t, password.PassphraseListSize, password.PassphraseWordCount())
	for _, p := range []password.Policy{{}, password.PresetUpperDigitSpecial(), {MinDigit: 3, MinSpecial: 9, MinUpper: 2}} {
		for range 2000 {
			pp, err := password.Passphrase(p, password.GenerateOptions{})
			require.NoError(t, err)
			require.NoError(t, p.Check(ctx, pp), pp)
		}
	}
	long := password.Policy{MinLength: 64}
	pp, err := password.Passphrase(long, password.GenerateOptions{Words: 2})
	require.NoError(t, err)
	require.NoError(t, long.Check(ctx, pp), "extra words reach the minimum length")
	pp, err = password.Passphrase(password.Policy{}, password.GenerateOptions{Words: 4, Separator: " "})
	require.NoError(t, err)
	require.Len(t, strings.Fields(pp), 4)
	require.Regexp(t, `^[a-z]{4,8}( [a-z]{4,8}){3}$`, pp)
	pp, err = password.Passphrase(password.PresetUpperDigitSpecial(), password.GenerateOptions{Words: 3, Separator: "."})
	require.NoError(t, err)
	require.Regexp(t, `^[A-Z][a-z]{3,7}(\.[A-Z][a-z]{3,7}){2}\.[0-9]$`, pp)
}

// TestRandIntnUnbiased: values at or above the largest multiple of n are
// rejected and redrawn rather than folded with a modulo.
func TestRandIntnUnbiased(t *testing.T) {
	t.Parallel()
	// For n = 3, 2^32 mod 3 = 1, so only 0xFFFFFFFF is rejected.
	r := bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 5})
	v, err := password.RandIntn(r, 3)
	require.NoError(t, err)
	require.Equal(t, 2, v)
	// For n = 90 (the generator's alphabet), the top 2^32 mod 90 = 76 values
	// (0xFFFFFFB4 and up) are rejected.
	r = bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xb4, 0xff, 0xff, 0xff, 0xb3})
	v, err = password.RandIntn(r, 90)
	require.NoError(t, err)
	require.Equal(t, int(uint32(0xffffffb3)%90), v)
	// Counts over many draws stay within a loose chi-square bound.
	counts := make([]int, 90)
	const draws = 90000
	for range draws {
		v, err := password.RandIntn(rand.Reader, 90)
		require.NoError(t, err)
		counts[v]++
	}
	chi := 0.0
	for _, c := range counts {
		d := float64(c) - draws/90.0
		chi += d * d / (draws / 90.0)
	}
	require.Less(t, chi, 160.0, "89 degrees of freedom; p < 1e-5 beyond 160")
}
