// Package storetest checks implementations of the two storage building
// blocks that Bulwark's packages build their short-lived security state on:
// a [CounterStore] (an atomic counter with expiry, under attempt limits and
// locks) and a [TokenStore] (a single-use token stored as a hash, under
// one-time codes and links).
//
// The packages that consume them (mfa today) declare the same interfaces in
// their own store.go, with identical method sets, so that one store type
// satisfies them all; the copies here are the canonical contracts. A back
// end runs the suites from its tests, in the shape of testing/fstest, with a
// constructor that returns a fresh, empty store for each subtest:
//
//	func TestCounters(t *testing.T) {
//		storetest.TestCounter(t, func(t *testing.T) storetest.CounterStore { return newStore(t) })
//	}
//
// Both suites include real contention (many goroutines on one key), so run
// them with -race, and against several handles onto one server where the
// back end has them. The package uses only the standard library.
package storetest

import (
	"context"
	"time"
)

// CounterStore keeps counters that expire, the building block of attempt
// limits, throttles and locks. The policy (how many attempts, how long a
// lock) belongs to the caller; the store only counts, atomically.
//
// Keys are strings of 1 to 512 bytes; callers give theirs a prefix of
// their own (mfa's start with "mfa:"). Times are kept to the microsecond
// at least. A missing or expired counter reads as zero; an error is a
// system failure only, and callers deny on it.
type CounterStore interface {
	// AddCount atomically adds n to the counter at key and returns the new
	// count and when the counter expires. A missing counter, or one whose
	// expiry is not after now, starts a new window: count n, expiring at
	// now+window; a live one keeps its expiry. n = 0 reads: it returns the
	// live count and expiry, or 0 and the zero time, and creates nothing.
	// n must not be negative and window must be positive.
	AddCount(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (count int64, expires time.Time, err error)
	// ResetCount deletes the counter at key. It succeeds when there is none.
	ResetCount(ctx context.Context, key string) error
}

// TokenStore keeps single-use tokens by the SHA-256 hash of their secret,
// the building block of one-time codes, reset links and remember-me
// tokens: the secret itself never reaches the store.
//
// Keys are strings of 1 to 512 bytes with a caller's prefix, as for
// [CounterStore]. An error is a system failure only, and callers deny on
// it.
type TokenStore interface {
	// PutToken stores value under key with the hash of the token's secret,
	// expiring at now+ttl, replacing any token at key. ttl must be
	// positive.
	PutToken(ctx context.Context, key string, hash [32]byte, value []byte, ttl time.Duration, now time.Time) error
	// TakeToken atomically deletes the token at key and returns its value,
	// if its hash equals hash (compared in constant time where the store
	// compares) and it expires after now. Otherwise it reports ok false
	// and changes nothing: a missing, expired or already taken token, or
	// another hash. Of several concurrent calls for one token at most one
	// reports ok. A nil value is returned as an empty one.
	TakeToken(ctx context.Context, key string, hash [32]byte, now time.Time) (value []byte, ok bool, err error)
}
