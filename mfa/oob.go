package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Message is an emailed code for a [Sender] to deliver. It is the only
// place a code exists in clear after [Manager.SendCode] returns.
type Message struct {
	To        string // the address given to SendCode
	UserID    string
	Purpose   Purpose
	Code      string
	ExpiresAt time.Time
}

// Sender delivers emailed codes; the host implements it (or uses
// [SMTPSender], or [ConsoleSender] in development). Send must not log the
// code. It is called synchronously from [Manager.SendCode].
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// ConsoleSender writes each message, code included, to W, or to standard
// error if W is nil. It is for development only: never use it in
// production, where codes must not reach logs. It is safe for concurrent
// use.
type ConsoleSender struct {
	W  io.Writer
	mu sync.Mutex
}

// Send writes one line describing msg.
func (s *ConsoleSender) Send(_ context.Context, msg Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.W
	if w == nil {
		w = os.Stderr
	}
	_, err := fmt.Fprintf(w, "mfa: code for %q (%s), to %q: %s, valid until %s\n",
		msg.UserID, msg.Purpose, msg.To, msg.Code, msg.ExpiresAt.Format(time.RFC3339))
	return err
}

// randomDigits returns a uniformly random string of n decimal digits.
func randomDigits(r io.Reader, n int) (string, error) {
	limit := uint32(0xFFFFFFFF) - uint32(0xFFFFFFFF)%pow10[n] // rejection bound
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return "", fmt.Errorf("mfa: random code: %w", err)
		}
		v := binary.BigEndian.Uint32(b[:])
		if v < limit {
			return fmt.Sprintf("%0*d", n, v%pow10[n]), nil
		}
	}
}

// codeHash binds a code to its salt, user and purpose. Length prefixes
// keep the fields apart.
func (m *Manager) codeHash(salt []byte, userID string, p Purpose, code string) []byte {
	h := hmac.New(sha256.New, m.cfg.CodePepper)
	for _, f := range [][]byte{salt, []byte(userID), []byte(p), []byte(code)} {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(f)))
		h.Write(l[:])
		h.Write(f)
	}
	return h.Sum(nil)
}

// SendCode generates a code for userID and purpose, stores its hash
// (replacing any earlier code for them) and hands it to Config.Sender for
// delivery to address. It returns [ErrThrottled] if the last code for the
// same user and purpose was sent less than ResendInterval ago,
// [ErrNoSender] without a Sender, and [ErrInvalidInput] for an empty
// address or an invalid purpose. If sending fails the code is withdrawn.
func (m *Manager) SendCode(ctx context.Context, userID, address string, purpose Purpose) error {
	if err := validUserID(userID); err != nil {
		return err
	}
	if !purpose.valid() || address == "" || len(address) > 320 {
		return fmt.Errorf("%w: purpose or address", ErrInvalidInput)
	}
	if m.cfg.Sender == nil {
		return ErrNoSender
	}
	now := m.now()
	code, err := randomDigits(m.cfg.Rand, m.cfg.CodeDigits)
	if err != nil {
		return err
	}
	salt := make([]byte, 16)
	if _, err := io.ReadFull(m.cfg.Rand, salt); err != nil {
		return fmt.Errorf("mfa: random salt: %w", err)
	}
	rec := OOBRecord{
		ID:        uuid.Must(uuid.NewV7()).String(),
		UserID:    userID,
		Purpose:   purpose,
		Salt:      salt,
		Hash:      m.codeHash(salt, userID, purpose, code),
		SentAt:    now,
		ExpiresAt: now.Add(m.cfg.CodeTTL),
	}
	if err := m.store.PutOOB(ctx, rec, m.cfg.ResendInterval); err != nil {
		if errors.Is(err, ErrThrottled) {
			return ErrThrottled
		}
		return storeErr("store code", err)
	}
	msg := Message{To: address, UserID: userID, Purpose: purpose, Code: code, ExpiresAt: rec.ExpiresAt}
	if err := m.cfg.Sender.Send(ctx, msg); err != nil {
		// Withdraw the undelivered code so the user can ask again at once.
		_, _ = m.store.DeleteOOB(context.WithoutCancel(ctx), userID, purpose, rec.ID)
		return fmt.Errorf("mfa: send code: %w", err)
	}
	m.emit(ctx, Event{Type: EventCodeSent, Factor: FactorEmail, UserID: userID, Purpose: purpose, Time: now})
	return nil
}

