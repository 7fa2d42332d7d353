package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// TestTOTPWindowSettings: how long a code is accepted under the default
// window (one step either side, about 90 s) and the strict one (its own
// 30 s step only, ASVS 6.5.5 read literally). Each case uses a fresh
// factor, since an accepted step is used up.
func TestTOTPWindowSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		skew   int
		offset time.Duration // when the code was made, relative to now
		ok     bool
	}{
		{"default: current", 0, 0, true},
		{"default: previous step", 0, -30 * time.Second, true},
		{"default: next step", 0, 30 * time.Second, true},
		{"default: two steps back", 0, -60 * time.Second, false},
		{"default: two steps ahead", 0, 60 * time.Second, false},
		{"strict: current", -1, 0, true},
		{"strict: previous step", -1, -30 * time.Second, false},
		{"strict: next step", -1, 30 * time.Second, false},
		{"explicit 1 is the default", 1, -30 * time.Second, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, e := enrolled(t, mfa.Config{TOTPSkew: c.skew})
			err := f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, f.clock.Now().Add(c.offset)))
			if c.ok {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, mfa.ErrInvalidCode)
			}
		})
	}
}

// TestTOTPStrictLifetime: under the strict window a code made at the start
// of its step is accepted for exactly that step's 30 seconds.
func TestTOTPStrictLifetime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, e := enrolled(t, mfa.Config{TOTPSkew: -1, MaxAttempts: 1000})
	start := f.clock.Now().Truncate(30 * time.Second).Add(30 * time.Second)
	code := codeAt(t, e, start)
	f.clock.Add(start.Sub(f.clock.Now()) - 45*time.Second)
	accepted := 0
	for range 120 { // from 45 s before the step to 75 s after its start
		if f.m.VerifyTOTP(ctx, "alice", code) == nil {
			accepted++
			break // used up; the remaining seconds would be replays
		}
		f.clock.Add(time.Second)
	}
	require.Equal(t, 1, accepted)
	require.Equal(t, start, f.clock.Now(), "first accepted at the start of its step, not before")
	// A step's last second still accepts (the code is used up, so a
	// replay answers), and the next second does not.
	f.clock.Add(29 * time.Second)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", code), mfa.ErrReplay)
	f.clock.Add(time.Second)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", code), mfa.ErrInvalidCode)
}
