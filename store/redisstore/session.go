package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/session"
)

var _ session.Store = (*SessionStore)(nil)

// SessionStore is the [session.Store] on Redis.
//
// # Keys
//
// Every key starts with the store prefix and the hash tag
// {bulwark-session}, so that on Redis Cluster the Lua scripts that apply
// the single-session rule can touch a user's index and sessions together
// (they share one slot; the price is that sessions are not spread over the
// cluster's primaries). If the store prefix holds a hash tag of its own
// ({tenant}:, say), that tag wins, and the keys still share one slot.
// Under it:
//
//	t:<hex token hash>  hash   one session
//	u:<user id>         zset   the user's sessions, scored by creation time
//	r:<hex token hash>  hash   one remember-me token
//	f:<family>          set    a remember-me family's token hashes
//	uf:<user id>        set    the user's remember-me families
//
// Each key has a TTL matching the expiry of what it holds (sessions: the
// idle or absolute expiry, whichever is first, moved on at each touch;
// indexes: the longest of their members), so Redis forgets expired
// records by itself. Expiry is still judged against the Manager's clock,
// passed in with each call, so a TTL is only ever a backstop.
//
// # Atomicity and round trips
//
// Create, Touch, Delete, Revoke, RevokeUser and the remember-me methods are
// each one Lua script, atomic on the server. Get is one HMGET: validating a
// request whose activity need not be recorded costs one round trip.
type SessionStore struct {
	client redis.UniversalClient
	prefix string // store prefix + hash tag
}

// Session returns the session store on s.
func (s *Store) Session() *SessionStore {
	return &SessionStore{client: s.client, prefix: s.prefix + "{bulwark-session}:"}
}

// sessionFields are the fields of a session hash, in the order Get and
// the scripts return them (FIELDS in sessionLua).
var sessionFields = []string{"h", "id", "user", "c", "ls", "e", "a", "at", "f", "ip", "ua", "fam", "cl"}

const sessionLua = `
local P = ARGV[1]
local FIELDS = {'h', 'id', 'user', 'c', 'ls', 'e', 'a', 'at', 'f', 'ip', 'ua', 'fam', 'cl'}
local function delfam(fam, user)
  if not fam or fam == '' then return end
  for _, h in ipairs(redis.call('SMEMBERS', P .. 'f:' .. fam)) do
    redis.call('DEL', P .. 'r:' .. h)
  end
  redis.call('DEL', P .. 'f:' .. fam)
  redis.call('SREM', P .. 'uf:' .. user, fam)
end
local function delsess(h, user, withfam)
  local fam = redis.call('HGET', P .. 't:' .. h, 'fam')
  redis.call('DEL', P .. 't:' .. h)
  redis.call('ZREM', P .. 'u:' .. user, h)
  if withfam then delfam(fam, user) end
end
local function revokefam(fam, user)
  for _, h in ipairs(redis.call('ZRANGE', P .. 'u:' .. user, 0, -1)) do
    if redis.call('HGET', P .. 't:' .. h, 'fam') == fam then delsess(h, user, false) end
  end
  delfam(fam, user)
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`

// KEYS: u:<user>, t:<new>. ARGV: P, user, now, max, mode, new hex,
// replaces hex, created, ttl, abs ttl, field/value pairs...
var sessionCreate = redis.NewScript(sessionLua + `
local user, now = ARGV[2], tonumber(ARGV[3])
if ARGV[7] ~= '' then
  -- A rotation of a session revoked or expired meanwhile stores nothing.
  local r = redis.call('HMGET', P .. 't:' .. ARGV[7], 'user', 'e')
  if r[1] ~= user or (not r[2]) or tonumber(r[2]) <= now then return -2 end
end
local live = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local e = redis.call('HGET', P .. 't:' .. h, 'e')
  if (not e) or tonumber(e) <= now or h == ARGV[7] then
    delsess(h, user, false)
  else
    table.insert(live, h)
  end
end
local max = tonumber(ARGV[4])
local evicted = {}
if max > 0 and #live >= max then
  if ARGV[5] ~= '1' then return -1 end
  for i = 1, #live - max + 1 do
    table.insert(evicted, redis.call('HGET', P .. 't:' .. live[i], 'id'))
    delsess(live[i], user, true)
  end
end
redis.call('HSET', KEYS[2], unpack(ARGV, 11))
redis.call('PEXPIRE', KEYS[2], ARGV[9])
redis.call('ZADD', KEYS[1], ARGV[8], ARGV[6])
extend(KEYS[1], tonumber(ARGV[10]))
return evicted
`)

