package password_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

func codes(err error) []password.Code {
	var pe *password.PolicyError
	if !errors.As(err, &pe) {
		return nil
	}
	out := make([]password.Code, len(pe.Violations))
	for i, v := range pe.Violations {
		out[i] = v.Code
	}
	return out
}

func TestZeroPolicyDefaults(t *testing.T) {
	t.Parallel()
	var p password.Policy
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		pw   string
		want []password.Code
	}{
		{"7 chars", "xq7!vbn", []password.Code{password.CodeTooShort}},
		{"8 chars, no composition needed", "xqzvbnmk", nil},
		{"15 chars", "my cat is grey!", nil},
		{"64 chars accepted", strings.Repeat("ab3d", 16), nil},
		{"128 chars accepted", strings.Repeat("ab3d", 32), nil},
		{"129 chars rejected", strings.Repeat("ab3d", 32) + "e", []password.Code{password.CodeTooLong}},
		{"huge input bounded", strings.Repeat("a", 100000), []password.Code{password.CodeTooLong}},
		{"8 code points of Cyrillic", "пароль12", nil},
		{"emoji count once each", "🔐🔑🗝🔒🔓🔏🛡🪪", nil},
		{"spaces are characters", "        ", nil},
		{"invalid UTF-8", "abc\xffdefgh", []password.Code{password.CodeInvalidUTF8}},
		{"NFKC expansion does not pad the length", "\ufb01\ufb01\ufb01qz", []password.Code{password.CodeTooShort}}, // ﬁﬁﬁqz -> fififiqz: 5 typed
		{"NFKC-expanded ligatures, 8 typed", "\ufb01\ufb01\ufb01qzxyw", nil},
		{"NFKC: decomposed counts after composing", "cafe\u0301ab", []password.Code{password.CodeTooShort}},
		{"common", "password", []password.Code{password.CodeCommon}},
		{"common, case-insensitive", "PassWord", []password.Code{password.CodeCommon}},
		{"common, full-width", "ｐａｓｓｗｏｒｄ", []password.Code{password.CodeCommon}},
		{"common and short", "123456", []password.Code{password.CodeTooShort, password.CodeCommon}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, codes(p.Check(ctx, tc.pw)))
		})
	}
}

func TestLengthBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	err := password.Policy{MinLength: 4}.Check(ctx, "xqz7bnm")
	require.Equal(t, []password.Code{password.CodeTooShort}, codes(err), "minimum never below 8")
	var pe *password.PolicyError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, map[string]int{"min": 8, "actual": 7}, pe.Violations[0].Params)

	require.NoError(t, password.Policy{MaxLength: 10}.Check(ctx, strings.Repeat("xq7", 21)), "max never below 64")
	require.Equal(t, []password.Code{password.CodeTooLong}, codes(password.Policy{MaxLength: 10}.Check(ctx, strings.Repeat("x", 65))))
	require.Equal(t, []password.Code{password.CodeTooShort}, codes(password.Policy{MinLength: 15}.Check(ctx, "fourteen chars")))
}

func TestComposition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := password.PresetUpperDigitSpecial()
	for _, tc := range []struct {
		pw   string
		want []password.Code
	}{
		{"Zebra7!x", nil},
		{"Äpfel7!x", nil}, // non-ASCII upper-case counts
		{"zebra7!x", []password.Code{password.CodeMinUpper}},
		{"Zebraxx!", []password.Code{password.CodeMinDigit}},
		{"Zebra7xx", []password.Code{password.CodeMinSpecial}},
		{"Zebra 7x", nil}, // a space is special
		{"zebrazeb", []password.Code{password.CodeMinUpper, password.CodeMinDigit, password.CodeMinSpecial}},
		{"P@ssw0rd", []password.Code{password.CodeCommon}},
	} {
		require.Equal(t, tc.want, codes(p.Check(ctx, tc.pw)), tc.pw)
	}
	strict := password.Policy{MinLower: 3, MinUpper: 2}
	err := strict.Check(ctx, "AB12345!")
	var pe *password.PolicyError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, []password.Violation{{Code: password.CodeMinLower, Params: map[string]int{"min": 3, "actual": 0}}}, pe.Violations)
	require.Equal(t, "password: policy violated: min_lower(actual=0,min=3)", err.Error())
	require.True(t, pe.Has(password.CodeMinLower))
	require.False(t, pe.Has(password.CodeMinUpper))
}

func TestAllowCommon(t *testing.T) {
	t.Parallel()
	require.NoError(t, password.Policy{AllowCommon: true}.Check(context.Background(), "password"))
}

