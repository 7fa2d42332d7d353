package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

// The operations whose records must outlive a Redis restart, each run once
// against st. keep is the used-step window.
func persistentOps(st *redisstore.Store, keep time.Duration) map[string]func(ctx context.Context) error {
	now := time.Now()
	return map[string]func(ctx context.Context) error{
		"MarkStep": func(ctx context.Context) error {
			_, err := st.MFA().MarkStep(ctx, "u", now.Unix()/30, keep)
			return err
		},
		"AddCount": func(ctx context.Context) error {
			_, _, err := st.Counters().AddCount(ctx, "mfa:attempts:totp:u", 1, time.Minute, now)
			return err
		},
		"Counter": func(ctx context.Context) error {
			_, err := st.Auth().Counter(ctx, "k", now)
			return err
		},
		"AddFailure": func(ctx context.Context) error {
			_, err := st.Auth().AddFailure(ctx, "k", auth.FailureParams{Now: now, Keep: time.Hour, ResetAfter: time.Hour, PersistAt: 100})
			return err
		},
		"AddHits": func(ctx context.Context) error {
			_, err := st.Auth().AddHits(ctx, "ip", now, time.Minute, 1)
			return err
		},
		"Claim": func(ctx context.Context) error {
			return st.Auth().Claim(ctx, auth.Claim{Kind: "email", Key: "a@example.com", Owner: "u"})
		},
	}
}

// TestVolatileRedisRefused: on a Redis that keeps no AOF and takes no
// snapshots, every operation whose record must survive a restart fails
// with ErrVolatileRedis, unless the host opts out; with AOF or snapshots
// they run.
func TestVolatileRedisRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name      string
		args      []string
		allowVol  bool
		wantError bool
	}{
		{"volatile", []string{"--save", "", "--appendonly", "no"}, false, true},
		{"volatile, opted out", []string{"--save", "", "--appendonly", "no"}, true, false},
		{"aof", []string{"--save", "", "--appendonly", "yes"}, false, false},
		{"snapshots", []string{"--save", "3600 1", "--appendonly", "no"}, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startPrivateRedis(t, 0, tc.args...)
			c := srv.client()
			// A node younger than the keep window is refused for another
			// reason (ErrRedisRestarted); let it reach one second of uptime.
			waitFor(t, "a second of uptime", func() bool {
				info, err := c.Info(ctx, "server").Result()
				return err == nil && !containsLine(info, "uptime_in_seconds:0")
			})
			st := redisstore.New(c, "p:")
			st.AllowVolatileRedis = tc.allowVol
			for name, op := range persistentOps(st, time.Millisecond) {
				err := op(ctx)
				if tc.wantError {
					require.ErrorIs(t, err, redisstore.ErrVolatileRedis, name)
					require.NotContains(t, err.Error(), "a@example.com", name)
				} else {
					require.NoError(t, err, name)
				}
			}
		})
	}
}

// TestVolatileRedisNoticedAtRunTime: turning AOF off on a running Redis is
// noticed at the next check (here: by a new Store, which checks at its
// first use; a long-lived one re-checks every 30 seconds).
func TestVolatileRedisNoticedAtRunTime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startPrivateRedis(t, 0, "--save", "", "--appendonly", "yes")
	c := srv.client()
	take := func(st *redisstore.Store) error {
		_, _, err := st.MFA().AddCount(ctx, "mfa:attempts:totp:u", 1, time.Minute, time.Now())
		return err
	}
	// The same Store, whose verdict is cached: it must notice the change
	// once the cache is stale (30 s), not only a Store made afterwards.
	st := redisstore.New(c, "p:")
	require.NoError(t, take(st))
	require.NoError(t, c.ConfigSet(ctx, "appendonly", "no").Err()) // the private server only
	require.ErrorIs(t, take(redisstore.New(c, "p:")), redisstore.ErrVolatileRedis)
	var err error
	waitFor(t, "the cached verdict to be asked again", func() bool {
		err = take(st)
		return err != nil
	})
	require.ErrorIs(t, err, redisstore.ErrVolatileRedis)
}