// VerifyCode checks an emailed code for userID and purpose. It returns nil
// once per code: the code is then consumed. It returns [ErrNoCode] if no
// live code exists (never sent, expired, used, or invalidated after
// CodeMaxAttempts wrong tries), [ErrInvalidCode] for a wrong or malformed
// code (every try counts, and the last allowed wrong try invalidates the
// code; it wraps a [*LockedError] when it used up the account's
// MaxAttempts), a [*LockedError] while the emailed-code factor is locked,
// [ErrReplay] if a concurrent call consumed the same code first, or a
// system error: every store failure denies. The account's MaxAttempts
// budget is not reset by a resend, only by a success or the lock's end.
func (m *Manager) VerifyCode(ctx context.Context, userID string, purpose Purpose, code string) error {
	if err := validUserID(userID); err != nil {
		return err
	}
	if !purpose.valid() {
		return fmt.Errorf("%w: purpose", ErrInvalidInput)
	}
	now := m.now()
	ev := Event{Factor: FactorEmail, UserID: userID, Purpose: purpose, Time: now}
	rec, err := m.store.GetOOB(ctx, userID, purpose, now)
	if errors.Is(err, ErrNotFound) || (err == nil && !rec.ExpiresAt.After(now)) {
		ev.Type, ev.Reason = EventFailed, "no_code"
		m.emit(ctx, ev)
		return ErrNoCode
	}
	if err != nil {
		return storeErr("get code", err)
	}
	// Each code allows CodeMaxAttempts tries, counted under its own id
	// until it expires; a used-up code stays (so the resend throttle
	// still applies) but never verifies.
	tries, _, err := m.store.AddCount(ctx, codeKey(rec.ID), 1, rec.ExpiresAt.Sub(now), now)
	if err != nil {
		return storeErr("count code attempt", err)
	}
	if tries > int64(m.cfg.CodeMaxAttempts) {
		ev.Type, ev.Reason = EventFailed, "no_code"
		m.emit(ctx, ev)
		return ErrNoCode
	}
	// The account's budget of wrong codes (MaxAttempts, then a lock) outlives
	// each code: a resend replaces the code and its attempts, not this
	// counter, so sending a code a minute does not buy 5 fresh guesses a
	// minute (NIST SP 800-63B section 5.2.2).
	a, err := m.takeAttempt(ctx, userID, FactorEmail, now)
	if err != nil {
		return err
	}
	ok := false
	if c, valid := normalizeDigits(code); valid {
		got := m.codeHash(rec.Salt, userID, purpose, c)
		ok = subtle.ConstantTimeCompare(got, rec.Hash) == 1
	}
	if !ok {
		if !a.lockedUntil.IsZero() {
			ev.Type, ev.Reason, ev.LockedUntil = EventLocked, "invalid", a.lockedUntil
			m.emit(ctx, ev)
			return fmt.Errorf("%w (%w)", ErrInvalidCode, &LockedError{Factor: FactorEmail, Until: a.lockedUntil})
		}
		ev.Type, ev.Reason, ev.Remaining = EventFailed, "invalid", min(max(m.cfg.CodeMaxAttempts-int(tries), 0), a.remaining)
		if ev.Remaining == 0 {
			ev.Type = EventLocked
		}
		m.emit(ctx, ev)
		return ErrInvalidCode
	}
	consumed, err := m.store.DeleteOOB(ctx, userID, purpose, rec.ID)
	if err != nil {
		return storeErr("consume code", err)
	}
	if !consumed {
		ev.Type = EventReplayed
		m.emit(ctx, ev)
		return ErrReplay
	}
	if err := m.succeeded(ctx, userID, FactorEmail, a); err != nil {
		return err
	}
	// The used code's tries no longer matter: drop them now rather than
	// at the code's expiry.
	if err := m.store.ResetCount(ctx, codeKey(rec.ID)); err != nil {
		return storeErr("reset code attempts", err)
	}
	ev.Type = EventVerified
	m.emit(ctx, ev)
	return nil
}

// normalizeDigits accepts 6 to 8 ASCII digits, ignoring ASCII spaces, and
// returns the digits alone.
func normalizeDigits(s string) (string, bool) {
	if len(s) > maxCodeInput {
		return "", false
	}
	var b [8]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ':
		case c >= '0' && c <= '9' && n < len(b):
			b[n] = c
			n++
		default:
			return "", false
		}
	}
	if n < 6 {
		return "", false
	}
	return string(b[:n]), true
}
