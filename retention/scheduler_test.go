package retention_test

import (
	"bytes"
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/retention/retentiontest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestSchedulerStartWithJitter(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: retention.StateDeletionRequested, Since: t0}))

	waits := make(chan time.Duration)
	fire := make(chan time.Time)
	s := newScheduler(t, m, retention.SchedulerConfig{
		Interval: time.Hour,
		Jitter:   10 * time.Minute,
		Rand:     bytes.NewReader(bytes.Repeat([]byte{0xff, 0, 1, 2, 3, 4, 5, 6}, 8)),
		After: func(d time.Duration) <-chan time.Time {
			waits <- d
			return fire
		},
	})
	done := make(chan error, 1)
	go func() { done <- s.Start(ctx) }()
	for range 3 {
		d := <-waits
		require.GreaterOrEqual(t, d, time.Hour)
		require.Less(t, d, time.Hour+10*time.Minute)
		c.Add(d)
		fire <- c.Now()
	}
	<-waits
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	r, err := st.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.False(t, r.Erased.IsZero(), "the first run erased the subject")
	runs := 0
	for _, e := range rec.events {
		if e.Type == retention.EventRun {
			runs++
			require.NotNil(t, e.Report)
		}
	}
	require.Equal(t, 3, runs)
}

type stuckLocker struct{}

func (stuckLocker) Acquire(context.Context, string, time.Duration) (retention.Lease, error) {
	return nil, retention.ErrLocked
}

func TestSchedulerLocked(t *testing.T) {
	t.Parallel()
	m, err := retention.New(memstore.NewRetentionStore(), retention.Config{})
	require.NoError(t, err)
	s := newScheduler(t, m, retention.SchedulerConfig{Locker: stuckLocker{}})
	_, err = s.RunOnce(context.Background())
	require.ErrorIs(t, err, retention.ErrLocked)

	l := retention.NewLocalLocker()
	a, err := l.Acquire(context.Background(), "j", 0)
	require.NoError(t, err)
	_, err = l.Acquire(context.Background(), "j", 0)
	require.ErrorIs(t, err, retention.ErrLocked)
	require.NoError(t, a.Release(context.Background()))
	require.NoError(t, a.Release(context.Background()))
	b, err := l.Acquire(context.Background(), "j", 0)
	require.NoError(t, err)
	require.Greater(t, b.Fence(), a.Fence())
	_, err = retention.NewScheduler(nil, retention.SchedulerConfig{})
	require.Error(t, err, "a nil Manager is an error, not a panic")
}

// A run stops when its context ends and reports the error with its
// figures so far.
func TestRunCancelled(t *testing.T) {
	t.Parallel()
	c := newClock(t0)
	m, st := newManager(t, c, newRecorder())
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))
	cancel()
	_, err := m.Run(ctx, 0)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

// A process that restarts gets a new LocalLocker. An erasure its previous
// life left half done carries that life's fencing token; the new locker's
// tokens must be higher, or the interrupted erasure is refused as fenced
// (and stays unfinished) for as many runs as the previous life made.
func TestLocalLockerFenceSurvivesRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: "active", Since: t0}))

	before := retention.NewLocalLocker()
	var last retention.Lease
	for range 5 {
		l, err := before.Acquire(ctx, retention.DefaultJob, 0)
		require.NoError(t, err)
		require.NoError(t, l.Release(ctx))
		last = l
	}
	// The previous life began an erasure under its last lease and died.
	e, err := st.BeginErasure(ctx, retention.Erasure{ID: "e1", Subject: "u", Rule: "request", Fence: last.Fence(), Started: t0})
	require.NoError(t, err)
	require.NoError(t, st.StepErasure(ctx, e.ID, last.Fence(), "sessions"))

	// A real restart takes far longer than a microsecond; the test's does
	// not, and a LocalLocker's tokens are at least the wall clock in
	// microseconds, while the loop above can run a few tokens ahead of it.
	// Wait until the clock has passed the last token, as any restart has.
	for time.Now().UnixMicro() <= last.Fence() {
		runtime.Gosched()
	}
	s := newScheduler(t, m, retention.SchedulerConfig{Locker: retention.NewLocalLocker()})
	rep, err := s.RunOnce(ctx)
	require.NoError(t, err)
	require.Zero(t, rep.Failed)
	require.Equal(t, 1, rep.Resumed)
	r, err := st.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.False(t, r.Erased.IsZero())
}

