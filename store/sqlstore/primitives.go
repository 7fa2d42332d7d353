package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// The queries of the storage building blocks are written once for both
// dialects: placeholders $1, $2, ... first appear in increasing order, so
// SQLite (which reads $N as a parameter numbered by first appearance) and
// PostgreSQL bind them alike, and no query is rewritten per dialect. Each
// rule the contracts call atomic is one statement.
//
//nolint:gosec // G101: table and column names, no credentials.
const (
	qAddCount = `INSERT INTO bulwark_counters AS c (k, n, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (k) DO UPDATE SET
			n = CASE WHEN c.expires_at > $4 THEN c.n + excluded.n ELSE excluded.n END,
			expires_at = CASE WHEN c.expires_at > $4 THEN c.expires_at ELSE excluded.expires_at END
		RETURNING n, expires_at`
	qReadCount     = `SELECT n, expires_at FROM bulwark_counters WHERE k = $1 AND expires_at > $2`
	qResetCount    = `DELETE FROM bulwark_counters WHERE k = $1`
	qCleanCounters = `DELETE FROM bulwark_counters WHERE expires_at <= $1`
	qPutToken      = `INSERT INTO bulwark_tokens (k, hash, value, expires_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (k) DO UPDATE SET hash = excluded.hash, value = excluded.value, expires_at = excluded.expires_at`
	qTakeToken   = `DELETE FROM bulwark_tokens WHERE k = $1 AND hash = $2 AND expires_at > $3 RETURNING value`
	qCleanTokens = `DELETE FROM bulwark_tokens WHERE expires_at <= $1`
)

// Counters is an expiring counter store ([mfa.CounterStore]; its contract
// is checked by storetest.TestCounter), with the housekeeping
// [Counters.Cleanup]. Get one with [Store.Counters].
type Counters interface {
	mfa.CounterStore
	// Cleanup deletes counters that expired at or before now and returns
	// how many. Expired counters already read as zero, so this is
	// housekeeping only; run it from a periodic job.
	Cleanup(ctx context.Context, now time.Time) (int64, error)
}

// counters is the store [Store.Counters] returns.
type counters struct{ db *sql.DB }

// Counters returns the counter store, sharing s's connection pool.
//
// The store is the SQL counter with expiry (the contract is
// storetest.CounterStore; mfa.CounterStore is the same interface), in the
// table bulwark_counters of the migration component "primitives". Each
// call is one statement, so it is atomic across processes.
func (s *Store) Counters() Counters { return &counters{db: s.db} }

var errBadCount = errors.New("sqlstore: AddCount needs n >= 0 and a positive window")

// AddCount adds n to the counter at key in one upsert, starting a new
// window at now if the counter is missing or expired; n = 0 only reads.
func (c *counters) AddCount(ctx context.Context, key string, n int64, window time.Duration, now time.Time) (int64, time.Time, error) {
	if n < 0 || window <= 0 {
		return 0, time.Time{}, errBadCount
	}
	var count, exp int64
	var err error
	if n == 0 {
		err = c.db.QueryRowContext(ctx, qReadCount, key, micros(now)).Scan(&count, &exp)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, time.Time{}, nil
		}
	} else {
		err = c.db.QueryRowContext(ctx, qAddCount, key, n, micros(now.Add(window)), micros(now)).Scan(&count, &exp)
	}
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: add count: %w", err)
	}
	return count, fromMicros(exp), nil
}

// ResetCount deletes the counter at key.
func (c *counters) ResetCount(ctx context.Context, key string) error {
	if _, err := c.db.ExecContext(ctx, qResetCount, key); err != nil {
		return fmt.Errorf("sqlstore: reset count: %w", err)
	}
	return nil
}

// Cleanup deletes counters that expired at or before now and returns how
// many. Expired counters already read as zero, so this is housekeeping
// only; run it from a periodic job.
func (c *counters) Cleanup(ctx context.Context, now time.Time) (int64, error) {
	return cleanup(ctx, c.db, qCleanCounters, now)
}

// Tokens is a single-use token store, keyed by the SHA-256 hash of the
// token's secret (its contract is storetest.TokenStore's). Get one with
// [Store.Tokens].
type Tokens interface {
	// PutToken stores value under key with the hash of the token's
	// secret, expiring at now+ttl, replacing any token at key. ttl must be
	// positive.
	PutToken(ctx context.Context, key string, hash [32]byte, value []byte, ttl time.Duration, now time.Time) error
	// TakeToken atomically deletes the token at key and returns its value,
	// if its hash equals hash and it expires after now. Otherwise it
	// reports ok false and changes nothing. Of several concurrent calls
	// for one token at most one reports ok.
	TakeToken(ctx context.Context, key string, hash [32]byte, now time.Time) (value []byte, ok bool, err error)
	// Cleanup deletes tokens that expired at or before now and returns
	// how many; housekeeping only, as for [Counters.Cleanup].
	Cleanup(ctx context.Context, now time.Time) (int64, error)
}

// tokens is the store [Store.Tokens] returns.
type tokens struct{ db *sql.DB }

// Tokens returns the token store, sharing s's connection pool.
//
// The store is the SQL single-use token store (the contract is
// storetest.TokenStore), in the table bulwark_tokens of the migration
// component "primitives". TakeToken is one DELETE ... RETURNING, so of
// concurrent takes of one token exactly one gets a row. The store finds
// a token by key and hash in one indexed lookup; it never compares
// secrets in Go.
func (s *Store) Tokens() Tokens { return &tokens{db: s.db} }

// PutToken stores a token in one upsert, replacing any at key.
func (t *tokens) PutToken(ctx context.Context, key string, hash [32]byte, value []byte, ttl time.Duration, now time.Time) error {
	if ttl <= 0 {
		return errors.New("sqlstore: PutToken needs a positive ttl")
	}
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	if _, err := t.db.ExecContext(ctx, qPutToken, key, hash[:], value, micros(now.Add(ttl))); err != nil {
		return fmt.Errorf("sqlstore: put token: %w", err)
	}
	return nil
}

// TakeToken deletes and returns the token at key if hash matches and it
// expires after now.
func (t *tokens) TakeToken(ctx context.Context, key string, hash [32]byte, now time.Time) ([]byte, bool, error) {
	var v []byte
	err := t.db.QueryRowContext(ctx, qTakeToken, key, hash[:], micros(now)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlstore: take token: %w", err)
	}
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// Cleanup deletes tokens that expired at or before now and returns how
// many; housekeeping only, as for [Counters.Cleanup].
func (t *tokens) Cleanup(ctx context.Context, now time.Time) (int64, error) {
	return cleanup(ctx, t.db, qCleanTokens, now)
}

func cleanup(ctx context.Context, db *sql.DB, q string, now time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, q, micros(now))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: cleanup: %w", err)
	}
	return res.RowsAffected()
}
