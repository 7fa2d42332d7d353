package retention

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// SchedulerConfig configures a [Scheduler]. The zero value is valid and
// means the defaults documented on each field.
type SchedulerConfig struct {
	// Job names the lock; instances with the same Job never run at the same
	// time. Default "retention". The store keeps one fencing token for all
	// its schedulers ([FenceStore]), so runs of two Jobs on one store do
	// not overlap either: the later one stops the earlier ([ErrLockLost]).
	Job string
	// Interval is the time between runs; default 1 hour, so an action is
	// taken at most an hour after it falls due (a suspension promised
	// "after 14 days" lands within 14 days and an hour).
	Interval time.Duration
	// Jitter is the most added to each wait, chosen at random, so that
	// instances started together do not all wake at once. Default
	// Interval/10; negative means none.
	Jitter time.Duration
	// Locker provides the single-runner lock. Default: a [LocalLocker],
	// which only excludes runs within this process; with several instances
	// use sqlstore's (PostgreSQL advisory lock) or redisstore's (Redis lock
	// with fencing token).
	Locker Locker
	// LockTTL bounds one run: the run's context ends after 90% of it, and
	// a Redis lock expires after it if the instance dies. Default 15
	// minutes: long enough for a run of the default MaxActions, short
	// enough that a dead instance's lock frees itself well within the
	// default Interval.
	LockTTL time.Duration
	// Rand is the source of jitter; default crypto/rand.Reader.
	Rand io.Reader
	// After waits; default time.After. Tests inject a simulated clock.
	After func(time.Duration) <-chan time.Time
	// Logger logs skipped runs and errors; default slog.Default().
	Logger *slog.Logger
}

// Defaults of [SchedulerConfig]; each field's doc gives the reason.
const (
	defaultInterval = time.Hour
	defaultLockTTL  = 15 * time.Minute
	defaultJob      = "retention"
)

// Scheduler runs a [Manager] periodically, with jitter, under a
// single-runner lock. It is safe for concurrent use.
type Scheduler struct {
	m   *Manager
	cfg SchedulerConfig
}

// NewScheduler returns a Scheduler for m. A zero cfg means every default
// documented on [SchedulerConfig]. It returns an error if m is nil.
func NewScheduler(m *Manager, cfg SchedulerConfig) (*Scheduler, error) {
	if m == nil {
		return nil, errors.New("retention: NewScheduler with a nil Manager")
	}
	if cfg.Job == "" {
		cfg.Job = defaultJob
	}
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = cfg.Interval / 10
	}
	if cfg.Locker == nil {
		cfg.Locker = NewLocalLocker()
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = defaultLockTTL
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.After == nil {
		cfg.After = time.After
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Scheduler{m: m, cfg: cfg}, nil
}

// RunOnce takes the lock and does one [Manager.Run] with the lease's
// fencing token, bounded by LockTTL. It returns [ErrLocked] at once if
// another instance holds the lock.
//
// A lock can be lost without its holder being told: a PostgreSQL advisory
// lock dies with its connection (idle timeout, proxy, failover, an
// administrator), a Redis lock with its TTL. So RunOnce first records the
// lease's token in the store ([FenceStore.AdvanceFence]), which from then
// on refuses every write of an older holder, and the run proves it still
// holds the lock ([Lease.Check]) before each call into host code
// (Notifier, Actor, Shredder, Eraser, Recorder, Purger). A run that lost
// its lock stops before its next such call and returns [ErrLockLost]; a
// host call already under way when the lock is lost runs to its end,
// which is one reason they must be idempotent.
func (s *Scheduler) RunOnce(ctx context.Context) (Report, error) {
	lease, err := s.cfg.Locker.Acquire(ctx, s.cfg.Job, s.cfg.LockTTL)
	if err != nil {
		return Report{}, err
	}
	defer func() { _ = lease.Release(context.WithoutCancel(ctx)) }()
	if lease.Fence() <= 0 {
		// A token of 0 is a caller without a lock to the store, which
		// never fences it out: fail closed rather than run unfenced.
		return Report{}, fmt.Errorf("retention: run: %w: the lock's fencing token %d is not positive", ErrFenced, lease.Fence())
	}
	if err := s.m.store.AdvanceFence(ctx, lease.Fence()); err != nil {
		if errors.Is(err, ErrFenced) {
			return Report{}, fmt.Errorf("retention: run: %w: %w", ErrLockLost, err)
		}
		return Report{}, fmt.Errorf("retention: run: %w", err)
	}
	// End the run a little before a lock with a TTL could expire.
	rctx, cancel := context.WithTimeout(ctx, s.cfg.LockTTL-s.cfg.LockTTL/10)
	defer cancel()
	return s.m.Run(context.WithValue(rctx, leaseKey{}, lease), lease.Fence())
}

// Start runs until ctx ends: it waits Interval plus jitter, runs, and
// repeats. It returns ctx's error.
func (s *Scheduler) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.cfg.After(s.cfg.Interval + s.jitter()):
		}
		_, err := s.RunOnce(ctx)
		switch {
		case err == nil:
		case errors.Is(err, ErrLocked):
			s.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "retention run skipped: another instance holds the lock", slog.String("job", s.cfg.Job))
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			s.cfg.Logger.LogAttrs(ctx, slog.LevelError, "retention run failed", slog.String("job", s.cfg.Job), slog.String("error", err.Error()))
		}
	}
}

func (s *Scheduler) jitter() time.Duration {
	if s.cfg.Jitter <= 0 {
		return 0
	}
	var b [8]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return s.cfg.Jitter / 2
	}
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(s.cfg.Jitter))
}

// LocalLocker is a [Locker] for a single process: it excludes concurrent
// runs within the process only. Its fencing tokens are not persisted, so
// each is at least the wall-clock time in microseconds: after a restart
// they stay above the tokens of the process's previous life, which are
// stored on any erasure it left unfinished, so that erasure resumes. The
// same holds for the token the [Scheduler] records in the store
// ([FenceStore.AdvanceFence]): if the wall clock is set back past the time
// of the last run, runs are refused ([ErrLockLost]) until it catches up.
type LocalLocker struct {
	mu    sync.Mutex
	held  map[string]int64 // job -> fence of its holder
	fence int64
}

// NewLocalLocker returns an in-process Locker.
func NewLocalLocker() *LocalLocker { return &LocalLocker{held: map[string]int64{}} }

// Acquire implements [Locker].
func (l *LocalLocker) Acquire(_ context.Context, job string, _ time.Duration) (Lease, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.held[job]; ok {
		return nil, fmt.Errorf("%w: %s", ErrLocked, job)
	}
	l.fence = max(l.fence+1, time.Now().UnixMicro())
	l.held[job] = l.fence
	return &localLease{l: l, job: job, fence: l.fence}, nil
}

type localLease struct {
	l     *LocalLocker
	job   string
	fence int64
	once  sync.Once
}

func (x *localLease) Fence() int64 { return x.fence }

// Check reports [ErrLockLost] once the lease is released.
func (x *localLease) Check(context.Context) error {
	x.l.mu.Lock()
	defer x.l.mu.Unlock()
	if f, ok := x.l.held[x.job]; !ok || f != x.fence {
		return fmt.Errorf("%w: %s", ErrLockLost, x.job)
	}
	return nil
}

func (x *localLease) Release(context.Context) error {
	x.once.Do(func() {
		x.l.mu.Lock()
		if x.l.held[x.job] == x.fence {
			delete(x.l.held, x.job)
		}
		x.l.mu.Unlock()
	})
	return nil
}
