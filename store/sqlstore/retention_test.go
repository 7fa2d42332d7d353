package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/retention"
	"github.com/bulwarkhq/bulwark/retention/retentiontest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestRetentionStoreConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			retentiontest.Run(t, func(t *testing.T) retention.Store {
				db := be.Open(t)
				st, err := sqlstore.Open(context.Background(), db)
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Retention()
			})
		})
	}
}

func TestRetentionLockSQLiteUnsupported(t *testing.T) {
	t.Parallel()
	st := sqlstore.New(testenv.SQLite(t), sqlstore.SQLite)
	_, err := st.Retention().Acquire(context.Background(), "job", time.Minute)
	require.ErrorIs(t, err, sqlstore.ErrRetentionLockUnsupported)
}

func retentionPG(t *testing.T, dsn string) sqlstore.RetentionStore {
	t.Helper()
	st := sqlstore.New(testenv.OpenPostgres(t, dsn), sqlstore.Postgres)
	require.NoError(t, st.Migrate(context.Background()))
	return st.Retention()
}

func TestRetentionAdvisoryLock(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	a, b := retentionPG(t, dsn), retentionPG(t, dsn)
	ctx := context.Background()
	la, err := a.Acquire(ctx, "job", 0)
	require.NoError(t, err)
	// Seeded with the time, like redisstore's counter and LocalLocker's
	// tokens: a host that moves to this lock keeps the erasures its
	// previous lock left unfinished resumable.
	require.Greater(t, la.Fence(), time.Now().Add(-time.Hour).UnixMicro(), "the counter is seeded with the time")
	_, err = b.Acquire(ctx, "job", 0)
	require.ErrorIs(t, err, retention.ErrLocked)
	other, err := b.Acquire(ctx, "other-job", 0)
	require.NoError(t, err)
	require.NoError(t, other.Release(ctx))
	require.NoError(t, la.Release(ctx))
	require.NoError(t, la.Release(ctx)) // twice is fine
	lb, err := b.Acquire(ctx, "job", 0)
	require.NoError(t, err)
	require.Greater(t, lb.Fence(), la.Fence())
	require.NoError(t, lb.Release(ctx))
}

// TestRetentionThreeSchedulers runs three scheduler instances, each with
// its own pool, on one PostgreSQL schema, and checks that no two ever run
// the job at the same time, and that every due subject is erased once.
func TestRetentionThreeSchedulers(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	seed := retentionPG(t, dsn)
	now := time.Now().UTC()
	const subjects = 40
	for i := range subjects {
		require.NoError(t, seed.PutSubject(ctx, retention.Subject{ID: fmt.Sprintf("s%02d", i), State: retention.StateTrialExpired, Since: now.Add(-20 * 24 * time.Hour)}))
	}
	var running, maxRunning, runs, locked, inEraser atomic.Int64
	var mu sync.Mutex
	erased := map[string]int{}
	var wg sync.WaitGroup
	for range 3 {
		st := retentionPG(t, dsn)
		m, err := retention.New(st, retention.Config{
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), BatchSize: 5, MaxActions: 4,
		})
		require.NoError(t, err)
		m.Register("profile", retention.EraserFunc(func(_ context.Context, s string) error {
			if inEraser.Add(1) > 1 {
				t.Error("two instances erasing at once")
			}
			defer inEraser.Add(-1)
			mu.Lock()
			erased[s]++
			mu.Unlock()
			time.Sleep(time.Millisecond)
			return nil
		}))
		// The advisory lock, wrapped to count holders.
		sched, err := retention.NewScheduler(m, retention.SchedulerConfig{Job: "erase", Locker: countingLocker{st, &running, &maxRunning}})
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Until the work is done (bounded): many attempts find the
			// lock taken.
			for range 2000 {
				if live, err := st.ListSubjects(ctx, nil, "", 1); err != nil || len(live) == 0 {
					return
				}
				_, err := sched.RunOnce(ctx)
				switch {
				case err == nil:
					runs.Add(1)
				case errors.Is(err, retention.ErrLocked):
					locked.Add(1)
					time.Sleep(time.Millisecond)
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d runs, %d skipped on the lock", runs.Load(), locked.Load())
	require.Equal(t, int64(1), maxRunning.Load(), "two instances ran the job at once")
	require.Positive(t, runs.Load())
	pend, err := seed.PendingErasures(ctx, 100)
	require.NoError(t, err)
	require.Empty(t, pend)
	require.Len(t, erased, subjects)
	for s, n := range erased {
		require.Equal(t, 1, n, s)
	}
}

// countingLocker wraps the advisory lock and counts holders inside it.
type countingLocker struct {
	l            retention.Locker
	running, max *atomic.Int64
}

func (c countingLocker) Acquire(ctx context.Context, job string, ttl time.Duration) (retention.Lease, error) {
	lease, err := c.l.Acquire(ctx, job, ttl)
	if err != nil {
		return nil, err
	}
	n := c.running.Add(1)
	for {
		m := c.max.Load()
		if n <= m || c.max.CompareAndSwap(m, n) {
			break
		}
	}
	return countingLease{lease, c.running}, nil
}

type countingLease struct {
	retention.Lease
	running *atomic.Int64
}

func (c countingLease) Release(ctx context.Context) error {
	c.running.Add(-1)
	return c.Lease.Release(ctx)
}

// TestRetentionLockConnectionKilled kills the PostgreSQL backend that holds
// a running scheduler's advisory lock (as an idle timeout, a proxy, a
// failover or an administrator would): the server releases the lock and a
// second scheduler takes it, and the first must run no host code after
// the second has started.
func TestRetentionLockConnectionKilled(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	db := testenv.OpenPostgres(t, dsn)
	st := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, st.Migrate(context.Background()))
	sa, sb := st.Retention(), retentionPG(t, dsn)
	retentiontest.LostLock(t, sa, sb, sa, sb, func(t *testing.T, lease retention.Lease) {
		ctx := context.Background()
		pid, err := sqlstore.LeaseBackendPID(ctx, lease)
		require.NoError(t, err)
		var ok bool
		require.NoError(t, db.QueryRowContext(ctx, `SELECT pg_terminate_backend($1)`, pid).Scan(&ok))
		require.True(t, ok)
		require.Eventually(t, func() bool {
			var n int
			return db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&n) == nil && n == 0
		}, time.Minute, 10*time.Millisecond)
	})
}