// TestSchedulerLostLockLocal: a run whose LocalLocker lease is released
// behind its back (as a lost lock is) runs no host code once the next
// holder has started.
func TestSchedulerLostLockLocal(t *testing.T) {
	t.Parallel()
	st := memstore.NewRetentionStore()
	l := retention.NewLocalLocker()
	retentiontest.LostLock(t, st, st, l, l, func(t *testing.T, lease retention.Lease) {
		if err := lease.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// leaseTap hands each lease its Locker grants to a function as well.
type leaseTap struct {
	retention.Locker
	got func(retention.Lease)
}

func (l leaseTap) Acquire(ctx context.Context, job string, ttl time.Duration) (retention.Lease, error) {
	lease, err := l.Locker.Acquire(ctx, job, ttl)
	if err == nil {
		l.got(lease)
	}
	return lease, err
}

// lossyPurger loses the run's lock during its first batch (another
// instance takes it over) and always reports a full batch, so the run
// would go on purging.
type lossyPurger struct {
	lose  func()
	calls int
}

func (p *lossyPurger) Erase(context.Context, string) error { return nil }

func (p *lossyPurger) Purge(_ context.Context, _ time.Time, limit int, _ retention.HoldCheck) (int, error) {
	p.calls++
	if p.calls == 1 {
		p.lose()
	}
	return limit, nil
}

// TestSchedulerLostLockStopsPurge: purging has no store write a stale
// token would be refused at, so only Lease.Check stops a run that lost its
// lock between two Purge batches.
func TestSchedulerLostLockStopsPurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := newRecorder()
	cfg := rec.config(newClock(t0))
	cfg.BatchSize = 10
	cfg.Policy.Categories = []retention.Category{{Name: "audit", Retain: 365 * day}}
	m, err := retention.New(memstore.NewRetentionStore(), cfg)
	require.NoError(t, err)
	l := retention.NewLocalLocker()
	var lease retention.Lease
	var next retention.Lease
	p := &lossyPurger{lose: func() {
		require.NoError(t, lease.Release(ctx))
		next, err = l.Acquire(ctx, "purge", time.Minute)
		require.NoError(t, err)
	}}
	m.Register("audit", p)
	s := newScheduler(t, m, retention.SchedulerConfig{Job: "purge", Locker: leaseTap{l, func(x retention.Lease) { lease = x }}})
	_, err = s.RunOnce(ctx)
	require.ErrorIs(t, err, retention.ErrLockLost)
	require.Equal(t, 1, p.calls, "no Purge batch after the lock was lost")
	require.NoError(t, next.Release(ctx))
}

// zeroLocker is a host's Locker whose counter starts at 0, a token that
// means "no lock" to the store.
type zeroLocker struct{ next int64 }

func (z *zeroLocker) Acquire(context.Context, string, time.Duration) (retention.Lease, error) {
	f := z.next
	z.next++
	return zeroLease(f), nil
}

type zeroLease int64

func (z zeroLease) Fence() int64                { return int64(z) }
func (zeroLease) Check(context.Context) error   { return nil }
func (zeroLease) Release(context.Context) error { return nil }

// TestSchedulerRefusesTokenZero: a run under a lease whose fencing token
// is 0 or less would write as a caller without a lock, which no store
// fence ever refuses, so a stale holder with it would never be stopped.
// RunOnce refuses it before any host code or write.
func TestSchedulerRefusesTokenZero(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newClock(t0)
	rec := newRecorder()
	m, st := newManager(t, c, rec)
	require.NoError(t, st.PutSubject(ctx, retention.Subject{ID: "u", State: retention.StateTrialExpired, Since: t0.Add(-20 * day)}))
	for _, f := range []int64{0, -1} {
		s := newScheduler(t, m, retention.SchedulerConfig{Job: "zero", Locker: &zeroLocker{next: f}})
		_, err := s.RunOnce(ctx)
		require.Error(t, err, "token %d", f)
	}
	r, err := st.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.Empty(t, r.Warned, "nothing was done under token 0")
	require.True(t, r.Erased.IsZero())
	// A positive token still runs.
	s := newScheduler(t, m, retention.SchedulerConfig{Job: "zero", Locker: &zeroLocker{next: 1}})
	_, err = s.RunOnce(ctx)
	require.NoError(t, err)
}
