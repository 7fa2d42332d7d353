package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/mfa"
)

// counters is the Redis counter with expiry (the contract is
// storetest.CounterStore; mfa.CounterStore is the same interface). Each
// counter is one hash at <prefix>c:<key> holding the count and the expiry
// from the caller's clock; a short Lua script adds or reads it atomically
// and holds no policy (no limits, no locks: those are the caller's). The
// key's TTL only lets Redis forget it once it can no longer matter.
type counters struct{ s *Store }

var _ mfa.CounterStore = (*counters)(nil)

// Counters returns the counter store, sharing s's client and prefix: the
// contract is storetest.CounterStore, and [mfa.CounterStore] is the same
// interface (returned as that so that this package does not link package
// testing into hosts). Each counter is one hash at <prefix>c:<key> with
// its count and its expiry from the caller's clock, added to or read by
// one Lua script, so it is atomic across app instances; the key's TTL only
// lets Redis forget it once it can no longer matter.
func (s *Store) Counters() mfa.CounterStore { return &counters{s: s} }

// Tokens is the Redis single-use token store (the contract is
// storetest.TokenStore): one hash per token at <prefix>t:<key> with the
// SHA-256 of its secret, its value and its expiry; TakeToken compares and
// deletes in one script, so of concurrent takes exactly one wins. The
// hashes are compared by Redis, not in constant time: they are hashes of
// high-entropy secrets, so timing reveals nothing usable.
type Tokens struct{ s *Store }

// Tokens returns the token store, sharing s's client and prefix.
func (s *Store) Tokens() *Tokens { return &Tokens{s: s} }

var (
	// KEYS[1]; ARGV: n, now, expiry of a new window (both µs), TTL (ms).
	addCount = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'n', 'e')
local n, e = tonumber(v[1]), tonumber(v[2])
if n and e and e > tonumber(ARGV[2]) then
  if ARGV[1] == '0' then return {n, e} end
  return {redis.call('HINCRBY', KEYS[1], 'n', ARGV[1]), e}
end
if ARGV[1] == '0' then return {0, 0} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'n', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {tonumber(ARGV[1]), tonumber(ARGV[3])}`)

	// KEYS[1]; ARGV: hash, now (µs).
	takeToken = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'h', 'v', 'e')
if (not v[1]) or v[1] ~= ARGV[1] or tonumber(v[3]) <= tonumber(ARGV[2]) then return false end
redis.call('DEL', KEYS[1])
return v[2]`)
)

var errBadCount = errors.New("redisstore: AddCount needs n >= 0 and a positive window")

// AddCount adds n to the counter at key, starting a new window at now if
// the counter is missing or expired; n = 0 only reads. A count that Redis
// could forget in a restart would reset attempt limits, so adding fails
// with [ErrVolatileRedis] on a Redis that does not persist, unless
// [Store.AllowVolatileRedis] is set.
func (c *counters) AddCount(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	if n < 0 || window <= 0 {
		return 0, time.Time{}, errBadCount
	}
	if n > 0 {
		if err := c.s.persistent(ctx); err != nil {
			return 0, time.Time{}, fmt.Errorf("redisstore: add count: %w", err)
		}
	}
	r, err := addCount.Run(ctx, c.s.client, []string{c.s.key("c", key)},
		n, now.UnixMicro(), now.Add(window).UnixMicro(), max(window.Milliseconds(), 1)).Int64Slice()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("redisstore: add count: %w", err)
	}
	if len(r) != 2 {
		return 0, time.Time{}, errors.New("redisstore: add count: unexpected script reply")
	}
	if r[0] == 0 {
		return 0, time.Time{}, nil
	}
	return r[0], time.UnixMicro(r[1]).UTC(), nil
}

// ResetCount deletes the counter at key.
func (c *counters) ResetCount(ctx context.Context, key string) error {
	if err := c.s.client.Del(ctx, c.s.key("c", key)).Err(); err != nil {
		return fmt.Errorf("redisstore: reset count: %w", err)
	}
	return nil
}

// PutToken stores a token, replacing any at key; Redis drops it after ttl.
func (t *Tokens) PutToken(ctx context.Context, key string, hash [32]byte, value []byte, ttl time.Duration, now time.Time) error {
	if ttl <= 0 {
		return errors.New("redisstore: PutToken needs a positive ttl")
	}
	k := t.s.key("t", key)
	_, err := t.s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "h", hash[:], "v", value, "e", now.Add(ttl).UnixMicro())
		p.PExpire(ctx, k, max(ttl, time.Millisecond))
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: put token: %w", err)
	}
	return nil
}

// TakeToken deletes and returns the token at key if hash matches and it
// expires after now.
func (t *Tokens) TakeToken(ctx context.Context, key string, hash [32]byte, now time.Time) ([]byte, bool, error) {
	v, err := takeToken.Run(ctx, t.s.client, []string{t.s.key("t", key)}, hash[:], now.UnixMicro()).Text()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: take token: %w", err)
	}
	return []byte(v), true, nil
}
