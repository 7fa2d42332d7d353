package redisstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bulwarkhq/bulwark/session"
)

var _ session.Store = (*sessionStore)(nil)

// sessionStore is the [session.Store] on Redis.
//
// # Keys and Redis Cluster
//
// Sessions are spread over 256 buckets, each with a hash tag whose slot
// lies in its own 1/256 of the cluster's 16384 slots, so the users of a
// product spread evenly over however many primaries a cluster has. A
// user's sessions, index and remember-me records share the user's bucket,
// so the single-session rule and every revocation stay one Lua script on
// one slot. The store is a [session.TokenPlacer]: the Manager draws each
// token so that its hash starts with its user's bucket, so a token alone
// leads to its slot and validation is one GET on one node, with no global
// index. Under the store prefix:
//
//	{tag}:t:<hex token hash>  string one session (the compact record of session_record.go)
//	{tag}:u:<user id>         zset   the user's sessions, scored by creation time
//	{tag}:r:<hex token hash>  hash   one remember-me token
//	{tag}:f:<family>          set    a remember-me family's token hashes
//	{tag}:uf:<user id>        set    the user's remember-me families
//
// If the store prefix holds a hash tag of its own ({tenant}:, say), that
// tag wins and every key shares its one slot. A wrapper around the store
// that hides TokenByte from the Manager leaves tokens unplaced: on a
// cluster their sessions then fail to be created (CROSSSLOT, a denial).
//
// Each key has a TTL matching the expiry of what it holds (sessions: the
// idle or absolute expiry, whichever is first, moved on at each touch;
// indexes: the longest of their members), so Redis forgets expired
// records by itself. Expiry is still judged against the Manager's clock,
// passed in with each call, so a TTL is only ever a backstop.
//
// # Atomicity and round trips
//
// Create, Touch, MarkClosing, Delete, Revoke, RevokeUser and the remember-me methods are
// each one Lua script, atomic on the server. Get is one GET of one short
// string, decoded strictly in one pass: validating a request whose
// activity need not be recorded costs one round trip and a handful of
// allocations.
type sessionStore struct {
	s      *Store
	client redis.UniversalClient
	prefix string // store prefix
}

// Session returns the [session.Store] on s. It also implements
// [session.TokenPlacer] (the Manager finds it by a type assertion), which a
// cluster needs: see the package doc. Each write is one Lua script; a
// validation is one GET.
func (s *Store) Session() session.Store {
	return &sessionStore{s: s, client: s.client, prefix: s.prefix}
}

var sessionLua = recLua + sessionKeysLua + `
local function delfam(fam, user)
  if not fam or fam == '' then return end
  for _, h in ipairs(redis.call('SMEMBERS', KF(fam, user))) do
    redis.call('DEL', KR(h))
  end
  redis.call('DEL', KF(fam, user))
  redis.call('SREM', KUF(user), fam)
end
local function delsess(h, user, withfam)
  local v = redis.call('GET', KT(h))
  redis.call('DEL', KT(h))
  redis.call('ZREM', KU(user), h)
  if withfam and v then
    local _, _, fam = rstr(v)
    delfam(fam, user)
  end
end
local function revokefam(fam, user)
  for _, h in ipairs(redis.call('ZRANGE', KU(user), 0, -1)) do
    local v = redis.call('GET', KT(h))
    if v then
      local _, _, f = rstr(v)
      if f == fam then delsess(h, user, false) end
    end
  end
  delfam(fam, user)
end
local function extend(key, ttl)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
`

