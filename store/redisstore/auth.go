package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/auth"
)

var _ auth.CounterStore = (*authStore)(nil)

// authStore is the Redis [auth.Store]: brute-force counters and per-IP
// rate windows, shared by every app instance using the same Redis.
// Each update is one Lua script, so concurrent increments never get lost.
// Keys are <prefix>auth:c:<key> (a hash: failures, consecutive, last
// failure, expiry) and <prefix>auth:w:<key> (hits, window end), each with a
// TTL a little beyond its expiry so Redis forgets them by itself; a
// permanent lock has no TTL. Times are stored as decimal microseconds and
// judged against the caller's clock, never Redis's.
//
// It also holds claims (SET NX, no expiry), reset tokens and pending-MFA
// states (hashes keyed by the SHA-256 of the token, with TTLs; consuming
// and attempting are Lua scripts), so it is a whole [auth.Store]; a host
// may still keep claims in SQL next to its users table and combine the
// stores with [auth.SplitStore].
type authStore struct {
	s *Store
}

// Auth returns the whole [auth.Store] on Redis, sharing s's client and
// prefix: brute-force counters and per-IP rate windows (one Lua script per
// update, so concurrent increments are never lost), claims, reset tokens
// and pending-MFA states (keyed by the SHA-256 of the token, with TTLs).
// Keys start with <prefix>auth:. A host may keep claims in SQL next to its
// users table and combine the stores with [auth.SplitStore]. Counters,
// locks and claims need persistence ([ErrVolatileRedis]).
func (s *Store) Auth() auth.Store { return &authStore{s: s} }

// authGrace is added to Redis TTLs so that a key never vanishes before the
// caller's clock says it expired.
const authGrace = time.Minute

// Lua's number-to-string conversion keeps 14 digits, fewer than a
// microsecond timestamp has, so every time written back comes from ARGV
// as a string; comparisons and small counts are exact in doubles.
var authAddFailure = redis.NewScript(`
local now = tonumber(ARGV[1])
local reset = tonumber(ARGV[3])
local persist = tonumber(ARGV[4])
local v = redis.call('HMGET', KEYS[1], 'f', 'c', 'l', 'e')
local f = tonumber(v[1]) or 0
local c = tonumber(v[2]) or 0
local l = tonumber(v[3]) or 0
local e = tonumber(v[4]) or 0
if e ~= 0 and e <= now then f = 0; c = 0; l = 0 end
if l ~= 0 and now - l > reset then f = 0 end
f = f + 1
c = c + 1
if persist > 0 and c >= persist then
  redis.call('HSET', KEYS[1], 'f', f, 'c', c, 'l', ARGV[1], 'e', '0')
  redis.call('PERSIST', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'f', f, 'c', c, 'l', ARGV[1], 'e', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return {f, c}
`)

// authAdjust takes one failure back (ARGV[2] = "undo") or rewrites the
// record as it is ("touch"), and returns failures, consecutive and the last
// failure's time; a missing or expired record gives zeros.
var authAdjust = redis.NewScript(`
local now = tonumber(ARGV[1])
local v = redis.call('HMGET', KEYS[1], 'f', 'c', 'l', 'e')
if not v[1] then return {0, 0, '0'} end
local e = tonumber(v[4]) or 0
if e ~= 0 and e <= now then return {0, 0, '0'} end
local f = tonumber(v[1]) or 0
local c = tonumber(v[2]) or 0
if ARGV[2] == 'undo' then
  if f > 0 then f = f - 1 end
  if c > 0 then c = c - 1 end
end
redis.call('HSET', KEYS[1], 'f', f, 'c', c)
return {f, c, v[3]}
`)

var authAddHits = redis.NewScript(`
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local cnt = tonumber(v[1]) or 0
local e = tonumber(v[2]) or 0
local fresh = e <= now
if fresh then cnt = 0 end
if n > 0 then
  cnt = cnt + n
  if fresh then
    redis.call('HSET', KEYS[1], 'n', cnt, 'e', ARGV[3])
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
  else
    redis.call('HSET', KEYS[1], 'n', cnt)
  end
end
return cnt
`)

func authErr(op string, err error) error { return fmt.Errorf("redisstore: auth: %s: %w", op, err) }

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

func (a *authStore) counterKey(key string) string { return a.s.key("auth", "c", key) }

