package auth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

func TestLockoutWait(t *testing.T) {
	t.Parallel()
	var p auth.LockoutPolicy // zero: defaults
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{0, 0}, {4, 0}, {5, time.Minute}, {9, time.Minute}, {10, 2 * time.Minute},
		{74, 14 * time.Minute}, {75, 15 * time.Minute}, {99, 15 * time.Minute}, {1 << 40, 15 * time.Minute},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, p.Wait(tc.failures), "failures %d", tc.failures)
	}
}

func TestLockoutState(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	last := now.Add(-30 * time.Second)
	tests := []struct {
		name   string
		policy auth.LockoutPolicy
		c      auth.Counter
		want   auth.LockState
	}{
		{"none", auth.LockoutPolicy{}, auth.Counter{}, auth.LockState{}},
		{"below factor", auth.LockoutPolicy{}, auth.Counter{Failures: 4, Consecutive: 4, LastFailure: last}, auth.LockState{}},
		{"first wait", auth.LockoutPolicy{}, auth.Counter{Failures: 5, Consecutive: 5, LastFailure: last},
			auth.LockState{Locked: true, Until: last.Add(time.Minute)}},
		{"wait over", auth.LockoutPolicy{}, auth.Counter{Failures: 5, Consecutive: 5, LastFailure: now.Add(-time.Minute)}, auth.LockState{}},
		{"reset window passed", auth.LockoutPolicy{MaxWait: 24 * time.Hour, WaitIncrement: 24 * time.Hour},
			auth.Counter{Failures: 5, Consecutive: 5, LastFailure: now.Add(-13 * time.Hour)}, auth.LockState{}},
		{"hard limit", auth.LockoutPolicy{}, auth.Counter{Failures: 1, Consecutive: 100, LastFailure: now.Add(-1000 * time.Hour)},
			auth.LockState{Locked: true, Permanent: true}},
		{"hard limit above 100 is lowered", auth.LockoutPolicy{HardLimit: 1000}, auth.Counter{Consecutive: 100},
			auth.LockState{Locked: true, Permanent: true}},
		{"lower hard limit", auth.LockoutPolicy{HardLimit: 20}, auth.Counter{Consecutive: 20},
			auth.LockState{Locked: true, Permanent: true}},
		{"permanent at first block", auth.LockoutPolicy{PermanentLockout: true}, auth.Counter{Failures: 5, Consecutive: 5, LastFailure: last},
			auth.LockState{Locked: true, Permanent: true}},
		{"permanent after 2 temporary", auth.LockoutPolicy{PermanentLockout: true, MaxTemporaryLockouts: 2},
			auth.Counter{Failures: 10, Consecutive: 10, LastFailure: now.Add(-time.Hour)}, auth.LockState{}},
		{"permanent after 2 temporary reached", auth.LockoutPolicy{PermanentLockout: true, MaxTemporaryLockouts: 2},
			auth.Counter{Failures: 15, Consecutive: 15, LastFailure: now.Add(-time.Hour)}, auth.LockState{Locked: true, Permanent: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, tc.policy.State(tc.c, now))
		})
	}
}