func TestContextWords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	p := password.Policy{ContextWords: []string{"Bulwark", "Acme Payroll"}}
	user := []string{"Alice Smith", "alice.smith+work@examplecorp.io"}
	for _, tc := range []struct {
		pw    string
		index int // -1: accepted
	}{
		{"bulwark-2024!!", 0},
		{"BULWARK rocks", 0},
		{"8ulw4rk-is-great", 0}, // leetspeak
		{"bulwrak-is-great", 0}, // transposition
		{"bulwarc-is-great", 0}, // substitution
		{"my acme account", 1},
		{"payroll-secret-99", 1},
		{"alicesmith99", 2},
		{"smith&wesson-x", 2},
		{"al1ce-in-wonderland", 2}, // "alice", with 1 for i
		{"examplecorp2024", 3},
		{"correct horse battery", -1},
		{"the aliens landed", -1},
	} {
		err := p.Check(ctx, tc.pw, user...)
		if tc.index < 0 {
			require.NoError(t, err, tc.pw)
			continue
		}
		var pe *password.PolicyError
		require.ErrorAs(t, err, &pe, tc.pw)
		require.Equal(t, []password.Violation{{Code: password.CodeContextWord, Params: map[string]int{"index": tc.index}}}, pe.Violations, tc.pw)
		require.NotContains(t, err.Error(), "bulwark")
		require.NotContains(t, err.Error(), "alice")
	}
	// Words under three characters are ignored.
	require.NoError(t, password.Policy{}.Check(ctx, "al-is-my-name", "Al"))
}

type fakeBreach struct {
	breached bool
	err      error
	got      []string
}

func (f *fakeBreach) Breached(_ context.Context, pw string) (bool, error) {
	f.got = append(f.got, pw)
	return f.breached, f.err
}

func TestBreachChecker(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	var events []password.Event
	hook := func(_ context.Context, e password.Event) {
		mu.Lock()
		defer mu.Unlock()
		events = append(events, e)
	}

	fb := &fakeBreach{breached: true}
	err := password.Policy{Breach: fb, Hook: hook}.Check(ctx, "ｆｕｌｌ width pw")
	require.Equal(t, []password.Code{password.CodeBreached}, codes(err))
	require.Equal(t, []string{"full width pw"}, fb.got, "checker sees the NFKC form")

	require.NoError(t, password.Policy{Breach: &fakeBreach{}}.Check(ctx, "fine password"))

	// Default: a failing checker does not block, but is reported.
	down := &fakeBreach{err: errors.New("dial tcp: connection refused")}
	require.NoError(t, password.Policy{Breach: down, Hook: hook}.Check(ctx, "fine password"))
	// Opt-in: fail closed.
	err = password.Policy{Breach: down, Hook: hook, BlockOnBreachCheckError: true}.Check(ctx, "fine password")
	require.Equal(t, []password.Code{password.CodeBreachUnknown}, codes(err))
	require.ErrorIs(t, err, password.ErrBreachCheck)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, events, 3)
	require.Equal(t, password.EventBreachedPassword, events[0].Type)
	require.Equal(t, password.EventBreachCheckFailed, events[1].Type)
	require.ErrorIs(t, events[1].Err, password.ErrBreachCheck)
	require.Equal(t, password.EventBreachCheckFailed, events[2].Type)
	for _, e := range events {
		require.False(t, e.Time.IsZero(), "events carry a time")
		require.Equal(t, time.UTC, e.Time.Location())
	}

	// The time comes from Policy.Now when set.
	at := time.Date(2026, 5, 1, 9, 0, 0, 0, time.FixedZone("X", 7200))
	var got password.Event
	_ = password.Policy{Breach: fb, Now: func() time.Time { return at }, Hook: func(_ context.Context, e password.Event) { got = e }}.Check(ctx, "another fine one")
	require.Equal(t, password.EventBreachedPassword, got.Type)
	require.Equal(t, at.UTC(), got.Time)
}

func TestPolicyErrorNeverContainsPassword(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"Sup3rS3cret", "zz", "hunter2hunter2" + strings.Repeat("!", 200)} {
		err := password.Policy{MinSpecial: 3, MinUpper: 4, MinLength: 20}.Check(context.Background(), pw, pw)
		require.Error(t, err)
		require.NotContains(t, err.Error(), pw)
	}
}

// TestNFKCComposesBeforeCounting: 64 Hangul syllables typed as 192
// conjoining jamo (576 bytes) are 64 characters, not 192.
func TestNFKCComposesBeforeCounting(t *testing.T) {
	t.Parallel()
	jamo := strings.Repeat("\u1100\u1161\u11a8", 64) // ㄱ+ㅏ+ㄱ = 각
	require.Equal(t, strings.Repeat("각", 64), password.Normalize(jamo))
	require.NoError(t, password.Policy{MaxLength: 64}.Check(context.Background(), jamo))
}

// TestNFKCExpansionDoesNotPadLength: compatibility characters that NFKC
// expands (U+FDFA becomes 18 code points) must not let a one- or
// two-character password pass the minimum length: the shorter of the
// typed and normalised counts is what the minimum sees.
func TestNFKCExpansionDoesNotPadLength(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, pw := range []string{"\ufdfa", "\ufdfa\ufdfa", "\ufb03\ufb03\ufb03"} { // ﷺ, ﷺﷺ, ﬃﬃﬃ
		err := password.Policy{}.Check(ctx, pw)
		require.Equal(t, []password.Code{password.CodeTooShort}, codes(err), "%q", pw)
		var pe *password.PolicyError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, utf8.RuneCountInString(pw), pe.Violations[0].Params["actual"])
	}
}
