package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// TestTOTPReplayEmitsEvent checks that a replayed TOTP code reaches the
// hook as an EventReplay for the user and factor, and nothing secret.
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
			require.Equal(t, mfa.EventReplay, ev.Type)
			require.Equal(t, mfa.FactorTOTP, ev.Factor)
			require.Equal(t, "alice", ev.UserID)
			require.Equal(t, now, ev.Time)
			f.ev.requireNoSecret(t, first, again, e.Secret)
		})
	}
}
