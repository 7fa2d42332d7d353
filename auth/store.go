package auth

import (
	"context"
	"time"
)

// Store is everything auth keeps for itself. memstore, sqlstore and
// redisstore implement it whole, and a host may mix them, for example
// counters in Redis and the rest in SQL (see [SplitStore]).
type Store interface {
	ClaimStore
	CounterStore
	ResetTokenStore
	PendingStore
}

// Claim is an insert-if-absent record: a username reserved by a user, or a
// device or IP address a user has logged in from.
type Claim struct {
	Kind      string    // "username", "device", "ip", ...
	Key       string    // unique within Kind; auth case-folds usernames
	Owner     string    // user id
	CreatedAt time.Time // from the injected clock
}

// ClaimStore holds [Claim]s. Implementations must make Claim atomic: when
// many callers claim the same (Kind, Key) at once, exactly one succeeds
// (a unique constraint or an insert-if-absent), on every instance sharing
// the store.
type ClaimStore interface {
	// Claim records c. It returns [ErrTaken] if (c.Kind, c.Key) exists,
	// whoever owns it.
	Claim(ctx context.Context, c Claim) error
	// Release deletes the claim (kind, key) if owner holds it. Releasing a
	// missing claim, or one held by someone else, returns [ErrNotFound].
	Release(ctx context.Context, kind, key, owner string) error
}

// Counter is the brute-force state of one login identifier.
type Counter struct {
	// Failures counts failures since the last success or since a quiet
	// period longer than the reset window; it drives the waits.
	Failures int
	// Consecutive counts failures since the last success, password reset or
	// unlock, whatever the gaps; it drives the hard limit of
	// NIST SP 800-63B §5.2.2 (at most 100 consecutive failures).
	Consecutive int
	// LastFailure is the time of the latest failure.
	LastFailure time.Time
}

// FailureParams tells [CounterStore.AddFailure] how to update a counter.
type FailureParams struct {
	Now time.Time
	// ResetAfter: when Now - LastFailure > ResetAfter, Failures restarts at
	// 1 (Consecutive does not).
	ResetAfter time.Duration
	// Keep: the record may be forgotten Keep after Now (it then reads as
	// the zero Counter) ...
	Keep time.Duration
	// PersistAt: ... unless PersistAt > 0 and Consecutive has reached it,
	// in which case the record never expires (a permanent lock).
	PersistAt int
	// Op is what the call does; the zero value counts one failure.
	Op FailureOp
}

// FailureOp is the kind of update [CounterStore.AddFailure] makes.
type FailureOp int

// Failure operations.
const (
	// FailureAdd counts one failure as described on [FailureParams].
	FailureAdd FailureOp = iota
	// FailureUndo takes back one failure counted earlier by FailureAdd (an
	// attempt that was then refused unjudged): Failures and Consecutive
	// drop by one, not below zero; LastFailure and the expiry are kept.
	// ResetAfter, Keep and PersistAt are ignored. A missing or expired
	// record stays the zero Counter.
	FailureUndo
	// FailureTouch changes nothing but costs what FailureAdd costs (the
	// same statement, a write of the same row), so that an attempt refused
	// during a lock does the same store work as one that is counted. It
	// returns the counter as it is.
	FailureTouch
)

// CounterStore keeps brute-force counters. Every method must be atomic
// across all instances sharing the store: two concurrent AddFailure calls on
// one key yield two distinct results, and the final count includes both.
type CounterStore interface {
	// Counter returns the counter for key at now; the zero Counter if there
	// is none or it has expired.
	Counter(ctx context.Context, key string, now time.Time) (Counter, error)
	// AddFailure records one failure for key as described by p (or takes
	// one back, or touches the record, as p.Op says) and returns the
	// updated counter.
	AddFailure(ctx context.Context, key string, p FailureParams) (Counter, error)
	// ResetCounter deletes the counter for key (success, reset, unlock).
	ResetCounter(ctx context.Context, key string) error
	// AddHits adds n (n >= 0) to the fixed-window counter key and returns
	// its value. A window starts at the first hit after the previous one
	// ended and lasts window; n == 0 only reads. These counters are
	// separate from the ones of Counter and AddFailure.
	AddHits(ctx context.Context, key string, now time.Time, window time.Duration, n int) (int, error)
}

// ResetToken is a stored password-reset token. Only the SHA-256 of the
// token is stored.
type ResetToken struct {
	Hash      []byte // SHA-256 of the token, 32 bytes
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// ResetTokenStore keeps password-reset tokens.
type ResetTokenStore interface {
	// CreateResetToken stores t.
	CreateResetToken(ctx context.Context, t ResetToken) error
	// LookupResetToken returns the token with this hash if it has not
	// expired at now, without consuming it; otherwise [ErrNotFound].
	LookupResetToken(ctx context.Context, hash []byte, now time.Time) (ResetToken, error)
	// ConsumeResetToken deletes and returns the token with this hash. It is
	// atomic: of many concurrent calls at most one succeeds. A missing or
	// expired token gives [ErrNotFound].
	ConsumeResetToken(ctx context.Context, hash []byte, now time.Time) (ResetToken, error)
	// DeleteResetTokens deletes every reset token of userID (none is fine).
	DeleteResetTokens(ctx context.Context, userID string) error
}

// Pending is the state between a correct password and a correct second
// factor. It is not a session: nothing but [Authenticator.CompleteMFA]
// accepts its token.
type Pending struct {
	Hash        []byte // SHA-256 of the pending token, 32 bytes
	UserID      string
	BindingHash []byte // SHA-256 over Client.Binding and the password hash at Login
	Enroll      bool   // the user must enrol a factor before completing
	Attempts    int    // second-factor attempts so far
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// PendingStore keeps [Pending] states.
type PendingStore interface {
	// CreatePending stores p.
	CreatePending(ctx context.Context, p Pending) error
	// AttemptPending atomically increments the attempts of the pending
	// state with this hash and returns it (Attempts counts this attempt),
	// provided it has not expired at now and had fewer than maxAttempts
	// attempts; otherwise [ErrNotFound].
	AttemptPending(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (Pending, error)
	// DeletePending deletes the state with this hash. Of many concurrent
	// calls exactly one succeeds; the others, and a missing state, give
	// [ErrNotFound].
	DeletePending(ctx context.Context, hash []byte) error
}

// SplitStore returns a [Store] made of parts from different back ends, for
// example counters in Redis and the rest in SQL. A full Store fits any
// part. [New] returns an error if a part is nil.
func SplitStore(claims ClaimStore, counters CounterStore, tokens ResetTokenStore, pending PendingStore) Store {
	return splitStore{claims, counters, tokens, pending}
}

type splitStore struct {
	ClaimStore
	CounterStore
	ResetTokenStore
	PendingStore
}
