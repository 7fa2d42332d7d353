package mfa

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Sealer seals and opens secrets at rest. keyring's *Keyring satisfies it.
// Open must fail if the ciphertext or the associated data was altered.
type Sealer interface {
	Seal(ctx context.Context, plaintext, associatedData []byte) ([]byte, error)
	Open(ctx context.Context, ciphertext, associatedData []byte) ([]byte, error)
}

// Errors returned by [Manager] methods and stores. Callers compare with
// [errors.Is]; any other error is a system failure (a store, sealer or
// sender error) and means the request was denied.
var (
	// ErrNotFound is the stores' "no such record" (missing or expired).
	ErrNotFound = errors.New("mfa: not found")
	// ErrAlreadyEnrolled is returned by [Manager.EnrollTOTP] (and
	// [TOTPStore.PutPendingTOTP]) when the user has a confirmed TOTP
	// factor, and by [Manager.StartEmailFactor] when emailed codes are
	// already on; remove the factor first.
	ErrAlreadyEnrolled = errors.New("mfa: already enrolled")
	// ErrNotEnrolled is returned by the TOTP methods when the user has no
	// confirmed factor ([Manager.VerifyTOTP]) or no pending enrollment
	// ([Manager.ConfirmTOTP]; also when it timed out), and by
	// [Manager.SendLoginCode], [Manager.VerifyLoginCode] and
	// [Manager.Remove] when the factor is not on.
	ErrNotEnrolled = errors.New("mfa: not enrolled")
	// ErrInvalidCode is returned when a code is wrong or malformed.
	ErrInvalidCode = errors.New("mfa: invalid code")
	// ErrReplay is returned when a valid code (or TOTP time step) was
	// already used.
	ErrReplay = errors.New("mfa: code already used")
	// ErrLocked is matched by the [*LockedError] returned when a factor is
	// locked after too many failed attempts.
	ErrLocked = errors.New("mfa: too many failed attempts")
	// ErrNoCode is returned by [Manager.VerifyCode] when no live emailed
	// code exists for the user and purpose: never sent, expired, used, or
	// invalidated after too many attempts. The user should ask for a new one.
	ErrNoCode = errors.New("mfa: no valid code; request a new one")
	// ErrThrottled is returned by [Manager.SendCode] when a code for the
	// same user and purpose was sent too recently.
	ErrThrottled = errors.New("mfa: resend throttled")
	// ErrNoSender is returned by [Manager.SendCode] when Config.Sender is nil.
	ErrNoSender = errors.New("mfa: no sender configured")
	// ErrInvalidInput is returned for an unusable user id, account name,
	// purpose or address (never for a code, which gives ErrInvalidCode).
	ErrInvalidInput = errors.New("mfa: invalid input")
)

// LockedError reports a locked factor and when it unlocks. It matches
// [ErrLocked] with errors.Is.
type LockedError struct {
	Factor Factor
	Until  time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("mfa: %s locked after too many failed attempts until %s", e.Factor, e.Until.Format(time.RFC3339))
}

// Is reports whether target is [ErrLocked].
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Factor names an authentication factor in events and attempt counters.
type Factor string

// Factors.
const (
	FactorTOTP     Factor = "totp"
	FactorEmail    Factor = "email"
	FactorRecovery Factor = "recovery"
)

// Purpose binds an emailed code to what it authorizes; a code sent for one
// purpose never verifies for another. Hosts may define their own: 1 to 64
// characters from [a-z0-9_.-].
type Purpose string

// Purposes mfa itself uses; hosts name their own (for example
// "email_change" to confirm a new address).
const (
	// PurposeLogin is the sign-in code of [Manager.SendLoginCode].
	PurposeLogin Purpose = "login"
	// PurposeEmailFactor is the code that confirms an address before
	// emailed codes become a second factor ([Manager.StartEmailFactor]).
	PurposeEmailFactor Purpose = "email_factor"
)

var purposeRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