// Counter implements [auth.CounterStore]. Counter, AddFailure, AddHits
// and Claim fail with [ErrVolatileRedis] on a Redis that does not persist
// (see the package doc): a restart would lift every lock and free every
// claim.
func (a *authStore) Counter(ctx context.Context, key string, now time.Time) (auth.Counter, error) {
	if err := a.s.persistent(ctx); err != nil {
		return auth.Counter{}, authErr("counter", err)
	}
	v, err := a.s.client.HMGet(ctx, a.counterKey(key), "f", "c", "l", "e").Result()
	if err != nil {
		return auth.Counter{}, authErr("counter", err)
	}
	if v[0] == nil {
		return auth.Counter{}, nil
	}
	var n [4]int64
	for i := range n {
		str, _ := v[i].(string)
		if n[i], err = strconv.ParseInt(str, 10, 64); err != nil {
			return auth.Counter{}, authErr("counter", errors.New("malformed record"))
		}
	}
	if n[3] != 0 && n[3] <= now.UnixMicro() {
		return auth.Counter{}, nil
	}
	return auth.Counter{Failures: int(n[0]), Consecutive: int(n[1]), LastFailure: time.UnixMicro(n[2]).UTC()}, nil
}

// AddFailure implements [auth.CounterStore].
func (a *authStore) AddFailure(ctx context.Context, key string, p auth.FailureParams) (auth.Counter, error) {
	if err := a.s.persistent(ctx); err != nil {
		return auth.Counter{}, authErr("add failure", err)
	}
	now := p.Now.Truncate(time.Microsecond)
	if p.Op == auth.FailureUndo || p.Op == auth.FailureTouch {
		return a.adjust(ctx, key, now, p.Op)
	}
	res, err := authAddFailure.Run(ctx, a.s.client, []string{a.counterKey(key)},
		micros(now), micros(now.Add(p.Keep)), p.ResetAfter.Microseconds(), p.PersistAt,
		(p.Keep + authGrace).Milliseconds()).Int64Slice()
	if err != nil {
		return auth.Counter{}, authErr("add failure", err)
	}
	if len(res) != 2 {
		return auth.Counter{}, authErr("add failure", errors.New("malformed reply"))
	}
	return auth.Counter{Failures: int(res[0]), Consecutive: int(res[1]), LastFailure: now.UTC()}, nil
}

func (a *authStore) adjust(ctx context.Context, key string, now time.Time, op auth.FailureOp) (auth.Counter, error) {
	arg := "touch"
	if op == auth.FailureUndo {
		arg = "undo"
	}
	res, err := authAdjust.Run(ctx, a.s.client, []string{a.counterKey(key)}, micros(now), arg).Slice()
	if err != nil {
		return auth.Counter{}, authErr("add failure", err)
	}
	if len(res) != 3 {
		return auth.Counter{}, authErr("add failure", errors.New("malformed reply"))
	}
	f, ok1 := res[0].(int64)
	c, ok2 := res[1].(int64)
	ls, ok3 := res[2].(string)
	l, perr := strconv.ParseInt(ls, 10, 64)
	if !ok1 || !ok2 || !ok3 || perr != nil {
		return auth.Counter{}, authErr("add failure", errors.New("malformed reply"))
	}
	out := auth.Counter{Failures: int(f), Consecutive: int(c)}
	if l != 0 {
		out.LastFailure = time.UnixMicro(l).UTC()
	}
	return out, nil
}

// ResetCounter implements [auth.CounterStore].
func (a *authStore) ResetCounter(ctx context.Context, key string) error {
	if err := a.s.client.Del(ctx, a.counterKey(key)).Err(); err != nil {
		return authErr("reset counter", err)
	}
	return nil
}

// AddHits implements [auth.CounterStore].
func (a *authStore) AddHits(ctx context.Context, key string, now time.Time, window time.Duration, n int) (int, error) {
	if err := a.s.persistent(ctx); err != nil {
		return 0, authErr("hits", err)
	}
	n = max(n, 0)
	res, err := authAddHits.Run(ctx, a.s.client, []string{a.s.key("auth", "w", key)},
		micros(now), n, micros(now.Add(window)), (window + authGrace).Milliseconds()).Int64()
	if err != nil {
		return 0, authErr("hits", err)
	}
	return int(res), nil
}