// KEYS: t:<hash>. ARGV: P, now, expires, ttl.
var sessionTouch = redis.NewScript(sessionLua + `
local now, exp = tonumber(ARGV[2]), tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'e', 'ls', 'cl')
if not v[1] or tonumber(v[1]) <= now then return 0 end
if now > tonumber(v[2]) then redis.call('HSET', KEYS[1], 'ls', ARGV[2]) end
-- A marked session keeps the mark's expiry (see session.Sessions.Touch).
if exp > tonumber(v[1]) and (not v[3] or tonumber(v[3]) == 0) then
  redis.call('HSET', KEYS[1], 'e', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return 1
`)

// KEYS: t:<hash>. ARGV: now, closing, expires, ttl. The closing mark
// (field cl) and the expiry it brings nearer, or clears and restores.
var sessionMarkClosing = redis.NewScript(`
local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) <= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'cl', ARGV[2], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// KEYS: t:<hash>. ARGV: P.
var sessionDelete = redis.NewScript(sessionLua + `
local v = redis.call('HMGET', KEYS[1], unpack(FIELDS))
if not v[1] then return false end
delsess(v[1], v[3], true)
return v
`)

// KEYS: u:<user>. ARGV: P, now.
var sessionList = redis.NewScript(sessionLua + `
local out = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('HMGET', P .. 't:' .. h, unpack(FIELDS))
  if v[1] and tonumber(v[6]) > tonumber(ARGV[2]) then table.insert(out, v) end
end
return out
`)

// KEYS: u:<user>. ARGV: P, user, id.
var sessionRevoke = redis.NewScript(sessionLua + `
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('HGET', P .. 't:' .. h, 'id') == ARGV[3] then
    delsess(h, ARGV[2], true)
    return 1
  end
end
return 0
`)

// KEYS: u:<user>. ARGV: P, user, except id.
var sessionRevokeUser = redis.NewScript(sessionLua + `
local user, keep, n = ARGV[2], '', 0
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('HMGET', P .. 't:' .. h, 'id', 'fam')
  if ARGV[3] ~= '' and v[1] == ARGV[3] then
    keep = v[2] or ''
  else
    if v[1] then n = n + 1 end
    delsess(h, user, false)
  end
end
for _, fam in ipairs(redis.call('SMEMBERS', P .. 'uf:' .. user)) do
  if fam ~= keep then delfam(fam, user) end
end
return n
`)

// KEYS: r:<hash>. ARGV: P, hex, family, user, auth, created, expires, ttl.
var sessionCreateRemember = redis.NewScript(sessionLua + `
local ttl = tonumber(ARGV[8])
redis.call('HSET', KEYS[1], 'fam', ARGV[3], 'user', ARGV[4], 'at', ARGV[5], 'c', ARGV[6], 'e', ARGV[7], 'used', '0')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SADD', P .. 'f:' .. ARGV[3], ARGV[2])
extend(P .. 'f:' .. ARGV[3], ttl)
redis.call('SADD', P .. 'uf:' .. ARGV[4], ARGV[3])
extend(P .. 'uf:' .. ARGV[4], ttl)
return 1
`)

// KEYS: r:<old>. ARGV: P, next hex, now.
var sessionRotateRemember = redis.NewScript(sessionLua + `
local now = tonumber(ARGV[3])
local v = redis.call('HMGET', KEYS[1], 'fam', 'user', 'at', 'c', 'e', 'used')
if not v[1] or tonumber(v[5]) <= now then return false end
local fam, user = v[1], v[2]
if v[6] ~= '0' then
  revokefam(fam, user)
  return {'reused', v[1], v[2], v[3], v[4], v[5]}
end
redis.call('HSET', KEYS[1], 'used', ARGV[3])
local ttl = redis.call('PTTL', KEYS[1])
local nk = P .. 'r:' .. ARGV[2]
redis.call('HSET', nk, 'fam', fam, 'user', user, 'at', v[3], 'c', ARGV[3], 'e', v[5], 'used', '0')
if ttl > 0 then redis.call('PEXPIRE', nk, ttl) end
redis.call('SADD', P .. 'f:' .. fam, ARGV[2])
return {'ok', v[1], v[2], v[3], v[4], v[5]}
`)

// KEYS: r:<hash>. ARGV: P.
var sessionRevokeRemember = redis.NewScript(sessionLua + `
local v = redis.call('HMGET', KEYS[1], 'fam', 'user')
if not v[1] then return 0 end
revokefam(v[1], v[2])
return 1
`)

func sessionHex(h [32]byte) string { return hex.EncodeToString(h[:]) }

func sessionMicros(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixMicro(), 10)
}

// sessionTTL is the time from now to t in milliseconds, at least 1.
func sessionTTL(t, now time.Time) int64 {
	return max(t.Sub(now).Milliseconds()+1, 1)
}

func sessionErr(op string, err error) error {
	return fmt.Errorf("redisstore: session: %s: %w", op, err)
}

// Create implements [session.Sessions].
func (st *SessionStore) Create(ctx context.Context, s *session.Session, lim session.Limit, replaces [32]byte) ([]string, error) {
	h := sessionHex(s.TokenHash)
	rep := ""
	if replaces != ([32]byte{}) {
		rep = sessionHex(replaces)
	}
	mode := "0"
	if lim.Mode == session.ReplaceOld {
		mode = "1"
	}
	args := []any{st.prefix, s.UserID, sessionMicros(s.CreatedAt), lim.Max, mode, h, rep,
		s.CreatedAt.UnixMicro(), sessionTTL(s.ExpiresAt, s.CreatedAt), sessionTTL(s.AbsoluteExpiry, s.CreatedAt),
		"h", h, "id", s.ID, "user", s.UserID, "c", sessionMicros(s.CreatedAt), "ls", sessionMicros(s.LastSeen),
		"e", sessionMicros(s.ExpiresAt), "a", sessionMicros(s.AbsoluteExpiry), "at", sessionMicros(s.AuthTime),
		"f", strings.Join(s.Factors, "\x1f"), "ip", s.IP, "ua", s.UserAgent, "fam", s.RememberFamily, "cl", sessionMicros(s.Closing)}
	res, err := sessionCreate.Run(ctx, st.client, []string{st.prefix + "u:" + s.UserID, st.prefix + "t:" + h}, args...).Result()
	if err != nil {
		return nil, sessionErr("create", err)
	}
	switch v := res.(type) {
	case int64:
		if v == -2 {
			return nil, session.ErrNotFound
		}
		return nil, session.ErrLimit
	case []any:
		var ev []string
		for _, id := range v {
			if s, ok := id.(string); ok {
				ev = append(ev, s)
			}
		}
		return ev, nil
	default:
		return nil, sessionErr("create", fmt.Errorf("unexpected reply %T", res))
	}
}

func sessionStr(v any) string {
	s, _ := v.(string)
	return s
}

func sessionTime(v any) (time.Time, error) {
	n, err := strconv.ParseInt(sessionStr(v), 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	if n == 0 {
		return time.Time{}, nil
	}
	return time.UnixMicro(n).UTC(), nil
}

// sessionParse reads the values of sessionFields.
func sessionParse(v []any) (session.Session, error) {
	if len(v) != len(sessionFields) || v[0] == nil {
		return session.Session{}, session.ErrNotFound
	}
	var s session.Session
	h, err := hex.DecodeString(sessionStr(v[0]))
	if err != nil || len(h) != len(s.TokenHash) {
		return session.Session{}, errors.New("malformed session record")
	}
	copy(s.TokenHash[:], h)
	s.ID, s.UserID = sessionStr(v[1]), sessionStr(v[2])
	if s.ID == "" || s.UserID == "" {
		// Never hand out a session that names no user.
		return session.Session{}, errors.New("malformed session record")
	}
	for i, p := range []*time.Time{&s.CreatedAt, &s.LastSeen, &s.ExpiresAt, &s.AbsoluteExpiry, &s.AuthTime} {
		if *p, err = sessionTime(v[3+i]); err != nil {
			return session.Session{}, errors.New("malformed session record")
		}
	}
	if f := sessionStr(v[8]); f != "" {
		s.Factors = strings.Split(f, "\x1f")
	}
	s.IP, s.UserAgent, s.RememberFamily = sessionStr(v[9]), sessionStr(v[10]), sessionStr(v[11])
	if v[12] != nil { // absent in records written before the field existed
		if s.Closing, err = sessionTime(v[12]); err != nil {
			return session.Session{}, errors.New("malformed session record")
		}
	}
	return s, nil
}

// Get implements [session.Sessions]. It is one HMGET.
func (st *SessionStore) Get(ctx context.Context, hash [32]byte, now time.Time) (session.Session, error) {
	v, err := st.client.HMGet(ctx, st.prefix+"t:"+sessionHex(hash), sessionFields...).Result()
	if err != nil {
		return session.Session{}, sessionErr("get", err)
	}
	s, err := sessionParse(v)
	if errors.Is(err, session.ErrNotFound) {
		return session.Session{}, err
	}
	if err != nil {
		return session.Session{}, sessionErr("get", err)
	}
	if !now.Before(s.ExpiresAt) {
		return session.Session{}, session.ErrNotFound
	}
	return s, nil
}

// Touch implements [session.Sessions].
func (st *SessionStore) Touch(ctx context.Context, hash [32]byte, now, expires time.Time) error {
	n, err := sessionTouch.Run(ctx, st.client, []string{st.prefix + "t:" + sessionHex(hash)},
		st.prefix, sessionMicros(now), sessionMicros(expires), sessionTTL(expires, now)).Int()
	if err != nil {
		return sessionErr("touch", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// MarkClosing implements [session.Marks]. It is one script.
func (st *SessionStore) MarkClosing(ctx context.Context, hash [32]byte, now, closing, expires time.Time) error {
	n, err := sessionMarkClosing.Run(ctx, st.client, []string{st.prefix + "t:" + sessionHex(hash)},
		sessionMicros(now), sessionMicros(closing), sessionMicros(expires), sessionTTL(expires, now)).Int()
	if err != nil {
		return sessionErr("mark closing", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Sessions].
func (st *SessionStore) Delete(ctx context.Context, hash [32]byte) (session.Session, error) {
	v, err := sessionDelete.Run(ctx, st.client, []string{st.prefix + "t:" + sessionHex(hash)}, st.prefix).Slice()
	if errors.Is(err, redis.Nil) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		return session.Session{}, sessionErr("delete", err)
	}
	s, err := sessionParse(v)
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		return session.Session{}, sessionErr("delete", err)
	}
	return s, err
}

// List implements [session.Index].
func (st *SessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Session, error) {
	res, err := sessionList.Run(ctx, st.client, []string{st.prefix + "u:" + userID}, st.prefix, sessionMicros(now)).Slice()
	if err != nil {
		return nil, sessionErr("list", err)
	}
	out := make([]session.Session, 0, len(res))
	for _, r := range res {
		v, _ := r.([]any)
		s, err := sessionParse(v)
		if err != nil {
			return nil, sessionErr("list", err)
		}
		out = append(out, s)
	}
	// The index orders by creation time; ties go by id, as in the other stores.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedAt.Equal(out[j-1].CreatedAt) && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out, nil
}

// Revoke implements [session.Index].
func (st *SessionStore) Revoke(ctx context.Context, userID, id string) error {
	n, err := sessionRevoke.Run(ctx, st.client, []string{st.prefix + "u:" + userID}, st.prefix, userID, id).Int()
	if err != nil {
		return sessionErr("revoke", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// RevokeUser implements [session.Index].
func (st *SessionStore) RevokeUser(ctx context.Context, userID, exceptID string) (int, error) {
	n, err := sessionRevokeUser.Run(ctx, st.client, []string{st.prefix + "u:" + userID}, st.prefix, userID, exceptID).Int()
	if err != nil {
		return 0, sessionErr("revoke", err)
	}
	return n, nil
}

// CreateRemember implements [session.RememberTokens].
func (st *SessionStore) CreateRemember(ctx context.Context, r session.Remember) error {
	h := sessionHex(r.Hash)
	err := sessionCreateRemember.Run(ctx, st.client, []string{st.prefix + "r:" + h}, st.prefix, h, r.Family, r.UserID,
		sessionMicros(r.AuthTime), sessionMicros(r.CreatedAt), sessionMicros(r.ExpiresAt), sessionTTL(r.ExpiresAt, r.CreatedAt)).Err()
	if err != nil {
		return sessionErr("create remember-me", err)
	}
	return nil
}

// RotateRemember implements [session.RememberTokens].
func (st *SessionStore) RotateRemember(ctx context.Context, old, next [32]byte, now time.Time) (session.Remember, error) {
	v, err := sessionRotateRemember.Run(ctx, st.client, []string{st.prefix + "r:" + sessionHex(old)},
		st.prefix, sessionHex(next), sessionMicros(now)).Slice()
	if errors.Is(err, redis.Nil) {
		return session.Remember{}, session.ErrNotFound
	}
	if err != nil {
		return session.Remember{}, sessionErr("rotate remember-me", err)
	}
	if len(v) != 6 {
		return session.Remember{}, sessionErr("rotate remember-me", fmt.Errorf("unexpected reply of %d values", len(v)))
	}
	r := session.Remember{Hash: old, Family: sessionStr(v[1]), UserID: sessionStr(v[2])}
	for i, p := range []*time.Time{&r.AuthTime, &r.CreatedAt, &r.ExpiresAt} {
		if *p, err = sessionTime(v[3+i]); err != nil {
			return session.Remember{}, sessionErr("rotate remember-me", errors.New("malformed record"))
		}
	}
	if sessionStr(v[0]) == "reused" {
		return r, session.ErrReused
	}
	return r, nil
}

// RevokeRemember implements [session.RememberTokens].
func (st *SessionStore) RevokeRemember(ctx context.Context, hash [32]byte) error {
	n, err := sessionRevokeRemember.Run(ctx, st.client, []string{st.prefix + "r:" + sessionHex(hash)}, st.prefix).Int()
	if err != nil {
		return sessionErr("revoke remember-me", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}
