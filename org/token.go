package org

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"time"
	"unicode/utf8"
)

// API token format: prefix, 43 base62 characters from crypto/rand (62^43 >
// 2^256), then 6 base62 characters of the CRC-32 (IEEE) of everything
// before them, as in GitHub's token format. The checksum lets a secret
// scanner (and ValidateToken, before any store access) tell a real token
// from a typo or a random string; it is not a secret.
const (
	tokenBodyLen = 43
	tokenSumLen  = 6
	base62       = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// TokenSpec describes a token to create.
type TokenSpec struct {
	Name string // shown in lists, at most 100 bytes
	// Permissions is the scope; each must be held by the creator (on the
	// whole tenant or through a grant). At use, a token may do only what
	// is in its scope and its creator may still do.
	Permissions []Permission
	// TTL is the lifetime; 0 means [Config.TokenTTL]. Above
	// [Config.MaxTokenTTL] is [ErrInvalid].
	TTL time.Duration
}

// crc32IEEE is the CRC-32 of s without converting it to a []byte.
func crc32IEEE(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

func appendSum(dst []byte, v uint32) []byte {
	var b [tokenSumLen]byte
	for i := tokenSumLen - 1; i >= 0; i-- {
		b[i] = base62[v%62]
		v /= 62
	}
	return append(dst, b[:]...)
}

func isBase62(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// wellFormed reports whether s has the token shape for prefix and a valid
// checksum. Its cost is bounded by the token length whatever s is.
func wellFormed(prefix, s string) bool {
	n := len(prefix) + tokenBodyLen
	if len(s) != n+tokenSumLen || s[:len(prefix)] != prefix {
		return false
	}
	for i := len(prefix); i < len(s); i++ {
		if !isBase62(s[i]) {
			return false
		}
	}
	v := crc32IEEE(s[:n])
	for i := len(s) - 1; i >= n; i-- {
		if s[i] != base62[v%62] {
			return false
		}
		v /= 62
	}
	return true
}

// ParseToken reports whether s is shaped like an API token with the given
// prefix and a correct checksum, without any store access. Secret
// scanners and hosts filtering input can use it; [Manager.ValidateToken]
// calls it first.
func ParseToken(prefix, s string) bool { return wellFormed(prefix, s) }

// CreateToken creates an API token for by in tenant and returns it (shown
// once: only its SHA-256 is stored) with its record. The scope must be a
// non-empty subset of what by holds ([ErrForbidden] otherwise).
func (m *Manager) CreateToken(ctx context.Context, by Actor, tenant string, spec TokenSpec) (string, Token, error) {
	if len(spec.Name) > 100 || !utf8.ValidString(spec.Name) || len(spec.Permissions) == 0 || spec.TTL < 0 || spec.TTL > m.cfg.MaxTokenTTL {
		return "", Token{}, fmt.Errorf("%w: token name, scope or lifetime", ErrInvalid)
	}
	scope, err := m.bits(spec.Permissions)
	if err != nil {
		return "", Token{}, err
	}
	e := Event{Type: EventTokenCreated, Tenant: tenant, Actor: by.User, IP: by.IP, User: by.User, Permissions: m.names(scope)}
	if tenant == "" || by.User == "" {
		return "", Token{}, fmt.Errorf("%w: empty tenant or actor", ErrInvalid)
	}
	s, err := m.fresh(ctx, tenant)
	if err != nil {
		return "", Token{}, err
	}
	a := s.users[by.User]
	if a == nil {
		return "", Token{}, m.deny(ctx, e, ErrForbidden)
	}
	held := a.wide
	for _, b := range a.res {
		held.or(b)
	}
	if !held.covers(scope) {
		return "", Token{}, m.deny(ctx, e, ErrForbidden)
	}
	ttl := spec.TTL
	if ttl == 0 {
		ttl = m.cfg.TokenTTL
	}
	buf := make([]byte, 0, len(m.cfg.TokenPrefix)+tokenBodyLen+tokenSumLen)
	buf = append(buf, m.cfg.TokenPrefix...)
	var rnd [64]byte
	for len(buf) < len(m.cfg.TokenPrefix)+tokenBodyLen {
		if err := m.random(rnd[:]); err != nil {
			return "", Token{}, err
		}
		for _, c := range rnd {
			// 248 = 4*62: rejection sampling keeps characters uniform.
			if c < 248 && len(buf) < len(m.cfg.TokenPrefix)+tokenBodyLen {
				buf = append(buf, base62[c%62])
			}
		}
	}
	buf = appendSum(buf, crc32IEEE(string(buf)))
	token := string(buf)
	id, err := m.newID()
	if err != nil {
		return "", Token{}, err
	}
	now := m.now()
	t := Token{ID: id, Tenant: tenant, User: by.User, Name: spec.Name, Hint: token[:len(m.cfg.TokenPrefix)+4],
		Hash: sha256.Sum256(buf), Permissions: m.names(scope), Created: now, Expires: now.Add(ttl)}
	if err := m.st.CreateToken(ctx, t); err != nil {
		return "", Token{}, m.wrap(err)
	}
	e.ID = id
	m.emit(ctx, e)
	return token, t, nil
}

// ValidateToken checks an API token and returns the [Principal] it acts
// as: its creator in its tenant, limited to its scope. A malformed token
// (shape or checksum) is refused before any store access; malformed,
// unknown, expired and revoked tokens all give [ErrInvalidToken]; a store
// error is returned wrapped, and denies. The last use time and ip are
// recorded at most once per [Config.TokenTouchInterval].
func (m *Manager) ValidateToken(ctx context.Context, token, ip string) (Principal, error) {
	if !wellFormed(m.cfg.TokenPrefix, token) {
		return Principal{}, ErrInvalidToken
	}
	// A well-formed token is at most 66 bytes: hashing it from a stack
	// buffer saves the heap copy []byte(token) would make.
	var buf [96]byte
	sum := sha256.Sum256(append(buf[:0], token...))
	now := m.now()
	t, err := m.st.UseToken(ctx, sum, now, ip, now.Add(-m.cfg.TokenTouchInterval))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return Principal{}, ErrInvalidToken
		}
		return Principal{}, fmt.Errorf("org: store: %w", err)
	}
	if !now.Before(t.Expires) {
		return Principal{}, ErrInvalidToken
	}
	p := Principal{Tenant: t.Tenant, User: t.User, TokenID: t.ID}
	for _, perm := range t.Permissions {
		if i, ok := m.index[perm]; ok {
			p.scope.set(i)
		}
	}
	return p, nil
}

// Tokens lists tenant's API tokens: every member's for a holder of
// [PermMembersManage], otherwise by's own.
func (m *Manager) Tokens(ctx context.Context, by Actor, tenant string) ([]Token, error) {
	user, err := m.tokenScope(ctx, by, tenant)
	if err != nil {
		return nil, err
	}
	out, err := m.st.Tokens(ctx, tenant, user)
	if err != nil {
		return nil, m.wrap(err)
	}
	return out, nil
}

// tokenScope returns "" when by manages members, else by.User.
func (m *Manager) tokenScope(ctx context.Context, by Actor, tenant string) (string, error) {
	if tenant == "" || by.User == "" {
		return "", fmt.Errorf("%w: empty tenant or actor", ErrInvalid)
	}
	s, err := m.fresh(ctx, tenant)
	if err != nil {
		return "", err
	}
	a := s.users[by.User]
	switch {
	case a == nil:
		return "", ErrForbidden
	case a.wide.has(m.index[PermMembersManage]):
		return "", nil
	default:
		return by.User, nil
	}
}

// RevokeToken revokes token id of tenant: one's own, or anyone's with
// [PermMembersManage]. It takes effect at the token's next use.
func (m *Manager) RevokeToken(ctx context.Context, by Actor, tenant, id string) error {
	e := Event{Type: EventTokenRevoked, Tenant: tenant, Actor: by.User, IP: by.IP, ID: id}
	user, err := m.tokenScope(ctx, by, tenant)
	if err != nil {
		if errors.Is(err, ErrForbidden) {
			return m.deny(ctx, e, err)
		}
		return err
	}
	ts, err := m.st.Tokens(ctx, tenant, user)
	if err != nil {
		return m.wrap(err)
	}
	i := slices.IndexFunc(ts, func(t Token) bool { return t.ID == id })
	if i < 0 {
		return fmt.Errorf("%w: token", ErrNotFound)
	}
	e.User = ts[i].User
	if err := m.st.RevokeToken(ctx, tenant, id); err != nil {
		return m.wrap(err)
	}
	m.emit(ctx, e)
	return nil
}
