package mfa_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

func TestRecoveryCodes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	codes, err := f.m.GenerateRecoveryCodes(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, codes, 10)
	uniq := map[string]bool{}
	for _, c := range codes {
		require.Regexp(t, `^[0-9a-hjkmnp-tv-z]{5}(-[0-9a-hjkmnp-tv-z]{5}){4}$`, c)
		uniq[c] = true
	}
	require.Len(t, uniq, 10)
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 10, st.RecoveryCodes)

	n, err := f.m.UseRecoveryCode(ctx, "alice", codes[0])
	require.NoError(t, err)
	require.Equal(t, 9, n)
	_, err = f.m.UseRecoveryCode(ctx, "alice", codes[0])
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
	// Case and dashes are the user's choice; nothing else is.
	n, err = f.m.UseRecoveryCode(ctx, "alice", " "+strings.ToUpper(codes[1])+" ")
	require.NoError(t, err)
	require.Equal(t, 8, n)
	n, err = f.m.UseRecoveryCode(ctx, "alice", strings.ReplaceAll(codes[2], "-", ""))
	require.NoError(t, err)
	require.Equal(t, 7, n)
	_, err = f.m.UseRecoveryCode(ctx, "bob", codes[3])
	require.ErrorIs(t, err, mfa.ErrInvalidCode)

	// Regenerating invalidates the old set.
	fresh, err := f.m.GenerateRecoveryCodes(ctx, "alice")
	require.NoError(t, err)
	_, err = f.m.UseRecoveryCode(ctx, "alice", codes[3])
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
	n, err = f.m.UseRecoveryCode(ctx, "alice", fresh[9])
	require.NoError(t, err)
	require.Equal(t, 9, n)
	require.Equal(t, 9, f.ev.last().Remaining)

	require.NoError(t, f.m.Remove(ctx, "alice", mfa.FactorRecovery))
	_, err = f.m.UseRecoveryCode(ctx, "alice", fresh[0])
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
	f.ev.requireNoSecret(t, append(codes, fresh...)...)
}

// authboss #351 accepted any string as a recovery code.
func TestRecoveryCodeMalformed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	codes, err := f.m.GenerateRecoveryCodes(ctx, "alice")
	require.NoError(t, err)
	c := codes[0]
	for _, in := range []string{
		"", " ", "-", "anything", "0", strings.Repeat("0", 25) + "0", c[:28], c + "0", c + "-",
		strings.ReplaceAll(c, "-", " "), strings.ReplaceAll(c, "-", "_"), c[:5] + c[6:] + "-",
		"-" + c[:28], "iiiii-lllll-ooooo-uuuuu-00000", c[:5] + "--" + c[6:28], c[:24] + "\x00",
		"\t" + c, strings.Replace(c, c[:1], "é", 1),
	} {
		_, err := f.m.UseRecoveryCode(ctx, "alice", in)
		require.ErrorIs(t, err, mfa.ErrInvalidCode, "%q", in)
	}
	require.Equal(t, "malformed", f.ev.last().Reason)
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.Equal(t, 10, st.RecoveryCodes)
}

func TestRecoveryCodeConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	codes, err := f.m.GenerateRecoveryCodes(ctx, "alice")
	require.NoError(t, err)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.m.UseRecoveryCode(ctx, "alice", codes[4]); err == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
}
