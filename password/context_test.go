package password_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

// TestContextFilterIsSound checks the pigeonhole filter in front of the
// alignment: whenever some substring of the text is within one edit of a
// word of six or more characters, the text contains the word's head or tail
// unchanged. A small alphabet makes near-matches frequent.
func TestContextFilterIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	word := func(n int) []rune {
		out := make([]rune, n)
		for i := range out {
			out[i] = rune('a' + r.IntN(3))
		}
		return out
	}
	hits := 0
	for range 20000 {
		pat := word(6 + r.IntN(5))
		text := word(r.IntN(20))
		if password.SubstringDistance(text, pat) > 1 {
			continue
		}
		hits++
		h := len(pat) / 2
		s := string(text)
		require.True(t, strings.Contains(s, string(pat[:h-1])) || strings.Contains(s, string(pat[h+1:])),
			"text %q pat %q", s, string(pat))
	}
	require.Greater(t, hits, 500, "enough near-matches to mean something")
	require.Equal(t, 0, password.SubstringDistance([]rune("xxbulwarkxx"), []rune("bulwark")))
	require.Equal(t, 1, password.SubstringDistance([]rune("xxbulwrakxx"), []rune("bulwark")))
	require.Equal(t, 1, password.SubstringDistance([]rune("bulwar"), []rune("bulwark")))
	require.Equal(t, 7, password.SubstringDistance(nil, []rune("bulwark")))
}
