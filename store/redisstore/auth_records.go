package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/auth"
)

// With claims, reset tokens and pending states the Redis store is a whole
// auth.Store.
var _ auth.Store = (*authStore)(nil)

func (a *authStore) claimKey(kind, key string) string { return a.s.key("auth", "claim", kind, key) }
func (a *authStore) tokenKey(h []byte) string         { return a.s.key("auth", "rt", hex.EncodeToString(h)) }
func (a *authStore) userTokensKey(u string) string    { return a.s.key("auth", "rtu", u) }
func (a *authStore) pendingKey(h []byte) string       { return a.s.key("auth", "mfa", hex.EncodeToString(h)) }

// authTTL is the Redis TTL of a record created at created and expiring at
// expires by the caller's clock: its lifetime plus the usual grace. It is
// a relative duration, so a caller's clock that differs from Redis's (a
// test's simulated clock) never makes a record vanish early.
func authTTL(created, expires time.Time) time.Duration {
	return max(expires.Sub(created), 0) + authGrace
}

// Claim implements [auth.ClaimStore] with SET NX: claims never expire.
func (a *authStore) Claim(ctx context.Context, c auth.Claim) error {
	if err := a.s.persistent(ctx); err != nil {
		return authErr("claim", err)
	}
	ok, err := a.s.client.SetNX(ctx, a.claimKey(c.Kind, c.Key), c.Owner, 0).Result()
	if err != nil {
		return authErr("claim", err)
	}
	if !ok {
		return auth.ErrTaken
	}
	return nil
}

