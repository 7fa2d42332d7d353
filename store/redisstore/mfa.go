package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/mfa"
)

// MFAStore keeps package mfa's short-lived state in Redis: TOTP used-step
// marks ([mfa.StepStore]), attempt counters ([mfa.AttemptStore]) and
// emailed codes ([mfa.OOBStore]). Enrollments and recovery codes belong in
// a durable store; combine them with [mfa.Stores]. Each method is one Lua
// script on one key, so it is atomic across app instances. Times are
// compared as microseconds from the caller's clock; TTLs only let Redis
// forget what can no longer matter.
type MFAStore struct {
	s *Store
}

var (
	_ mfa.StepStore    = (*MFAStore)(nil)
	_ mfa.AttemptStore = (*MFAStore)(nil)
	_ mfa.OOBStore     = (*MFAStore)(nil)
)

// MFA returns the store for package mfa, sharing s's client and prefix.
// Keys: <prefix>mfa:step:<user>, <prefix>mfa:att:<factor>:<user> and
// <prefix>mfa:oob:<purpose>:<user> (factor and purpose contain no ':').
func (s *Store) MFA() *MFAStore { return &MFAStore{s: s} }

// mfaAttemptIdle is how long an attempt counter outlives its last
// attempt or lock: failures older than that are forgotten.
const mfaAttemptIdle = 24 * time.Hour

