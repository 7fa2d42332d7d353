package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// TestTOTPReplayEmitsEvent checks that a replayed TOTP code reaches the
// hook as an EventReplayed for the user and factor, and nothing secret.
func TestTOTPReplayEmitsEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		skew  int
		first int // steps relative to now of the accepted code
		again int // steps of the replayed code
	}{
		{"same code", 0, 0, 0},
		{"earlier step after a later one", 0, 0, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, e := enrolled(t, mfa.Config{TOTPSkew: c.skew})
			now := f.clock.Now()
			first := codeAt(t, e, now.Add(e.Period*time.Duration(c.first)))
			require.NoError(t, f.m.VerifyTOTP(ctx, "alice", first))
			again := codeAt(t, e, now.Add(e.Period*time.Duration(c.again)))
			require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", again), mfa.ErrReplay)
			ev := f.ev.last()
			require.Equal(t, mfa.EventReplayed, ev.Type)
			require.Equal(t, mfa.FactorTOTP, ev.Factor)
			require.Equal(t, "alice", ev.UserID)
			require.Equal(t, now, ev.Time)
			f.ev.requireNoSecret(t, first, again, e.Secret)
		})
	}
}

// TestReplayThatLocksIsReported: a replayed code that uses the last
// allowed attempt locks the factor like a wrong one, and says so (a
// *LockedError and an EventLocked), so the lock is not silent.
func TestReplayThatLocksIsReported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, e := enrolled(t, mfa.Config{MaxAttempts: 3})
	used := codeAt(t, e, f.clock.Now())
	require.NoError(t, f.m.VerifyTOTP(ctx, "alice", used))
	for range 2 {
		require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", wrongCode(used)), mfa.ErrInvalidCode)
	}
	err := f.m.VerifyTOTP(ctx, "alice", used)
	require.ErrorIs(t, err, mfa.ErrReplay)
	var le *mfa.LockedError
	require.ErrorAs(t, err, &le, "the replay locked the factor without saying so")
	require.Equal(t, f.clock.Now().Add(15*time.Minute), le.Until)
	require.Contains(t, f.ev.types(), mfa.EventLocked)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, f.clock.Now().Add(e.Period))), mfa.ErrLocked, "it is locked")
}