var authRelease = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Release implements [auth.ClaimStore].
func (a *authStore) Release(ctx context.Context, kind, key, owner string) error {
	n, err := authRelease.Run(ctx, a.s.client, []string{a.claimKey(kind, key)}, owner).Int()
	if err != nil {
		return authErr("release", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// CreateResetToken implements [auth.ResetTokenStore]. The token is a hash
// key with a TTL; a per-user set of token hashes serves DeleteResetTokens.
func (a *authStore) CreateResetToken(ctx context.Context, t auth.ResetToken) error {
	ttl := authTTL(t.CreatedAt, t.ExpiresAt)
	_, err := a.s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		k := a.tokenKey(t.Hash)
		p.HSet(ctx, k, "u", t.UserID, "c", micros(t.CreatedAt), "e", micros(t.ExpiresAt))
		p.PExpire(ctx, k, ttl)
		// A token with no user (auth's decoy for an unknown address) is never
		// deleted by user, and indexing it would grow one set without end.
		if t.UserID != "" {
			uk := a.userTokensKey(t.UserID)
			p.SAdd(ctx, uk, hex.EncodeToString(t.Hash))
			p.PExpire(ctx, uk, ttl)
		}
		return nil
	})
	if err != nil {
		return authErr("create reset token", err)
	}
	return nil
}

// authParseToken reads the fields u, c, e of a token record.
func authParseToken(v []any, hash []byte, now time.Time) (auth.ResetToken, error) {
	if len(v) != 3 || v[0] == nil {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	u, _ := v[0].(string)
	cs, _ := v[1].(string)
	es, _ := v[2].(string)
	c, err1 := strconv.ParseInt(cs, 10, 64)
	e, err2 := strconv.ParseInt(es, 10, 64)
	if err1 != nil || err2 != nil {
		return auth.ResetToken{}, authErr("reset token", errors.New("malformed record"))
	}
	t := auth.ResetToken{Hash: hash, UserID: u, CreatedAt: time.UnixMicro(c).UTC(), ExpiresAt: time.UnixMicro(e).UTC()}
	if !now.Before(t.ExpiresAt) {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	return t, nil
}

// LookupResetToken implements [auth.ResetTokenStore].
func (a *authStore) LookupResetToken(ctx context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	v, err := a.s.client.HMGet(ctx, a.tokenKey(hash), "u", "c", "e").Result()
	if err != nil {
		return auth.ResetToken{}, authErr("lookup reset token", err)
	}
	return authParseToken(v, hash, now)
}

var authConsume = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'u', 'c', 'e')
if v[1] then redis.call('DEL', KEYS[1]) end
return v
`)

// ConsumeResetToken implements [auth.ResetTokenStore]: read and delete in
// one script, so a token works once.
func (a *authStore) ConsumeResetToken(ctx context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	v, err := authConsume.Run(ctx, a.s.client, []string{a.tokenKey(hash)}).Slice()
	if err != nil {
		return auth.ResetToken{}, authErr("consume reset token", err)
	}
	return authParseToken(v, hash, now)
}

// DeleteResetTokens implements [auth.ResetTokenStore].
func (a *authStore) DeleteResetTokens(ctx context.Context, userID string) error {
	uk := a.userTokensKey(userID)
	members, err := a.s.client.SMembers(ctx, uk).Result()
	if err != nil {
		return authErr("delete reset tokens", err)
	}
	keys := []string{uk}
	for _, m := range members {
		keys = append(keys, a.s.key("auth", "rt", m))
	}
	// One DEL per key: on Redis Cluster the keys live on different slots.
	for _, k := range keys {
		if err := a.s.client.Del(ctx, k).Err(); err != nil {
			return authErr("delete reset tokens", err)
		}
	}
	return nil
}

// CreatePending implements [auth.PendingStore].
func (a *authStore) CreatePending(ctx context.Context, p auth.Pending) error {
	k := a.pendingKey(p.Hash)
	enroll := "0"
	if p.Enroll {
		enroll = "1"
	}
	_, err := a.s.client.TxPipelined(ctx, func(pp redis.Pipeliner) error {
		pp.HSet(ctx, k, "u", p.UserID, "b", p.BindingHash, "n", enroll, "a", p.Attempts,
			"c", micros(p.CreatedAt), "e", micros(p.ExpiresAt))
		pp.PExpire(ctx, k, authTTL(p.CreatedAt, p.ExpiresAt))
		return nil
	})
	if err != nil {
		return authErr("create pending", err)
	}
	return nil
}

var authAttempt = redis.NewScript(`
local v = redis.call('HMGET', KEYS[1], 'u', 'b', 'n', 'a', 'c', 'e')
if not v[1] then return false end
if tonumber(v[6]) <= tonumber(ARGV[1]) or tonumber(v[4]) >= tonumber(ARGV[2]) then return false end
v[4] = redis.call('HINCRBY', KEYS[1], 'a', 1)
return v
`)

// AttemptPending implements [auth.PendingStore]: check and increment in
// one script.
func (a *authStore) AttemptPending(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (auth.Pending, error) {
	v, err := authAttempt.Run(ctx, a.s.client, []string{a.pendingKey(hash)}, now.UnixMicro(), maxAttempts).Slice()
	if errors.Is(err, redis.Nil) {
		return auth.Pending{}, auth.ErrNotFound
	}
	if err != nil {
		return auth.Pending{}, authErr("attempt pending", err)
	}
	if len(v) != 6 {
		return auth.Pending{}, authErr("attempt pending", errors.New("malformed reply"))
	}
	p := auth.Pending{Hash: hash}
	p.UserID, _ = v[0].(string)
	b, _ := v[1].(string)
	p.BindingHash = []byte(b)
	n, _ := v[2].(string)
	p.Enroll = n == "1"
	att, _ := v[3].(int64)
	p.Attempts = int(att)
	cs, _ := v[4].(string)
	es, _ := v[5].(string)
	c, err1 := strconv.ParseInt(cs, 10, 64)
	e, err2 := strconv.ParseInt(es, 10, 64)
	if err1 != nil || err2 != nil {
		return auth.Pending{}, authErr("attempt pending", errors.New("malformed record"))
	}
	p.CreatedAt, p.ExpiresAt = time.UnixMicro(c).UTC(), time.UnixMicro(e).UTC()
	return p, nil
}

// DeletePending implements [auth.PendingStore].
func (a *authStore) DeletePending(ctx context.Context, hash []byte) error {
	n, err := a.s.client.Del(ctx, a.pendingKey(hash)).Result()
	if err != nil {
		return authErr("delete pending", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}
