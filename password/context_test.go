package password_test

import (
	"math/rand/v2"
	"runtime"
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

// mib is a mebibyte of text, the size of the inputs the bounds are tested
// with (far past any request limit).
const mib = 1 << 20

// TestHugeContextWordsBounded: a megabyte context word (a sign-up form's
// email field) and a megabyte password cost Check and Estimate a bounded
// amount of work and memory. Before the bounds, every byte of the word was
// normalised, lower-cased and aligned against the password: the bytes
// allocated per call grew with the word (several MiB), and the alignment
// with password length × word length. Counted, not timed.
// Not parallel: it reads the process's allocation counter.
func TestHugeContextWordsBounded(t *testing.T) {
	ctx := t.Context()
	var p password.Policy
	_ = p.Check(ctx, "warm up the list")
	word := strings.Repeat("a", mib-9) + "@evil.com"
	pw := strings.Repeat("b1", 64) // 128 characters, 3 unleet variants
	huge := strings.Repeat("x", mib)
	cases := []struct {
		name string
		run  func()
	}{
		{"check word", func() { _ = p.Check(ctx, pw, word, word, word) }},
		{"check password", func() { _ = p.Check(ctx, huge, word) }},
		{"estimate", func() { password.Estimate(huge, word, word) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			w0 := password.MatchWork()
			c.run()
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			require.Less(t, alloc, uint64(256<<10), "bytes allocated for one call")
			require.Less(t, password.MatchWork()-w0, int64(1<<20), "matcher work")
		})
	}
	// The too-long password still says so.
	var pe *password.PolicyError
	require.ErrorAs(t, p.Check(ctx, huge, word), &pe)
	require.True(t, pe.Has(password.CodeTooLong))
	long := strings.Repeat("Kx9#mPq2", 20) // 160 characters, under 16 bytes each
	require.ErrorAs(t, p.Check(ctx, long, long), &pe)
	require.True(t, pe.Has(password.CodeTooLong))
}

// TestWorstContextMatchBounded: the worst inputs within the limits (a
// maximal password whose every token passes the matcher's filter, the
// maximum number of maximal words) stay under a fixed amount of matcher
// work, about a millisecond on the development VM (BenchmarkCheckWorstCase).
func TestWorstContextMatchBounded(t *testing.T) {
	for _, c := range worstCases() {
		w0 := password.MatchWork()
		_ = password.Policy{}.Check(t.Context(), c.pw, c.words...)
		password.Estimate(c.pw, c.words...)
		require.Less(t, password.MatchWork()-w0, int64(2<<20), c.name)
	}
}

type worstCase struct {
	name  string
	pw    string
	words []string
}

// worstCases are inputs built to make the matcher do the most work: tokens
// that share a head or tail with the password (so the quadratic alignment
// runs) but never match, as many as the limits allow.
func worstCases() []worstCase {
	pw := strings.Repeat("b1", 64)
	// Distinct tokens (the matcher aligns each distinct token once), each
	// with the password's head so that the alignment runs, none matching.
	tag := func(i int) string {
		return string([]byte{'q' + byte(i%8), 'q' + byte(i/8%8), 'q' + byte(i/64%8), 'q' + byte(i/512%8)})
	}
	words := func(head, sep string) []string {
		out := make([]string, 20)
		for i := range out {
			var w strings.Builder
			for j := 0; w.Len() < mib; j++ {
				w.WriteString(head + tag(i*4096+j) + sep)
			}
			out[i] = w.String()
		}
		return out
	}
	long := strings.Repeat("bi", 30)
	return []worstCase{
		{"long tokens", pw, words(long, ".")},
		{"six-rune tokens", pw, words("bi", ".")},
		{"spaces", pw, words("bibi", " ")},
		{"email", pw, words(long, "@"+long+"zz.com")},
		{"megabyte password", strings.Repeat("bi", mib/2), words(long, ".")},
	}
}