func (p Purpose) valid() bool { return purposeRE.MatchString(string(p)) }

// EventType is what an [Event] reports.
type EventType string

// Event types, the values of [Event.Type]: "mfa." and a verb, as in every
// Bulwark package's hook.
const (
	EventEnrolled  EventType = "mfa.enrolled"  // TOTP or emailed-code enrollment started; recovery codes (re)generated
	EventConfirmed EventType = "mfa.confirmed" // TOTP or emailed-code enrollment confirmed with a valid code
	EventRemoved   EventType = "mfa.removed"   // factor removed
	EventCodeSent  EventType = "mfa.code_sent" // emailed code sent
	EventVerified  EventType = "mfa.verified"  // a code verified
	EventFailed    EventType = "mfa.failed"    // a code was refused (see Reason)
	EventLocked    EventType = "mfa.locked"    // too many failures: factor locked or code invalidated
	EventReplayed  EventType = "mfa.replayed"  // a valid but already used code or time step
)

// Event is reported to Config.Hook. It never carries a code, a secret or a
// hash of either.
type Event struct {
	Type    EventType
	Factor  Factor
	UserID  string
	Purpose Purpose // emailed codes only
	// Reason, on failures: "invalid", "malformed", "locked", "no_code";
	// on lockouts also "replay" (a replayed TOTP code used the last attempt).
	Reason string
	// Remaining is the number of attempts left before a lock (failures),
	// or of recovery codes left (recovery successes and enrollments).
	Remaining   int
	LockedUntil time.Time // lockouts, and failures while locked
	Time        time.Time
}

// Config configures a [Manager]. The zero value means every default.
type Config struct {
	// Issuer names the service in authenticator apps. Default "Bulwark";
	// hosts should set their product name. It must not contain ':'.
	Issuer string

	// TOTPAlgorithm is the HMAC hash for new enrollments. Default SHA1:
	// RFC 6238's default and the only one every authenticator app honours
	// (several ignore the algorithm parameter and silently use SHA-1).
	TOTPAlgorithm Algorithm
	// TOTPDigits is 6 (default, RFC 6238 and every app) or 8.
	TOTPDigits int
	// TOTPPeriod is the time step, whole seconds from 1 s to 30 s.
	// Default 30 s: RFC 6238 section 5.2, and ASVS 6.5.5 caps TOTP
	// validity at 30 s.
	TOTPPeriod time.Duration
	// TOTPSkew is how many steps before and after the current one are
	// accepted. 0 means the default, 1: a code is then accepted for about
	// 90 s (its own 30 s step and one either side). The reason: RFC 6238
	// section 5.2 recommends allowing one step of delay, phone clocks
	// drift, and a code read at the end of its step is often typed in the
	// next; refusing those makes users retry or give up on TOTP. What keeps
	// the wider window safe is that each code works once (an accepted
	// step and every earlier one are refused afterwards), and that wrong
	// codes are limited by MaxAttempts. ASVS 6.5.5 reads "a maximum
	// lifetime of 30 seconds"; hosts that must meet it literally set any
	// negative value (-1), which accepts a code during its own step only
	// (at most 30 s with the default period). At most 2.
	TOTPSkew int
	// TOTPSecretBytes is the secret length for new enrollments. Default
	// and minimum 20 bytes (160 bits, RFC 4226 section 4). At most 64.
	TOTPSecretBytes int
	// EnrollTimeout is how long a pending TOTP enrollment can be
	// confirmed, and how long EnrollTOTP keeps showing its secret. Default
	// 10 minutes: time to scan a code and type one or two, while a secret
	// shown on screen does not stay usable for long.
	EnrollTimeout time.Duration
	// QRCodeSize is the width and height of the enrollment QR code in
	// pixels. Default 256.
	QRCodeSize int

	// MaxAttempts is how many wrong TOTP codes lock the TOTP factor, and
	// how many wrong emailed codes (across resends) lock the emailed-code
	// factor, each for LockoutDuration. Default 5.
	// With 6 digits and skew 1, 5 attempts give an attacker a 1.5e-5
	// chance per lockout period. When the lock expires the count starts
	// again, so this is a rate limit (at most 480 guesses a day at the
	// defaults), not the absolute cap of NIST SP 800-63B section 5.2.2 (no
	// more than 100 consecutive failures on an account): a host that needs
	// that cap counts EventLocked events and disables the factor. Wrong
	// codes that lead to no lock are forgotten 24 hours after the first of
	// them. The counting is done here over the store's [CounterStore], so
	// every back end applies the same rule.
	MaxAttempts int
	// LockoutDuration is how long a locked factor stays locked. Default 15
	// minutes.
	LockoutDuration time.Duration

	// CodeDigits is the length of emailed codes, 6 (default) to 8. Six
	// digits give log2(10^6) = 19.9 bits, which ASVS 6.5.4 counts as its
	// 20-bit minimum ("about 6 digits"); 7 digits give 23 bits.
	CodeDigits int
	// CodeTTL is how long an emailed code is valid. Default and maximum 10
	// minutes (ASVS 6.5.5).
	CodeTTL time.Duration
	// CodeMaxAttempts is how many attempts an emailed code allows before
	// it is invalidated. Default 5 (ASVS 6.6.3: rate-limit OOB codes).
	CodeMaxAttempts int
	// ResendInterval is the minimum time between two codes for the same
	// user and purpose. Default 60 s. Each resend replaces the code and its
	// CodeMaxAttempts, but not the account's MaxAttempts budget.
	ResendInterval time.Duration
	// CodePepper, if set, keys the HMAC-SHA-256 that hashes emailed codes
	// (keep it outside the database). Optional; see the package doc.
	CodePepper []byte
	// Sender delivers emailed codes. Without one, SendCode returns
	// [ErrNoSender].
	Sender Sender

	// RecoveryCodes is how many recovery codes a set holds. Default 10.
	RecoveryCodes int

	// Hook, if set, receives events synchronously; it must be quick and
	// safe for concurrent use. It never receives codes or secrets.
	Hook func(context.Context, Event)
	// Now is the clock. Default time.Now. ASVS 6.5.8: TOTPs are checked
	// against this server clock, never a client-supplied time.
	Now func() time.Time
	// Rand is the source of secrets and codes. Default crypto/rand.Reader.
	Rand io.Reader
}