var (
	// ARGV[3] = '1' asks for the restart check: a node up for less than
	// the keep window may have lost marks written before it started.
	mfaMarkStep = redis.NewScript(`
if ARGV[3] == '1' then
  local up = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)'))
  if (not up) or up * 1000 < tonumber(ARGV[2]) then return -1 end
end
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

	mfaTakeAttempt = redis.NewScript(`
local st = redis.call('HMGET', KEYS[1], 'n', 'u')
local n, u = tonumber(st[1] or '0'), tonumber(st[2] or '0')
local now = tonumber(ARGV[1])
if u > now then return {0, 0, u} end
if u ~= 0 then n, u = 0, 0 end
n = n + 1
if n >= tonumber(ARGV[2]) then u = now + tonumber(ARGV[3]) end
redis.call('HSET', KEYS[1], 'n', n, 'u', u)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, n, u}`)

	mfaPutOOB = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 's', 'e')
local sent = tonumber(ARGV[4])
if old[1] and tonumber(old[2]) > sent and tonumber(old[1]) + tonumber(ARGV[6]) > sent then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'salt', ARGV[2], 'h', ARGV[3], 'a', 0, 's', ARGV[4], 'e', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1`)

	mfaTakeOOB = redis.NewScript(`
local r = redis.call('HMGET', KEYS[1], 'id', 'salt', 'h', 'a', 's', 'e')
if not r[1] then return false end
if tonumber(r[6]) <= tonumber(ARGV[1]) or tonumber(r[4]) >= tonumber(ARGV[2]) then return false end
local a = redis.call('HINCRBY', KEYS[1], 'a', 1)
return {r[1], r[2], r[3], a, r[5], r[6]}`)

	mfaDeleteOOB = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'id') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`)
)

func mfaErr(op string, err error) error { return fmt.Errorf("redisstore: mfa: %s: %w", op, err) }

// mfaMillis converts d to whole milliseconds, at least 1 (a TTL).
func mfaMillis(d time.Duration) int64 { return max(d.Milliseconds(), 1) }

func mfaMicros(t time.Time) int64 { return t.UnixMicro() }

func mfaTime(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// MarkStep implements [mfa.StepStore]; the mark expires after keep. It
// fails with [ErrVolatileRedis] on a Redis that does not persist, and with
// [ErrRedisRestarted] while the node has been up for less than keep (see
// the package doc), unless [Store.AllowVolatileRedis] is set.
func (m *MFAStore) MarkStep(ctx context.Context, userID string, step int64, keep time.Duration) (bool, error) {
	if err := m.s.persistent(ctx); err != nil {
		return false, mfaErr("mark step", err)
	}
	check := "1"
	if m.s.AllowVolatileRedis {
		check = "0"
	}
	n, err := mfaMarkStep.Run(ctx, m.s.client, []string{m.s.Key("mfa", "step", userID)}, step, mfaMillis(keep), check).Int()
	if err != nil {
		return false, mfaErr("mark step", err)
	}
	if n == -1 {
		return false, mfaErr("mark step", ErrRedisRestarted)
	}
	return n == 1, nil
}

// TakeAttempt implements [mfa.AttemptStore].
// It fails with [ErrVolatileRedis] on a Redis that does not persist.
func (m *MFAStore) TakeAttempt(ctx context.Context, userID string, f mfa.Factor, p mfa.AttemptPolicy, now time.Time) (mfa.Attempt, error) {
	if err := m.s.persistent(ctx); err != nil {
		return mfa.Attempt{}, mfaErr("take attempt", err)
	}
	key := m.s.Key("mfa", "att", string(f), userID)
	r, err := mfaTakeAttempt.Run(ctx, m.s.client, []string{key},
		mfaMicros(now), p.Limit, p.Lockout.Microseconds(), mfaMillis(p.Lockout+mfaAttemptIdle)).Int64Slice()
	if err != nil {
		return mfa.Attempt{}, mfaErr("take attempt", err)
	}
	if len(r) != 3 {
		return mfa.Attempt{}, mfaErr("take attempt", errors.New("unexpected script reply"))
	}
	if r[0] == 0 {
		return mfa.Attempt{LockedUntil: mfaTime(r[2])}, nil
	}
	return mfa.Attempt{Allowed: true, Remaining: max(p.Limit-int(r[1]), 0), LockedUntil: mfaTime(r[2])}, nil
}

// ResetAttempts implements [mfa.AttemptStore].
func (m *MFAStore) ResetAttempts(ctx context.Context, userID string, f mfa.Factor) error {
	if err := m.s.client.Del(ctx, m.s.Key("mfa", "att", string(f), userID)).Err(); err != nil {
		return mfaErr("reset attempts", err)
	}
	return nil
}

func (m *MFAStore) oobKey(userID string, p mfa.Purpose) string {
	return m.s.Key("mfa", "oob", string(p), userID)
}

// PutOOB implements [mfa.OOBStore]; the code expires with its key.
func (m *MFAStore) PutOOB(ctx context.Context, r mfa.OOBRecord, resendAfter time.Duration) error {
	n, err := mfaPutOOB.Run(ctx, m.s.client, []string{m.oobKey(r.UserID, r.Purpose)},
		r.ID, r.Salt, r.Hash, mfaMicros(r.SentAt), mfaMicros(r.ExpiresAt), resendAfter.Microseconds(),
		mfaMillis(r.ExpiresAt.Sub(r.SentAt))).Int()
	if err != nil {
		return mfaErr("put code", err)
	}
	if n == 0 {
		return mfa.ErrThrottled
	}
	return nil
}

// TakeOOBAttempt implements [mfa.OOBStore].
func (m *MFAStore) TakeOOBAttempt(ctx context.Context, userID string, purpose mfa.Purpose, maxAttempts int, now time.Time) (mfa.OOBRecord, error) {
	v, err := mfaTakeOOB.Run(ctx, m.s.client, []string{m.oobKey(userID, purpose)}, mfaMicros(now), maxAttempts).Slice()
	if errors.Is(err, redis.Nil) {
		return mfa.OOBRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.OOBRecord{}, mfaErr("take code attempt", err)
	}
	bad := mfaErr("take code attempt", errors.New("malformed record"))
	if len(v) != 6 {
		return mfa.OOBRecord{}, bad
	}
	id, ok1 := v[0].(string)
	salt, ok2 := v[1].(string)
	hash, ok3 := v[2].(string)
	attempts, ok4 := v[3].(int64)
	sentS, ok5 := v[4].(string)
	expS, ok6 := v[5].(string)
	sent, err1 := strconv.ParseInt(sentS, 10, 64)
	exp, err2 := strconv.ParseInt(expS, 10, 64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || err1 != nil || err2 != nil {
		return mfa.OOBRecord{}, bad
	}
	return mfa.OOBRecord{
		ID: id, UserID: userID, Purpose: purpose, Salt: []byte(salt), Hash: []byte(hash),
		Attempts: int(attempts), SentAt: mfaTime(sent), ExpiresAt: mfaTime(exp),
	}, nil
}

// DeleteOOB implements [mfa.OOBStore].
func (m *MFAStore) DeleteOOB(ctx context.Context, userID string, purpose mfa.Purpose, id string) (bool, error) {
	n, err := mfaDeleteOOB.Run(ctx, m.s.client, []string{m.oobKey(userID, purpose)}, id).Int()
	if err != nil {
		return false, mfaErr("delete code", err)
	}
	return n == 1, nil
}
