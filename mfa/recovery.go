package mfa

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Recovery codes look like "7k3m9-qx2vd-h8a1c-0zt5w-e4npr": 25 symbols of
// Crockford's base32 alphabet (no i, l, o, u) in five groups of five. Each
// symbol carries 5 bits, so a code carries 125 bits, above the 112 bits at
// which ASVS 6.5.2 allows a plain hash: codes are stored as SHA-256, with
// no salt and no slow hash, which also lets the store find a code by its
// hash. Users may type them in either case, with or without the dashes;
// anything else is refused before any lookup (authboss #351 accepted any
// string).
const (
	recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"
	recoveryGroups   = 5
	recoveryGroupLen = 5
	recoverySymbols  = recoveryGroups * recoveryGroupLen
)

var recoveryIndex = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(recoveryAlphabet); i++ {
		c := recoveryAlphabet[i]
		t[c] = int8(i)
		if c >= 'a' && c <= 'z' {
			t[c-'a'+'A'] = int8(i)
		}
	}
	return t
}()

func newRecoveryCode(r io.Reader) (string, error) {
	var raw [recoverySymbols]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("mfa: random recovery code: %w", err)
	}
	var b strings.Builder
	for i, x := range raw {
		if i > 0 && i%recoveryGroupLen == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(recoveryAlphabet[x&31]) // 256 is a multiple of 32: uniform
	}
	return b.String(), nil
}

// parseRecoveryCode returns the canonical form (25 lower-case symbols) of
// a recovery code: surrounding ASCII spaces are ignored, the dashes must
// be all present (at the group boundaries) or all absent, and every symbol
// must be in the alphabet.
func parseRecoveryCode(s string) (string, bool) {
	if len(s) > maxCodeInput {
		return "", false
	}
	s = strings.Trim(s, " ")
	dashed := len(s) == recoverySymbols+recoveryGroups-1
	if !dashed && len(s) != recoverySymbols {
		return "", false
	}
	var out [recoverySymbols]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if dashed && i%(recoveryGroupLen+1) == recoveryGroupLen {
			if c != '-' {
				return "", false
			}
			continue
		}
		v := recoveryIndex[c]
		if v < 0 {
			return "", false
		}
		out[n] = recoveryAlphabet[v]
		n++
	}
	return string(out[:]), true
}

func recoveryHash(canonical string) []byte {
	h := sha256.Sum256([]byte(canonical))
	return h[:]
}

// GenerateRecoveryCodes creates a new set of RecoveryCodes codes for the
// user, replacing (and so invalidating) any earlier set, and returns them
// in clear: show them once, never store or log them. Callers should
// re-authenticate the user first.
func (m *Manager) GenerateRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	if err := validUserID(userID); err != nil {
		return nil, err
	}
	codes := make([]string, m.cfg.RecoveryCodes)
	hashes := make([][]byte, m.cfg.RecoveryCodes)
	for i := range codes {
		c, err := newRecoveryCode(m.cfg.Rand)
		if err != nil {
			return nil, err
		}
		canon, _ := parseRecoveryCode(c)
		codes[i], hashes[i] = c, recoveryHash(canon)
	}
	now := m.now()
	if err := m.store.ReplaceRecoveryCodes(ctx, userID, hashes, now); err != nil {
		return nil, storeErr("store recovery codes", err)
	}
	m.emit(ctx, Event{Type: EventEnrolled, Factor: FactorRecovery, UserID: userID, Remaining: len(codes), Time: now})
	return codes, nil
}

// UseRecoveryCode consumes one of the user's recovery codes and returns
// how many remain. It returns [ErrInvalidCode] for a malformed code or one
// that is not (or no longer) in the user's set, or a system error: every
// store failure denies. Recovery codes carry 125 bits, so guessing is
// futile and there is no lockout, which would only let an attacker block
// the owner's last way in; failures are still reported to the hook.
func (m *Manager) UseRecoveryCode(ctx context.Context, userID, code string) (remaining int, err error) {
	if err := validUserID(userID); err != nil {
		return 0, err
	}
	now := m.now()
	ev := Event{Factor: FactorRecovery, UserID: userID, Time: now}
	canon, ok := parseRecoveryCode(code)
	if !ok {
		ev.Type, ev.Reason = EventFailed, "malformed"
		m.emit(ctx, ev)
		return 0, ErrInvalidCode
	}
	n, err := m.store.UseRecoveryCode(ctx, userID, recoveryHash(canon))
	if errors.Is(err, ErrNotFound) {
		ev.Type, ev.Reason = EventFailed, "invalid"
		m.emit(ctx, ev)
		return 0, ErrInvalidCode
	}
	if err != nil {
		return 0, storeErr("use recovery code", err)
	}
	ev.Type, ev.Remaining = EventVerified, n
	m.emit(ctx, ev)
	return n, nil
}
