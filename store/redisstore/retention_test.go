package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/retention/retentiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func TestRetentionLock(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	a := redisstore.New(c, prefix).Retention()
	b := redisstore.New(c, prefix).Retention()
	ctx := context.Background()
	la, err := a.Acquire(ctx, "job", time.Minute)
	require.NoError(t, err)
	require.Greater(t, la.Fence(), time.Now().Add(-time.Hour).UnixMicro(), "the counter is seeded with the time")
	_, err = b.Acquire(ctx, "job", time.Minute)
	require.ErrorIs(t, err, retention.ErrLocked)
	lo, err := b.Acquire(ctx, "other", time.Minute)
	require.NoError(t, err)
	require.NoError(t, lo.Release(ctx))
	require.NoError(t, la.Release(ctx))
	require.NoError(t, la.Release(ctx))
	lb, err := b.Acquire(ctx, "job", 0)
	require.NoError(t, err)
	require.Greater(t, lb.Fence(), la.Fence())
	require.NoError(t, lb.Release(ctx))

	// A lease that outlived its TTL cannot release its successor's lock,
	// and the successor's token is higher.
	lc, err := a.Acquire(ctx, "ttl", 20*time.Millisecond)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		ld, err := b.Acquire(ctx, "ttl", time.Minute)
		if err != nil {
			return false
		}
		require.Greater(t, ld.Fence(), lc.Fence())
		require.NoError(t, lc.Release(ctx)) // stale: must not free ld's lock
		_, err = a.Acquire(ctx, "ttl", time.Minute)
		require.ErrorIs(t, err, retention.ErrLocked)
		require.NoError(t, ld.Release(ctx))
		return true
	}, 5*time.Second, 10*time.Millisecond)
}

// TestRetentionThreeSchedulersRedis: three instances sharing a Redis lock
// never run the job at once, and a stale lease's writes are refused by the
// store through its fencing token.
func TestRetentionThreeSchedulersRedis(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	st := memstore.NewRetentionStore()
	for i := range 30 {
		require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: fmt.Sprintf("s%02d", i), State: retention.StateDeletionRequested, Since: time.Now()}))
	}
	var in, overlaps atomic.Int64
	var mu sync.Mutex
	erased := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		m, err := retention.New(st, retention.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxActions: 3})
		require.NoError(t, err)
		m.Register("profile", retention.EraserFunc(func(context.Context, string) error { return nil }))
		m.Register("check", retention.EraserFunc(func(_ context.Context, s string) error {
			if in.Add(1) > 1 {
				overlaps.Add(1)
			}
			defer in.Add(-1)
			mu.Lock()
			erased[s]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return nil
		}))
		sched, err := retention.NewScheduler(m, retention.SchedulerConfig{Locker: redisstore.New(c, prefix).Retention()})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Until the work is done (bounded): most attempts find the
			// lock taken.
			for range 5000 {
				if _, err := sched.RunOnce(ctx); err != nil && !errors.Is(err, retention.ErrLocked) {
					t.Error(err)
					return
				}
				if live, err := st.ListSubjects(ctx, nil, "", 1); err != nil || len(live) == 0 {
					return
				}
				time.Sleep(100 * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	require.Zero(t, overlaps.Load())
	require.Len(t, erased, 30)
	for s, n := range erased {
		require.Equal(t, 1, n, s)
	}

	// A stale lease: its erasure steps are refused once a newer holder
	// has touched the erasure.
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "late", State: "active"}))
	l := redisstore.New(c, prefix).Retention()
	old, err := l.Acquire(ctx, "fence", 10*time.Millisecond)
	require.NoError(t, err)
	e, err := st.BeginErasure(ctx, retention.Erasure{ID: "e-late", Subject: "late", Rule: "r", Fence: old.Fence()})
	require.NoError(t, err)
	time.Sleep(30 * time.Millisecond)
	newer, err := l.Acquire(ctx, "fence", time.Minute)
	require.NoError(t, err)
	_, err = st.BeginErasure(ctx, retention.Erasure{ID: "e2", Subject: "late", Rule: "r", Fence: newer.Fence()})
	require.NoError(t, err)
	require.ErrorIs(t, st.StepErasure(ctx, e.ID, old.Fence(), "profile"), retention.ErrFenced)
	require.NoError(t, st.StepErasure(ctx, e.ID, newer.Fence(), "profile"))
	require.NoError(t, newer.Release(ctx))
}

// TestRetentionLockLostKey loses a running scheduler's Redis lock (as a
// failover to a replica that never received it would): a second scheduler
// takes it, and the first must run no host code after the second has
// started.
func TestRetentionLockLostKey(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	s := redisstore.New(c, prefix)
	mem := memstore.NewRetentionStore()
	retentiontest.LostLock(t, mem, mem, s.Retention(), redisstore.New(c, prefix).Retention(), func(t *testing.T, _ retention.Lease) {
		require.NoError(t, c.Del(context.Background(), redisstore.KeyOf(s, "retention", "lock", "{lost}")).Err())
	})
}

// TestRetentionRedisAfterTimeTokens: the store keeps one fence for all its
// schedulers, and LocalLocker, sqlstore's lock and a newly seeded Redis
// counter all hand out tokens of about the current time in microseconds.
// A Redis job whose counter was seeded earlier must still run after one
// of them has run on the store (a fallback to LocalLocker while Redis was
// down, another job, a job renamed and back), not be fenced out for good.
func TestRetentionRedisAfterTimeTokens(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		other func() retention.Locker
		job   string
	}{
		{"LocalLocker in between", func() retention.Locker { return retention.NewLocalLocker() }, "a"},
		{"another Redis job in between", func() retention.Locker { return redisstore.New(c, prefix).Retention() }, "b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := memstore.NewRetentionStore()
			m, err := retention.New(st, retention.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			require.NoError(t, err)
			job := "time-" + strings.ReplaceAll(tc.name, " ", "-")
			redisJob, err := retention.NewScheduler(m, retention.SchedulerConfig{Job: job, Locker: redisstore.New(c, prefix).Retention()})
			require.NoError(t, err)
			_, err = redisJob.RunOnce(ctx)
			require.NoError(t, err)
			other, err := retention.NewScheduler(m, retention.SchedulerConfig{Job: job + "-" + tc.job, Locker: tc.other()})
			require.NoError(t, err)
			_, err = other.RunOnce(ctx)
			require.NoError(t, err)
			_, err = redisJob.RunOnce(ctx)
			require.NoError(t, err, "the Redis job is fenced out for good")
		})
	}
}