// KEYS: u:<user>, t:<new>. ARGV: P, user, now hex, max, mode, new hex,
// replaces hex, created, ttl, abs ttl, record.
var sessionCreate = redis.NewScript(sessionLua + `
local user, now = ARGV[2], tonumber(ARGV[3], 16)
if ARGV[7] ~= '' then
  -- A rotation of a session revoked or expired meanwhile stores nothing.
  local v = redis.call('GET', KT(ARGV[7]))
  if not v then return -2 end
  local _, u = rstr(v)
  if u ~= user or rnum(v, 2) <= now then return -2 end
end
local live = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', KT(h))
  if (not v) or rnum(v, 2) <= now or h == ARGV[7] then
    delsess(h, user, false)
  else
    table.insert(live, {h, v})
  end
end
local max = tonumber(ARGV[4])
local evicted = {}
if max > 0 and #live >= max then
  if ARGV[5] ~= '1' then return -1 end
  for i = 1, #live - max + 1 do
    local id = rstr(live[i][2])
    table.insert(evicted, id)
    delsess(live[i][1], user, true)
  end
end
redis.call('SET', KEYS[2], ARGV[11], 'PX', ARGV[9])
redis.call('ZADD', KEYS[1], ARGV[8], ARGV[6])
extend(KEYS[1], tonumber(ARGV[10]))
return evicted
`)

// KEYS: t:<hash>. ARGV: P, now hex, expires hex, ttl.
var sessionTouch = redis.NewScript(sessionLua + `
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local now, exp, e = tonumber(ARGV[2], 16), tonumber(ARGV[3], 16), rnum(v, 2)
if e <= now then return 0 end
local ls, ne = rhex(v, 1), rhex(v, 2)
if now > rnum(v, 1) then ls = ARGV[2] end
-- A marked session keeps the mark's expiry (see session.Store.Touch):
-- the closing mark is the record's last 16 hex digits, zero when unmarked.
local marked = (tonumber(string.sub(v, -16), 16) or 1) ~= 0
local extend = exp > e and not marked
if extend then ne = ARGV[3] end
redis.call('SET', KEYS[1], string.sub(v, 1, 17) .. ls .. ne .. string.sub(v, 50), 'KEEPTTL')
if extend then redis.call('PEXPIRE', KEYS[1], ARGV[4]) end
return 1
`)

// KEYS: t:<hash>. ARGV: now hex, closing hex, expires hex, ttl. Sets the
// closing mark (the record's last 16 digits) and the expiry it brings
// nearer, or clears the mark and restores the expiry. One key, one slot.
var sessionMarkClosing = redis.NewScript(recLua + `
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= '2' or #v < 97 then return 0 end
if rnum(v, 2) <= tonumber(ARGV[1], 16) then return 0 end
redis.call('SET', KEYS[1], string.sub(v, 1, 33) .. ARGV[3] .. string.sub(v, 50, -17) .. ARGV[2], 'PX', ARGV[4])
return 1
`)

// KEYS: t:<hash>. ARGV: P, hex.
var sessionDelete = redis.NewScript(sessionLua + `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local _, user = rstr(v)
if user then delsess(ARGV[2], user, true) else redis.call('DEL', KEYS[1]) end
return v
`)

// KEYS: u:<user>. ARGV: P, now hex. Returns hash, record pairs.
var sessionList = redis.NewScript(sessionLua + `
local out = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', KT(h))
  if v and rnum(v, 2) > tonumber(ARGV[2], 16) then
    table.insert(out, h)
    table.insert(out, v)
  end
end
return out
`)

// KEYS: u:<user>. ARGV: P, user, id.
var sessionRevoke = redis.NewScript(sessionLua + `
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local v = redis.call('GET', KT(h))
  if v and rstr(v) == ARGV[3] then
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
  local v = redis.call('GET', KT(h))
  local id, fam = nil, nil
  if v then
    local i, _, f = rstr(v)
    id, fam = i, f
  end
  if ARGV[3] ~= '' and id == ARGV[3] then
    keep = fam or ''
  else
    if id then n = n + 1 end
    delsess(h, user, false)
  end
end
for _, fam in ipairs(redis.call('SMEMBERS', KUF(user))) do
  if fam ~= keep then delfam(fam, user) end
end
return n
`)

