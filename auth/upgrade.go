package auth

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// UpgradeStats counts what [UpgradeHashes] did.
type UpgradeStats struct {
	Seen      int // users read
	Wrapped   int // hashes replaced by an onion
	Unchanged int // hashes already current (or empty)
	Raced     int // hashes changed by someone else meanwhile (left alone)
	Refused   int // hashes wrap refused (malformed, over the limits)
}

// UpgradeHashes wraps every legacy or weaker password hash among users in
// the current algorithm, offline, so that every account costs the same to
// verify (and to crack) without waiting for its owner to log in (ASVS 5.0
// 6.3.8; see the package doc, "Legacy hashes"). users is the host's
// iterator over its users table.
//
// wrap turns a stored legacy or weaker hash into one that costs the
// current work to verify without knowing the password (a hash onion), and
// returns it unchanged when there is nothing to wrap: pass password's
// (*Hasher).Wrap.
//
// swap replaces userID's password hash with newHash only if it is still
// oldHash (a compare-and-set, e.g. UPDATE users SET hash = $3 WHERE id = $1
// AND hash = $2), and returns [ErrNotFound] if it is not: a login's rehash
// or a password change got there first, and must not be undone. So a
// changed hash is never written over a hash that changed since it was
// read.
//
// A hash wrap refuses is counted and skipped (it fails at login as before); a failure
// to read users or to swap stops the run with the error. It stops when ctx
// ends. Running it again is harmless: wrapped and current hashes are left
// as they are.
//
// Configure the hasher's padding (password's Config.LegacyPad) with every
// legacy setting wrapped, so that accounts with onions and accounts
// without cost the same at login.
func UpgradeHashes(ctx context.Context, users iter.Seq2[User, error],
	wrap func(ctx context.Context, encoded string) (string, error),
	swap func(ctx context.Context, userID, oldHash, newHash string) error) (UpgradeStats, error) {
	var st UpgradeStats
	for u, err := range users {
		if err != nil {
			return st, fmt.Errorf("auth: upgrade: read users: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		st.Seen++
		if u.PasswordHash == "" {
			st.Unchanged++
			continue
		}
		nh, err := wrap(ctx, u.PasswordHash)
		if err != nil {
			if ctx.Err() != nil {
				return st, ctx.Err()
			}
			st.Refused++
			continue
		}
		if nh == u.PasswordHash {
			st.Unchanged++
			continue
		}
		switch err := swap(ctx, u.ID, u.PasswordHash, nh); {
		case errors.Is(err, ErrNotFound):
			st.Raced++
		case err != nil:
			return st, fmt.Errorf("auth: upgrade: swap hash: %w", err)
		default:
			st.Wrapped++
		}
	}
	return st, nil
}