const (
	defaultIssuer        = "Bulwark"
	defaultTOTPPeriod    = 30 * time.Second // RFC 6238 §5.2, ASVS 6.5.5
	defaultSecretBytes   = 20               // 160 bits, RFC 4226 §4
	maxSecretBytes       = 64
	defaultEnrollTimeout = 10 * time.Minute
	defaultQRCodeSize    = 256
	defaultMaxAttempts   = 5
	defaultLockout       = 15 * time.Minute
	defaultCodeDigits    = 6                // ~20 bits, ASVS 6.5.4
	maxCodeTTL           = 10 * time.Minute // ASVS 6.5.5
	defaultCodeAttempts  = 5                // ASVS 6.6.3
	defaultResend        = time.Minute
	defaultRecoveryCodes = 10
	maxUserIDLen         = 256
)

// withDefaults fills in the defaults, in this one place, and rejects
// invalid settings.
func (c Config) withDefaults() (Config, error) {
	if c.Issuer == "" {
		c.Issuer = defaultIssuer
	}
	if c.TOTPAlgorithm == "" {
		c.TOTPAlgorithm = SHA1
	}
	if c.TOTPDigits == 0 {
		c.TOTPDigits = 6
	}
	if c.TOTPPeriod == 0 {
		c.TOTPPeriod = defaultTOTPPeriod
	}
	switch {
	case c.TOTPSkew == 0:
		c.TOTPSkew = 1
	case c.TOTPSkew < 0:
		c.TOTPSkew = 0
	}
	if c.TOTPSecretBytes == 0 {
		c.TOTPSecretBytes = defaultSecretBytes
	}
	if c.EnrollTimeout == 0 {
		c.EnrollTimeout = defaultEnrollTimeout
	}
	if c.QRCodeSize == 0 {
		c.QRCodeSize = defaultQRCodeSize
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.LockoutDuration == 0 {
		c.LockoutDuration = defaultLockout
	}
	if c.CodeDigits == 0 {
		c.CodeDigits = defaultCodeDigits
	}
	if c.CodeTTL == 0 {
		c.CodeTTL = maxCodeTTL
	}
	if c.CodeMaxAttempts == 0 {
		c.CodeMaxAttempts = defaultCodeAttempts
	}
	if c.ResendInterval == 0 {
		c.ResendInterval = defaultResend
	}
	if c.RecoveryCodes == 0 {
		c.RecoveryCodes = defaultRecoveryCodes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	switch {
	case !c.TOTPAlgorithm.valid():
		return c, fmt.Errorf("%w: Config.TOTPAlgorithm must be SHA1, SHA256 or SHA512", errInvalidConfig)
	case c.TOTPDigits != 6 && c.TOTPDigits != 8:
		return c, fmt.Errorf("%w: Config.TOTPDigits must be 6 or 8", errInvalidConfig)
	case c.TOTPPeriod < time.Second || c.TOTPPeriod > defaultTOTPPeriod || c.TOTPPeriod%time.Second != 0:
		return c, fmt.Errorf("%w: Config.TOTPPeriod must be whole seconds from 1s to 30s", errInvalidConfig)
	case c.TOTPSkew > 2:
		return c, fmt.Errorf("%w: Config.TOTPSkew must be at most 2", errInvalidConfig)
	case c.TOTPSecretBytes < defaultSecretBytes || c.TOTPSecretBytes > maxSecretBytes:
		return c, fmt.Errorf("%w: Config.TOTPSecretBytes must be 20 to 64", errInvalidConfig)
	case c.CodeDigits < 6 || c.CodeDigits > 8:
		return c, fmt.Errorf("%w: Config.CodeDigits must be 6 to 8", errInvalidConfig)
	case c.CodeTTL < 0 || c.CodeTTL > maxCodeTTL:
		return c, fmt.Errorf("%w: Config.CodeTTL must be at most 10 minutes", errInvalidConfig)
	case c.MaxAttempts < 0 || c.CodeMaxAttempts < 0 || c.RecoveryCodes < 0 || c.QRCodeSize < 0 ||
		c.LockoutDuration < 0 || c.ResendInterval < 0 || c.EnrollTimeout < 0:
		return c, fmt.Errorf("%w: negative Config value", errInvalidConfig)
	case validLabel(c.Issuer) != nil:
		return c, fmt.Errorf("%w: Config.Issuer must be printable and contain no ':'", errInvalidConfig)
	}
	return c, nil
}

// Manager enrolls and verifies second factors. It is safe for concurrent
// use, and several Managers (in several processes) may share one [Store]:
// every single-use and attempt rule is applied atomically by the store.
type Manager struct {
	store  Store
	sealer Sealer
	cfg    Config
}

// New returns a Manager over store that seals TOTP secrets with sealer
// (the sealer is an argument rather than a Config field because there is
// no safe default for it). A zero cfg means every default. New returns an
// error if store or sealer is nil, a [Stores] has a nil part, or cfg holds
// an invalid setting.
func New(store Store, sealer Sealer, cfg Config) (*Manager, error) {
	if store == nil {
		return nil, errors.New("mfa: New with a nil Store")
	}
	if s, ok := store.(Stores); ok && (s.TOTPStore == nil || s.StepStore == nil ||
		s.CounterStore == nil || s.OOBStore == nil || s.RecoveryStore == nil || s.EmailFactorStore == nil) {
		return nil, errors.New("mfa: New with a Stores that has a nil part")
	}
	if sealer == nil {
		return nil, errors.New("mfa: New with a nil Sealer")
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Manager{store: store, sealer: sealer, cfg: c}, nil
}

// errInvalidConfig prefixes New's configuration errors.
var errInvalidConfig = errors.New("mfa: invalid setting")

func (m *Manager) now() time.Time { return m.cfg.Now().UTC() }

func (m *Manager) emit(ctx context.Context, e Event) {
	if m.cfg.Hook == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = m.now()
	}
	m.cfg.Hook(ctx, e)
}

func validUserID(userID string) error {
	if userID == "" || len(userID) > maxUserIDLen {
		return fmt.Errorf("%w: user id must be 1 to %d bytes", ErrInvalidInput, maxUserIDLen)
	}
	return nil
}

// storeErr wraps a system failure from a store.
func storeErr(op string, err error) error {
	return fmt.Errorf("mfa: %s: %w", op, err)
}

// attempt is the outcome of takeAttempt for an allowed attempt.
type attempt struct {
	key string // the attempts counter's key, for the reset at a success
	// remaining is how many further attempts are allowed before the lock.
	remaining int
	// lockedUntil is set when this was the last allowed attempt: it locked
	// the factor in advance, and a success lifts the lock.
	lockedUntil time.Time
}

// failureWindow is how long wrong codes are remembered when no lock
// follows: failures are forgotten a day after the first of them (or at a
// success, a removal or a lock), so a few typos a week never add up to a
// lock, while guessing stays bounded by MaxAttempts a day at most.
const failureWindow = 24 * time.Hour

// Counter keys. User ids are at most 256 bytes, so keys stay under the
// CounterStore's 512; factors and purposes hold no ':'.
func attemptsKey(f Factor, userID string) string { return "mfa:attempts:" + string(f) + ":" + userID }
func lockKey(f Factor, userID string) string     { return "mfa:lock:" + string(f) + ":" + userID }
func codeKey(id string) string                   { return "mfa:code:" + id }

// takeAttempt takes one attempt for a factor before a code is checked,
// and returns a *LockedError if the factor is locked. The lockout
// arithmetic lives here, once, over two counters of the [CounterStore]:
// the attempts (reset when a lock is set, and at a success) and the lock
// (one window of LockoutDuration). With MaxAttempts L:
//
//	c = add 1 to attempts
//	c <  L: allowed, unless a lock is live (set by a concurrent attempt)
//	c == L: add 1 to lock, reset attempts; allowed if this created the
//	        lock: the last attempt, which locks in advance (a success
//	        lifts it); denied if a lock was live already
//	c >  L: denied (the L-th attempt is setting the lock); if no lock is
//	        live although the attempts began over LockoutDuration ago,
//	        the L-th attempt failed to set it: set it now and reset
//
// Each count is atomic in the store, so concurrent attempts on any number
// of instances never check more than L codes between two successes or
// lock expiries: the counts 1..L-1 go to distinct attempts, only the one
// that creates the lock may be the L-th, a lock is always set before the
// attempts are reset, and an attempt counted after a reset sees that lock.
// Refused attempts never extend a lock.
func (m *Manager) takeAttempt(ctx context.Context, userID string, f Factor, now time.Time) (attempt, error) {
	limit, ak, lk := int64(m.cfg.MaxAttempts), attemptsKey(f, userID), lockKey(f, userID)
	window, lockout := max(failureWindow, m.cfg.LockoutDuration), m.cfg.LockoutDuration
	c, akExpires, err := m.store.AddCount(ctx, ak, 1, window, now)
	if err != nil {
		return attempt{}, storeErr("count attempt", err)
	}
	lock := func() (int64, time.Time, error) {
		n, until, err := m.store.AddCount(ctx, lk, 1, lockout, now)
		if err == nil {
			err = m.store.ResetCount(ctx, ak) // the count starts again after the lock
		}
		return n, until, err
	}
	var locks int64
	var until time.Time
	switch c {
	case limit:
		locks, until, err = lock()
		if err == nil && locks == 1 {
			return attempt{key: ak, lockedUntil: until}, nil
		}
	default:
		locks, until, err = m.store.AddCount(ctx, lk, 0, lockout, now)
		if err == nil && locks == 0 {
			if c < limit {
				return attempt{key: ak, remaining: int(limit - c)}, nil
			}
			until = now.Add(lockout)
			if !now.Before(akExpires.Add(-window).Add(lockout)) {
				_, until, err = lock()
			}
		}
	}
	if err != nil {
		return attempt{}, storeErr("lock", err)
	}
	m.emit(ctx, Event{Type: EventFailed, Factor: f, UserID: userID, Reason: "locked", LockedUntil: until, Time: now})
	return attempt{}, &LockedError{Factor: f, Until: until}
}

// succeeded forgets the attempts of a factor after a valid code, and the
// lock the attempt a set in advance, if any.
func (m *Manager) succeeded(ctx context.Context, userID string, f Factor, a attempt) error {
	if err := m.store.ResetCount(ctx, a.key); err != nil {
		return storeErr("reset attempts", err)
	}
	if !a.lockedUntil.IsZero() {
		if err := m.store.ResetCount(ctx, lockKey(f, userID)); err != nil {
			return storeErr("reset lock", err)
		}
	}
	return nil
}

// failed reports a wrong code after an attempt a was taken, and returns the
// error for the caller: a *LockedError if this attempt used up the limit.
func (m *Manager) failed(ctx context.Context, userID string, f Factor, reason string, a attempt, now time.Time) error {
	if !a.lockedUntil.IsZero() {
		m.emit(ctx, Event{Type: EventLocked, Factor: f, UserID: userID, Reason: reason, LockedUntil: a.lockedUntil, Time: now})
		return fmt.Errorf("%w (%w)", ErrInvalidCode, &LockedError{Factor: f, Until: a.lockedUntil})
	}
	m.emit(ctx, Event{Type: EventFailed, Factor: f, UserID: userID, Reason: reason, Remaining: a.remaining, Time: now})
	return ErrInvalidCode
}

// Remove removes one of the user's factors: [FactorTOTP] (an enrollment,
// pending or confirmed, and its attempt counter; [ErrNotEnrolled] if there
// is none), [FactorEmail] (turns emailed codes off and forgets their
// attempt counter; [ErrNotEnrolled] if they were off) or [FactorRecovery]
// (deletes the recovery codes; nil if there were none). Any other factor is
// [ErrInvalidInput]. Callers should re-authenticate the user first (ASVS
// 6.4.4).
func (m *Manager) Remove(ctx context.Context, userID string, f Factor) error {
	if err := validUserID(userID); err != nil {
		return err
	}
	var err error
	switch f {
	case FactorTOTP:
		err = m.store.DeleteTOTP(ctx, userID)
	case FactorEmail:
		err = m.store.DisableEmailFactor(ctx, userID)
	case FactorRecovery:
		err = m.store.ReplaceRecoveryCodes(ctx, userID, nil, m.now())
	default:
		return fmt.Errorf("%w: factor %q", ErrInvalidInput, f)
	}
	if errors.Is(err, ErrNotFound) && f != FactorRecovery {
		return ErrNotEnrolled
	}
	if err != nil {
		return storeErr("remove "+string(f), err)
	}
	if f != FactorRecovery {
		if err := m.resetAttempts(ctx, userID, f); err != nil {
			return err
		}
	}
	m.emit(ctx, Event{Type: EventRemoved, Factor: f, UserID: userID})
	return nil
}

// resetAttempts forgets the attempts and any lock of a factor.
func (m *Manager) resetAttempts(ctx context.Context, userID string, f Factor) error {
	for _, k := range []string{attemptsKey(f, userID), lockKey(f, userID)} {
		if err := m.store.ResetCount(ctx, k); err != nil {
			return storeErr("reset attempts", err)
		}
	}
	return nil
}
