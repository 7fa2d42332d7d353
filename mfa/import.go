package mfa

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInvalidKey is returned by [ParseKeyURI] for a URI it does not accept
// and by [Manager.ImportTOTP] for a key outside the bounds it accepts. The
// wrapping error says which part ("secret", "algorithm", "digits",
// "period", or what is wrong with the URI) and never holds the secret.
var ErrInvalidKey = errors.New("mfa: unusable TOTP key")

// keyErr reports which parameter of a key is out of bounds.
func keyErr(param, reason string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidKey, param, reason)
}

// validKey checks an imported key against the bounds every stored factor
// keeps: a secret of 160 to 512 bits (RFC 4226 section 4 asks for at least
// 128 and recommends 160; more than 512 gains nothing over the largest
// HMAC block), SHA1, SHA256 or SHA512, 6 or 8 digits, and a period of 1 to
// 30 whole seconds (ASVS 6.5.5).
func validKey(k KeyURI) error {
	switch {
	case len(k.Secret) < defaultSecretBytes || len(k.Secret) > maxSecretBytes:
		return keyErr("secret", "must be 20 to 64 bytes (160 to 512 bits)")
	case !k.Algorithm.valid():
		return keyErr("algorithm", "must be SHA1, SHA256 or SHA512")
	case k.Digits != 6 && k.Digits != 8:
		return keyErr("digits", "must be 6 or 8")
	case k.Period < time.Second || k.Period > defaultTOTPPeriod || k.Period%time.Second != 0:
		return keyErr("period", "must be whole seconds from 1 s to 30 s")
	}
	return nil
}

// ImportTOTP stores an existing TOTP key (from [ParseKeyURI], or built by
// a host moving factors from another system) as userID's pending factor,
// replacing any pending enrollment. The secret is sealed exactly like a
// new one, and the factor verifies nothing until [Manager.ConfirmTOTP]
// sees a valid code from it within EnrollTimeout, so a host cannot
// activate a key the user's app does not hold. The issuer and account
// name of k are not used. It returns the time the pending factor expires,
// [ErrInvalidKey] (wrapped, naming the parameter) for a secret, algorithm, digit
// count or period out of bounds, [ErrAlreadyEnrolled] if the user has a
// confirmed TOTP factor, or a system error.
func (m *Manager) ImportTOTP(ctx context.Context, userID string, k KeyURI) (time.Time, error) {
	if err := validUserID(userID); err != nil {
		return time.Time{}, err
	}
	if err := validKey(k); err != nil {
		return time.Time{}, err
	}
	now := m.now()
	if err := m.putPending(ctx, userID, k.Secret, k.Algorithm, k.Digits, k.Period, now); err != nil {
		return time.Time{}, err
	}
	return now.Add(m.cfg.EnrollTimeout), nil
}

// putPending seals secret for userID and stores it as the pending TOTP
// enrollment, then reports the enrollment.
func (m *Manager) putPending(ctx context.Context, userID string, secret []byte, alg Algorithm, digits int, period time.Duration, now time.Time) error {
	sealed, err := m.sealer.Seal(ctx, secret, totpAD(userID))
	if err != nil {
		return fmt.Errorf("mfa: seal secret: %w", err)
	}
	rec := TOTPRecord{
		ID:        newID(),
		UserID:    userID,
		Secret:    sealed,
		Algorithm: alg,
		Digits:    digits,
		Period:    period,
		CreatedAt: now,
	}
	if err := m.store.PutPendingTOTP(ctx, rec); err != nil {
		if errors.Is(err, ErrAlreadyEnrolled) {
			return ErrAlreadyEnrolled
		}
		return storeErr("store enrollment", err)
	}
	m.emit(ctx, Event{Type: EventEnrolled, Factor: FactorTOTP, UserID: userID, Time: now})
	return nil
}