// KEYS: r:<hash>. ARGV: P, hex, family, user, auth, created, expires, ttl.
var sessionCreateRemember = redis.NewScript(sessionLua + `
local ttl = tonumber(ARGV[8])
redis.call('HSET', KEYS[1], 'fam', ARGV[3], 'user', ARGV[4], 'at', ARGV[5], 'c', ARGV[6], 'e', ARGV[7], 'used', '0')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('SADD', KF(ARGV[3], ARGV[4]), ARGV[2])
extend(KF(ARGV[3], ARGV[4]), ttl)
redis.call('SADD', KUF(ARGV[4]), ARGV[3])
extend(KUF(ARGV[4]), ttl)
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
local nk = KR(ARGV[2])
redis.call('HSET', nk, 'fam', fam, 'user', user, 'at', v[3], 'c', ARGV[3], 'e', v[5], 'used', '0')
if ttl > 0 then redis.call('PEXPIRE', nk, ttl) end
redis.call('SADD', KF(fam, user), ARGV[2])
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

// Create implements [session.Store].
func (st *sessionStore) Create(ctx context.Context, s *session.Session, lim session.Limit, replaces [32]byte) ([]string, error) {
	h := sessionHex(s.TokenHash)
	rep := ""
	if replaces != ([32]byte{}) {
		rep = sessionHex(replaces)
	}
	mode := "0"
	if lim.ReplaceOld {
		mode = "1"
	}
	rec, err := encodeSession(s)
	if err != nil {
		return nil, sessionErr("create", err)
	}
	args := []any{st.prefix, s.UserID, recHex(s.CreatedAt), lim.Max, mode, h, rep,
		s.CreatedAt.UnixMicro(), sessionTTL(s.ExpiresAt, s.CreatedAt), sessionTTL(s.AbsoluteExpiry, s.CreatedAt), rec}
	res, err := st.s.runReplicated(ctx, sessionCreate, []string{st.userKey("u", s.UserID), st.sessionKey(s.TokenHash)}, args...).Result()
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

// Get implements [session.Store]. It is one GET of one string.
func (st *sessionStore) Get(ctx context.Context, hash [32]byte, now time.Time) (session.Session, error) {
	rec, err := st.client.Get(ctx, st.sessionKey(hash)).Result()
	if errors.Is(err, redis.Nil) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		st.s.afterError(err)
		return session.Session{}, sessionErr("get", err)
	}
	s, err := decodeSession(rec, hash)
	if err != nil {
		return session.Session{}, sessionErr("get", err)
	}
	if !now.Before(s.ExpiresAt) {
		return session.Session{}, session.ErrNotFound
	}
	return s, nil
}

// Touch implements [session.Store].
func (st *sessionStore) Touch(ctx context.Context, hash [32]byte, now, expires time.Time) error {
	n, err := sessionTouch.Run(ctx, st.client, []string{st.sessionKey(hash)},
		st.prefix, recHex(now), recHex(expires), sessionTTL(expires, now)).Int()
	if err != nil {
		return sessionErr("touch", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// MarkClosing implements [session.Store]. It is one script.
func (st *sessionStore) MarkClosing(ctx context.Context, hash [32]byte, now, closing, expires time.Time) error {
	n, err := sessionMarkClosing.Run(ctx, st.client, []string{st.sessionKey(hash)},
		recHex(now), recHex(closing), recHex(expires), sessionTTL(expires, now)).Int()
	if err != nil {
		return sessionErr("mark closing", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// Delete implements [session.Store].
func (st *sessionStore) Delete(ctx context.Context, hash [32]byte) (session.Session, error) {
	rec, err := st.s.runReplicated(ctx, sessionDelete, []string{st.sessionKey(hash)}, st.prefix, sessionHex(hash)).Text()
	if errors.Is(err, redis.Nil) {
		return session.Session{}, session.ErrNotFound
	}
	if err != nil {
		return session.Session{}, sessionErr("delete", err)
	}
	s, err := decodeSession(rec, hash)
	if err != nil {
		return session.Session{}, sessionErr("delete", err)
	}
	return s, nil
}

// List implements [session.Store].
func (st *sessionStore) List(ctx context.Context, userID string, now time.Time) ([]session.Session, error) {
	res, err := sessionList.Run(ctx, st.client, []string{st.userKey("u", userID)}, st.prefix, recHex(now)).StringSlice()
	if err != nil {
		return nil, sessionErr("list", err)
	}
	if len(res)%2 != 0 {
		return nil, sessionErr("list", errors.New("unexpected reply"))
	}
	out := make([]session.Session, 0, len(res)/2)
	for i := 0; i < len(res); i += 2 {
		var h [32]byte
		if n, err := hex.Decode(h[:], []byte(res[i])); err != nil || n != len(h) {
			return nil, sessionErr("list", errMalformed)
		}
		s, err := decodeSession(res[i+1], h)
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

// Revoke implements [session.Store].
func (st *sessionStore) Revoke(ctx context.Context, userID, id string) error {
	n, err := st.s.runReplicated(ctx, sessionRevoke, []string{st.userKey("u", userID)}, st.prefix, userID, id).Int()
	if err != nil {
		return sessionErr("revoke", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}

// RevokeUser implements [session.Store].
func (st *sessionStore) RevokeUser(ctx context.Context, userID, exceptID string) (int, error) {
	n, err := st.s.runReplicated(ctx, sessionRevokeUser, []string{st.userKey("u", userID)}, st.prefix, userID, exceptID).Int()
	if err != nil {
		return 0, sessionErr("revoke", err)
	}
	return n, nil
}

// CreateRemember implements [session.Store].
func (st *sessionStore) CreateRemember(ctx context.Context, r session.Remember) error {
	h := sessionHex(r.Hash)
	err := sessionCreateRemember.Run(ctx, st.client, []string{st.hashKey("r", r.Hash)}, st.prefix, h, r.Family, r.UserID,
		sessionMicros(r.AuthTime), sessionMicros(r.CreatedAt), sessionMicros(r.ExpiresAt), sessionTTL(r.ExpiresAt, r.CreatedAt)).Err()
	if err != nil {
		return sessionErr("create remember-me", err)
	}
	return nil
}

// RotateRemember implements [session.Store].
func (st *sessionStore) RotateRemember(ctx context.Context, old, next [32]byte, now time.Time) (session.Remember, error) {
	cmd := st.s.runReplicated(ctx, sessionRotateRemember, []string{st.hashKey("r", old)},
		st.prefix, sessionHex(next), sessionMicros(now))
	err := cmd.Err()
	if errors.Is(err, redis.Nil) {
		return session.Remember{}, session.ErrNotFound
	}
	// A reuse whose family revocation no replica acknowledged is still a
	// reuse: it is reported as ErrReused (joined with ErrNotReplicated),
	// because a retry finds the family gone and the theft signal would be
	// lost. The reply is read despite the error for that.
	notReplicated, repErr := errors.Is(err, ErrNotReplicated), err
	if err != nil && !notReplicated {
		return session.Remember{}, sessionErr("rotate remember-me", err)
	}
	v, _ := cmd.Val().([]any)
	if len(v) != 6 {
		if notReplicated {
			return session.Remember{}, sessionErr("rotate remember-me", repErr)
		}
		return session.Remember{}, sessionErr("rotate remember-me", fmt.Errorf("unexpected reply of %d values", len(v)))
	}
	r := session.Remember{Hash: old, Family: sessionStr(v[1]), UserID: sessionStr(v[2])}
	for i, p := range []*time.Time{&r.AuthTime, &r.CreatedAt, &r.ExpiresAt} {
		if *p, err = sessionTime(v[3+i]); err != nil {
			return session.Remember{}, sessionErr("rotate remember-me", errors.New("malformed record"))
		}
	}
	switch {
	case sessionStr(v[0]) == "reused" && notReplicated:
		return r, errors.Join(session.ErrReused, sessionErr("rotate remember-me", repErr))
	case sessionStr(v[0]) == "reused":
		return r, session.ErrReused
	case notReplicated:
		return session.Remember{}, sessionErr("rotate remember-me", repErr)
	}
	return r, nil
}

// RevokeRemember implements [session.Store].
func (st *sessionStore) RevokeRemember(ctx context.Context, hash [32]byte) error {
	n, err := st.s.runReplicated(ctx, sessionRevokeRemember, []string{st.hashKey("r", hash)}, st.prefix).Int()
	if err != nil {
		return sessionErr("revoke remember-me", err)
	}
	if n == 0 {
		return session.ErrNotFound
	}
	return nil
}