func containsLine(info, line string) bool {
	for len(info) > 0 {
		i := 0
		for i < len(info) && info[i] != '\n' {
			i++
		}
		l := info[:i]
		if len(l) > 0 && l[len(l)-1] == '\r' {
			l = l[:len(l)-1]
		}
		if l == line {
			return true
		}
		if i == len(info) {
			break
		}
		info = info[i+1:]
	}
	return false
}

// TestTOTPReplayAfterVolatileRestart is the attack end to end: a
// Redis with --appendonly no and no snapshots is restarted after a TOTP
// code was used, and the same code is tried again. Before the fix, the
// code was accepted, the mark vanished with the restart, and the replay
// was accepted too. Now the store refuses to vouch for codes on such a
// Redis, so neither attempt succeeds.
func TestTOTPReplayAfterVolatileRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startPrivateRedis(t, 0, "--save", "", "--appendonly", "no")
	c := srv.client()
	durable := memstore.NewMFAStore()
	sealer := mfatest.NewSealer()
	now := time.Now()
	cfg := mfa.Config{Now: func() time.Time { return now }, MaxAttempts: 100}
	manager := func(st *redisstore.Store) *mfa.Manager {
		r := st.MFA()
		m, err := mfa.New(mfa.Stores{TOTPStore: durable, RecoveryStore: durable, EmailFactorStore: durable, StepStore: r, CounterStore: r, OOBStore: r}, sealer, cfg)
		require.NoError(t, err)
		return m
	}
	// Enrol with a store that opted out (the enrollment itself lives in
	// the durable store), then verify through one that did not.
	setup := manager(volatileOK(redisstore.New(c, "p:")))
	e, err := setup.EnrollTOTP(ctx, "alice", "alice")
	require.NoError(t, err)
	k, err := mfa.ParseKeyURI(e.URI)
	require.NoError(t, err)
	prev, err := mfatest.Code(k.Secret, k.Algorithm, k.Digits, k.Period, now.Add(-k.Period))
	require.NoError(t, err)
	require.NoError(t, setup.ConfirmTOTP(ctx, "alice", prev))
	code, err := mfatest.Code(k.Secret, k.Algorithm, k.Digits, k.Period, now)
	require.NoError(t, err)

	m := manager(redisstore.New(c, "p:"))
	accepted := 0
	for round := range 3 {
		if m.VerifyTOTP(ctx, "alice", code) == nil {
			accepted++
		}
		srv.restart(false)
		require.NoError(t, c.Ping(ctx).Err(), "round %d", round)
	}
	require.Zero(t, accepted, "a volatile Redis vouched for a used code")
}

// TestMarkStepAfterRestartRefused: a persistent Redis that restarts and
// comes back without the latest marks (a crash before the AOF was synced,
// a replacement node) cannot say a step was not used before. MarkStep is
// refused with ErrRedisRestarted until the node has been up for the whole
// keep window, after which the step's code is out of its validity window
// anyway.
func TestMarkStepAfterRestartRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := startPrivateRedis(t, 0, "--save", "", "--appendonly", "yes", "--appendfsync", "always")
	c := srv.client()
	st := redisstore.New(c, "p:").MFA()
	const keep = 2 * time.Second
	mark := func() (bool, error) { return st.MarkStep(ctx, "u", 7, keep) }

	// Fresh from its start, the node is younger than the window.
	_, err := mark()
	require.ErrorIs(t, err, redisstore.ErrRedisRestarted)
	require.NotErrorIs(t, err, redisstore.ErrVolatileRedis)
	var fresh bool
	waitFor(t, "the window since the start", func() bool {
		fresh, err = mark()
		return !errors.Is(err, redisstore.ErrRedisRestarted)
	})
	require.NoError(t, err)
	require.True(t, fresh)

	// Restart keeping the AOF, or losing the data: the replay right after
	// is refused either way (the store cannot tell the two apart).
	srv.restart(false)
	_, err = mark()
	require.ErrorIs(t, err, redisstore.ErrRedisRestarted, "a replay right after a restart")
	// Restart losing the data: the replay right after is refused.
	srv.restart(true)
	fresh, err = mark()
	require.ErrorIs(t, err, redisstore.ErrRedisRestarted)
	require.False(t, fresh)
}
