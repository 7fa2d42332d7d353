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

// MFAStore is what [Store.MFA] hands out: package mfa's short-lived state
// in Redis, TOTP used-step marks ([mfa.StepStore]), attempt counters
// ([mfa.CounterStore], the store's [Store.Counters]) and emailed codes
// ([mfa.OOBStore]). Enrollments, email-factor enrolments and recovery
// codes belong in a durable store; combine them with [mfa.Stores].
type MFAStore interface {
	mfa.StepStore
	mfa.CounterStore
	mfa.OOBStore
}

// mfaStore keeps package mfa's short-lived state in Redis: TOTP used-step
// marks ([mfa.StepStore]), counters ([mfa.CounterStore], the store's
// counters: mfa computes its attempt limits and locks over them) and
// emailed codes ([mfa.OOBStore]). Enrollments and recovery codes belong in
// a durable store; combine them with [mfa.Stores]. Each method is one
// command or Lua script on one key, so it is atomic across app instances. Times are
// compared as microseconds from the caller's clock; TTLs only let Redis
// forget what can no longer matter.
type mfaStore struct {
	*counters // attempt counters and locks ([mfa.CounterStore])

	s *Store
}

var (
	_ mfa.StepStore    = (*mfaStore)(nil)
	_ mfa.CounterStore = (*mfaStore)(nil)
	_ mfa.OOBStore     = (*mfaStore)(nil)
	_ MFAStore         = (*mfaStore)(nil)
)

// MFA returns the store for package mfa, sharing s's client and prefix:
// one command or Lua script on one key per call, atomic across app
// instances. Each MarkStep first checks persistence and, unless
// [Store.AllowVolatileRedis], how long the node has been up (see the
// package doc: [ErrVolatileRedis], [ErrRedisRestarted]).
// Keys: <prefix>mfa:step:<user>, <prefix>mfa:oob:<purpose>:<user> (a
// purpose contains no ':'), and the counters' <prefix>c:mfa:....
func (s *Store) MFA() MFAStore { return &mfaStore{counters: &counters{s: s}, s: s} }

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

	mfaPutOOB = redis.NewScript(`
local old = redis.call('HMGET', KEYS[1], 's', 'e')
local sent = tonumber(ARGV[4])
if old[1] and tonumber(old[2]) > sent and tonumber(old[1]) + tonumber(ARGV[6]) > sent then return 0 end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'salt', ARGV[2], 'h', ARGV[3], 's', ARGV[4], 'e', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1`)

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
func (m *mfaStore) MarkStep(ctx context.Context, userID string, step int64, keep time.Duration) (bool, error) {
	if err := m.s.persistent(ctx); err != nil {
		return false, mfaErr("mark step", err)
	}
	check := "1"
	if m.s.AllowVolatileRedis {
		check = "0"
	}
	n, err := mfaMarkStep.Run(ctx, m.s.client, []string{m.s.key("mfa", "step", userID)}, step, mfaMillis(keep), check).Int()
	if err != nil {
		return false, mfaErr("mark step", err)
	}
	if n == -1 {
		return false, mfaErr("mark step", ErrRedisRestarted)
	}
	return n == 1, nil
}

func (m *mfaStore) oobKey(userID string, p mfa.Purpose) string {
	return m.s.key("mfa", "oob", string(p), userID)
}

// PutOOB implements [mfa.OOBStore]; the code expires with its key.
func (m *mfaStore) PutOOB(ctx context.Context, r mfa.OOBRecord, resendAfter time.Duration) error {
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

// GetOOB implements [mfa.OOBStore].
func (m *mfaStore) GetOOB(ctx context.Context, userID string, purpose mfa.Purpose, now time.Time) (mfa.OOBRecord, error) {
	v, err := m.s.client.HMGet(ctx, m.oobKey(userID, purpose), "id", "salt", "h", "s", "e").Result()
	if err != nil {
		return mfa.OOBRecord{}, mfaErr("get code", err)
	}
	if len(v) != 5 || v[0] == nil {
		return mfa.OOBRecord{}, mfa.ErrNotFound
	}
	id, ok1 := v[0].(string)
	salt, ok2 := v[1].(string)
	hash, ok3 := v[2].(string)
	sentS, ok4 := v[3].(string)
	expS, ok5 := v[4].(string)
	sent, err1 := strconv.ParseInt(sentS, 10, 64)
	exp, err2 := strconv.ParseInt(expS, 10, 64)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || err1 != nil || err2 != nil {
		return mfa.OOBRecord{}, mfaErr("get code", errors.New("malformed record"))
	}
	if exp <= mfaMicros(now) {
		return mfa.OOBRecord{}, mfa.ErrNotFound
	}
	return mfa.OOBRecord{
		ID: id, UserID: userID, Purpose: purpose, Salt: []byte(salt), Hash: []byte(hash),
		SentAt: mfaTime(sent), ExpiresAt: mfaTime(exp),
	}, nil
}

// DeleteOOB implements [mfa.OOBStore].
func (m *mfaStore) DeleteOOB(ctx context.Context, userID string, purpose mfa.Purpose, id string) (bool, error) {
	n, err := mfaDeleteOOB.Run(ctx, m.s.client, []string{m.oobKey(userID, purpose)}, id).Int()
	if err != nil {
		return false, mfaErr("delete code", err)
	}
	return n == 1, nil
}
