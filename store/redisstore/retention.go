package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/retention"
)

// retentionLocker is a [retention.Locker] on Redis: a lock key set with
// SET NX PX holding a random token, plus a fencing counter incremented in
// the same script, so every holder gets a token higher than all earlier
// ones. The retention store records the token on each erasure and, once
// the scheduler has recorded it ([retention.FenceStore]), refuses every
// write from a holder whose token is stale, so a holder that paused past
// its TTL cannot overwrite the work of the next one. Before each call into
// host code the scheduler checks the lease ([retention.Lease.Check]): the
// lock key must still hold the lease's random token and the counter its
// fence, or the run stops.
//
// The fencing counter never expires. Each token is at least the current
// time in microseconds, so that if Redis loses its data the new counter
// still starts above every token handed out before, and so that a job
// stays above the time-based tokens of the other locks and jobs that may
// have run on the same store meanwhile (the store keeps one fence for all
// its schedulers: a counter left behind them would be fenced out for good).
type retentionLocker struct {
	s *Store
}

var _ retention.Locker = (*retentionLocker)(nil)

// Retention returns the retention scheduler lock: a lock key set with a
// random token and a TTL, and a fencing counter that never expires, whose
// tokens are at least the current time in microseconds so that they keep
// rising even if Redis loses its data.
func (s *Store) Retention() retention.Locker { return &retentionLocker{s: s} }

var retentionAcquire = redis.NewScript(`
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 0
end
local f = redis.call('INCR', KEYS[2])
if f < tonumber(ARGV[3]) then
  redis.call('SET', KEYS[2], ARGV[3])
  f = redis.call('INCRBY', KEYS[2], 0)
end
return f
`)

var retentionRelease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// retentionCheck is true only while the lock still holds this lease's
// token and the fencing counter has not moved past its fence.
var retentionCheck = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('GET', KEYS[2]) == ARGV[2] then
  return 1
end
return 0
`)

// defaultRetentionLockTTL is used when Acquire is given no ttl: the
// retention Scheduler's own default LockTTL, so a lock of a holder that
// died frees itself well within the scheduler's hourly interval.
const defaultRetentionLockTTL = 15 * time.Minute

func (l *retentionLocker) keys(job string) []string {
	// One hash tag, so both keys live on one Cluster slot.
	tag := "{" + job + "}"
	return []string{l.s.key("retention", "lock", tag), l.s.key("retention", "fence", tag)}
}

// Acquire implements [retention.Locker]. The lock expires after ttl if the
// holder disappears (default 15 minutes, the retention Scheduler's
// default LockTTL).
func (l *retentionLocker) Acquire(ctx context.Context, job string, ttl time.Duration) (retention.Lease, error) {
	if ttl <= 0 {
		ttl = defaultRetentionLockTTL
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("redisstore: retention lock: %w", err)
	}
	token := hex.EncodeToString(b[:])
	keys := l.keys(job)
	fence, err := retentionAcquire.Run(ctx, l.s.client, keys, token, ttl.Milliseconds(), strconv.FormatInt(time.Now().UnixMicro(), 10)).Int64()
	if err != nil {
		return nil, fmt.Errorf("redisstore: retention lock: %w", err)
	}
	if fence == 0 {
		return nil, fmt.Errorf("%w: %s", retention.ErrLocked, job)
	}
	return &retentionLease{l: l, keys: keys, token: token, fence: fence}, nil
}

type retentionLease struct {
	l     *retentionLocker
	keys  []string // the lock, the fencing counter
	token string
	fence int64
	mu    sync.Mutex
	done  bool
}

func (x *retentionLease) Fence() int64 { return x.fence }

// Check implements [retention.Lease]: one script that reads the lock key
// and the fencing counter.
func (x *retentionLease) Check(ctx context.Context) error {
	ok, err := retentionCheck.Run(ctx, x.l.s.client, x.keys, x.token, strconv.FormatInt(x.fence, 10)).Int()
	if err != nil {
		return fmt.Errorf("%w: redisstore: retention lock check: %w", retention.ErrLockLost, err)
	}
	if ok != 1 {
		return fmt.Errorf("%w: the lock expired or another holder took it", retention.ErrLockLost)
	}
	return nil
}

// Release deletes the lock only if it still holds this lease's token.
func (x *retentionLease) Release(ctx context.Context) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.done {
		return nil
	}
	err := retentionRelease.Run(ctx, x.l.s.client, x.keys[:1], x.token).Err()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redisstore: retention unlock: %w", err)
	}
	x.done = true
	return nil
}
