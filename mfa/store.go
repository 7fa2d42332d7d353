package mfa

import (
	"context"
	"time"
)

// The store interfaces below are split by concern so that a host can keep
// each part where it fits best: enrolled secrets and recovery codes in SQL,
// short-lived codes, used-step marks and counters in Redis (see
// [Stores]). Each method takes a context first. Implementations must be safe
// for concurrent use, and every rule a method documents as atomic must hold
// across processes sharing the same back end: that is what makes replay
// protection and attempt limits hold across app instances.
//
// Error contract, the same in every interface: a missing or expired record
// is reported with [ErrNotFound] (or the specific sentinel a method names);
// any other error is a system failure, and [Manager] denies on it.

// TOTPRecord is one user's TOTP enrollment. Secret is sealed by the
// [Sealer]; stores never see the secret in clear.
type TOTPRecord struct {
	ID          string        // UUIDv7, new for every enrollment
	UserID      string        // the host's user id
	Secret      []byte        // the sealed secret
	Algorithm   Algorithm     // HMAC hash
	Digits      int           // 6 or 8
	Period      time.Duration // step length, whole seconds
	CreatedAt   time.Time     // when the enrollment started
	ConfirmedAt time.Time     // zero while pending (awaiting its first valid code)
}

// pending reports whether the enrollment still awaits its first valid code.
func (r TOTPRecord) pending() bool { return r.ConfirmedAt.IsZero() }

// TOTPStore keeps at most one TOTP enrollment per user.
type TOTPStore interface {
	// PutPendingTOTP stores rec, which is pending (ConfirmedAt is zero),
	// replacing any pending enrollment of rec.UserID. It returns
	// [ErrAlreadyEnrolled] and changes nothing if the user has a confirmed
	// one. The check and the write are atomic.
	PutPendingTOTP(ctx context.Context, rec TOTPRecord) error
	// GetTOTP returns the user's enrollment, pending or confirmed, or
	// [ErrNotFound].
	GetTOTP(ctx context.Context, userID string) (TOTPRecord, error)
	// ConfirmTOTP sets ConfirmedAt of the pending enrollment with the given
	// id. It returns [ErrNotFound] if the user has no pending enrollment
	// with that id (it was replaced, removed or already confirmed).
	ConfirmTOTP(ctx context.Context, userID, id string, at time.Time) error
	// DeleteTOTP removes the user's enrollment, or returns [ErrNotFound].
	DeleteTOTP(ctx context.Context, userID string) error
}

// StepStore remembers the last TOTP time step accepted for each user, the
// replay protection of RFC 6238 section 5.2.
type StepStore interface {
	// MarkStep atomically records step as used for userID if it is greater
	// than the last step recorded, and reports whether it did. A false
	// result means the step (or a later one) was already accepted: a
	// replay. The mark must be kept for at least keep; a store may forget
	// it afterwards (by then the step is outside every verification window).
	MarkStep(ctx context.Context, userID string, step int64, keep time.Duration) (bool, error)
}

// CounterStore keeps counters that expire: mfa builds its attempt limits
// and locks on it, and computes the limits itself, so a store only counts.
// It is the same interface as storetest.CounterStore (the canonical
// contract, with the conformance suite), so one store type serves every
// package that counts. Keys are 1 to 512 bytes; mfa's start with "mfa:".
type CounterStore interface {
	// AddCount atomically adds n to the counter at key and returns the new
	// count and when the counter expires. A missing counter, or one whose
	// expiry is not after now, starts a new window: count n, expiring at
	// now+window; a live one keeps its expiry. n = 0 reads: it returns the
	// live count and expiry, or 0 and the zero time, and creates nothing.
	AddCount(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (count int64, expires time.Time, err error)
	// ResetCount deletes the counter at key. It succeeds when there is none.
	ResetCount(ctx context.Context, key string) error
}

// OOBRecord is one emailed (out-of-band) code, stored only as a hash. Its
// attempts are counted in the [CounterStore], under its ID.
type OOBRecord struct {
	ID        string  // UUIDv7
	UserID    string  // the account the code is bound to
	Purpose   Purpose // what the code is for
	Salt      []byte  // random, per code
	Hash      []byte  // HMAC-SHA-256 of the code; see the package doc
	SentAt    time.Time
	ExpiresAt time.Time
}

// OOBStore keeps at most one live code per user and purpose.
type OOBStore interface {
	// PutOOB stores rec, replacing the user's code for rec.Purpose, unless
	// that code is unexpired (ExpiresAt after rec.SentAt) and was sent less
	// than resendAfter before rec.SentAt: then it returns [ErrThrottled]
	// and changes nothing. The check and the write are atomic.
	PutOOB(ctx context.Context, rec OOBRecord, resendAfter time.Duration) error
	// GetOOB returns the user's code for purpose, or [ErrNotFound] if
	// there is none or it has expired (ExpiresAt not after now).
	GetOOB(ctx context.Context, userID string, purpose Purpose, now time.Time) (OOBRecord, error)
	// DeleteOOB removes the user's code for purpose if its ID is id, and
	// reports whether it did. Of several concurrent calls at most one
	// reports true: that is what makes a code single use.
	DeleteOOB(ctx context.Context, userID string, purpose Purpose, id string) (bool, error)
}

// RecoveryStore keeps the SHA-256 hashes of each user's recovery codes.
type RecoveryStore interface {
	// ReplaceRecoveryCodes atomically replaces the user's set of code
	// hashes with hashes (an empty slice removes them all).
	ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, now time.Time) error
	// UseRecoveryCode atomically removes the code with this hash and
	// returns how many codes the user has left. It returns [ErrNotFound]
	// if the user has no such code; of several concurrent calls with the
	// same hash at most one succeeds.
	UseRecoveryCode(ctx context.Context, userID string, hash []byte) (remaining int, err error)
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}

// EmailFactorStore records which users enabled emailed codes as a second
// factor. The record is the enrolment itself, so that the factors a user
// may sign in with come from what that user enrolled, never from a host's
// guess.
type EmailFactorStore interface {
	// EnableEmailFactor records that userID enabled emailed codes at at.
	// Enabling an enabled factor succeeds and keeps the first time.
	EnableEmailFactor(ctx context.Context, userID string, at time.Time) error
	// EmailFactor returns when the user enabled emailed codes, or
	// [ErrNotFound] if they have not.
	EmailFactor(ctx context.Context, userID string) (time.Time, error)
	// DisableEmailFactor removes the user's record, or returns
	// [ErrNotFound] if there is none.
	DisableEmailFactor(ctx context.Context, userID string) error
}

// Store is everything a [Manager] needs. memstore and sqlstore implement
// all of it; to mix back ends, build a [Stores].
type Store interface {
	TOTPStore
	StepStore
	CounterStore
	OOBStore
	RecoveryStore
	EmailFactorStore
}

// Stores assembles a [Store] from parts, for example TOTP enrollments,
// email-factor enrolments and recovery codes in SQL with codes, step marks
// and attempt counters in Redis:
//
//	durable, rdb := sqlStore.MFA(), redisStore.MFA()
//	store := mfa.Stores{TOTPStore: durable, RecoveryStore: durable, EmailFactorStore: durable,
//		StepStore: rdb, CounterStore: rdb, OOBStore: rdb}
//
// Every field must be set; [New] returns an error otherwise.
type Stores struct {
	TOTPStore
	StepStore
	CounterStore
	OOBStore
	RecoveryStore
	EmailFactorStore
}

var _ Store = Stores{}