// TestRetentionFenceWaitsForAdvance: a stale holder's write that starts
// while a new holder's AdvanceFence is uncommitted waits for it and is
// then refused; it neither lands after the new holder starts nor reads
// the old token from its snapshot.
func TestRetentionFenceWaitsForAdvance(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.Postgres(t)
	st := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, st.Migrate(ctx))
	rs := st.Retention()
	require.NoError(t, rs.PutSubject(ctx, retention.Subject{ID: "u", State: "free", Since: time.Unix(1, 0)}))
	require.NoError(t, rs.AdvanceFence(ctx, 10))
	r, err := rs.GetSubject(ctx, "u")
	require.NoError(t, err)

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, `UPDATE bulwark_retention_fence SET fence = 100 WHERE one = 1`)
	require.NoError(t, err)

	done := make(chan error, 1)
	go func() {
		done <- rs.MarkAction(ctx, "u", r.Version, retention.Mark{Action: retention.Suspend, At: time.Unix(2, 0), Fence: 50})
	}()
	var txPID int
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&txPID))
	// The write waits on the fence row's lock (or has wrongly returned).
	var early error
	returned := false
	require.Eventually(t, func() bool {
		select {
		case early = <-done:
			returned = true
			return true
		default:
		}
		var n int
		err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, txPID).Scan(&n)
		return err == nil && n > 0
	}, time.Minute, 10*time.Millisecond)
	if returned {
		t.Fatalf("MarkAction did not wait for the uncommitted AdvanceFence: %v", early)
	}
	require.NoError(t, tx.Commit())
	require.ErrorIs(t, <-done, retention.ErrFenced)
	r, err = rs.GetSubject(ctx, "u")
	require.NoError(t, err)
	require.True(t, r.Suspended.IsZero(), "the stale write landed")
}

// TestRetentionLostLockSQLite: SQLite has no shared lock, so a process
// runs its schedulers under a LocalLocker; one whose lease is released
// behind its back (as a lost lock is) runs no host code once the next
// holder has started, with the fence kept in the database file.
func TestRetentionLostLockSQLite(t *testing.T) {
	t.Parallel()
	path := testenv.SQLitePath(t)
	open := func() sqlstore.RetentionStore {
		st := sqlstore.New(testenv.OpenSQLite(t, path), sqlstore.SQLite)
		require.NoError(t, st.Migrate(context.Background()))
		return st.Retention()
	}
	l := retention.NewLocalLocker()
	retentiontest.LostLock(t, open(), open(), l, l, func(t *testing.T, lease retention.Lease) {
		require.NoError(t, lease.Release(context.Background()))
	})
}
