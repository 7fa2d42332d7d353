package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
)

// AuthStore is the [auth.Store] on PostgreSQL or SQLite, with the
// housekeeping [AuthStore.Purge]. Get one with [Store.Auth].
type AuthStore interface {
	auth.Store
	// Purge deletes expired counters, rate windows, reset tokens and
	// pending states at now, and returns how many rows it removed. Run it
	// now and then (for example hourly); nothing depends on it for
	// correctness, since every read checks expiry itself.
	Purge(ctx context.Context, now time.Time) (int64, error)
}

var _ AuthStore = (*authStore)(nil)

// authStore is the store [Store.Auth] returns.
type authStore struct {
	db *sql.DB
	q  authQueries
}

type authQueries struct {
	claim, release                            string
	counter, addFailure, resetCounter         string
	undoFailure, touchCounter                 string
	addHits, readHits                         string
	createToken, lookupToken, consumeToken    string
	deleteTokens                              string
	createPending, attemptPending, delPending string
	purgeCounters, purgeWindows, purgeTokens  string
	purgePending                              string
}

// authExpired is true when the counter row has expired at $2 (now).
const authExpired = `(c.expires_at <> 0 AND c.expires_at <= CAST($2 AS BIGINT))`

// Auth returns the store for package auth, sharing s's pool.
//
// The store is the SQL [auth.Store]: tables bulwark_auth_claims,
// bulwark_auth_counters, bulwark_auth_windows, bulwark_auth_reset_tokens and
// bulwark_auth_pending (migration component "auth"). Every rule that must
// hold across instances is one statement: claims are an INSERT that does
// nothing on conflict with the primary key, counters an upsert with
// RETURNING, consuming a token a DELETE ... RETURNING, so concurrent
// callers on any number of pools serialise on the row. It is safe for
// concurrent use.
func (s *Store) Auth() AuthStore {
	return &authStore{db: s.db, q: authQueries{
		claim:   s.query(`INSERT INTO bulwark_auth_claims (kind, claim_key, owner, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (kind, claim_key) DO NOTHING`),
		release: s.query(`DELETE FROM bulwark_auth_claims WHERE kind = $1 AND claim_key = $2 AND owner = $3`),
		counter: s.query(`SELECT failures, consecutive, last_failure FROM bulwark_auth_counters
			WHERE counter_key = $1 AND (expires_at = 0 OR expires_at > $2)`),
		// $1 key, $2 now, $3 expires_at, $4 reset-after, $5 persist-at (all µs or counts).
		addFailure: s.query(`INSERT INTO bulwark_auth_counters AS c (counter_key, failures, consecutive, last_failure, expires_at)
			VALUES ($1, 1, 1, CAST($2 AS BIGINT), CASE WHEN CAST($5 AS BIGINT) = 1 THEN 0 ELSE CAST($3 AS BIGINT) END)
			ON CONFLICT (counter_key) DO UPDATE SET
			failures = CASE WHEN ` + authExpired + ` OR CAST($2 AS BIGINT) - c.last_failure > CAST($4 AS BIGINT) THEN 1 ELSE c.failures + 1 END,
			consecutive = CASE WHEN ` + authExpired + ` THEN 1 ELSE c.consecutive + 1 END,
			last_failure = CAST($2 AS BIGINT),
			expires_at = CASE WHEN CAST($5 AS BIGINT) > 0 AND
				(CASE WHEN ` + authExpired + ` THEN 1 ELSE c.consecutive + 1 END) >= CAST($5 AS BIGINT)
				THEN 0 ELSE CAST($3 AS BIGINT) END
			RETURNING failures, consecutive, last_failure`),
		// $1 key, $2 now: one failure taken back, or the row rewritten as
		// it is (the same write as a counted failure).
		undoFailure: s.query(`UPDATE bulwark_auth_counters SET
			failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END,
			consecutive = CASE WHEN consecutive > 0 THEN consecutive - 1 ELSE 0 END
			WHERE counter_key = $1 AND (expires_at = 0 OR expires_at > $2)
			RETURNING failures, consecutive, last_failure`),
		touchCounter: s.query(`UPDATE bulwark_auth_counters SET failures = failures
			WHERE counter_key = $1 AND (expires_at = 0 OR expires_at > $2)
			RETURNING failures, consecutive, last_failure`),
		resetCounter: s.query(`DELETE FROM bulwark_auth_counters WHERE counter_key = $1`),
		// $1 key, $2 now, $3 n, $4 end of a new window.
		addHits: s.query(`INSERT INTO bulwark_auth_windows AS w (window_key, hits, window_end)
			VALUES ($1, CAST($3 AS BIGINT), CAST($4 AS BIGINT))
			ON CONFLICT (window_key) DO UPDATE SET
			hits = CASE WHEN w.window_end <= CAST($2 AS BIGINT) THEN CAST($3 AS BIGINT) ELSE w.hits + CAST($3 AS BIGINT) END,
			window_end = CASE WHEN w.window_end <= CAST($2 AS BIGINT) THEN CAST($4 AS BIGINT) ELSE w.window_end END
			RETURNING hits`),
		readHits:    s.query(`SELECT hits FROM bulwark_auth_windows WHERE window_key = $1 AND window_end > $2`),
		createToken: s.query(`INSERT INTO bulwark_auth_reset_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`),
		lookupToken: s.query(`SELECT user_id, created_at, expires_at FROM bulwark_auth_reset_tokens WHERE token_hash = $1 AND expires_at > $2`),
		consumeToken: s.query(`DELETE FROM bulwark_auth_reset_tokens WHERE token_hash = $1
			RETURNING user_id, created_at, expires_at`),
		deleteTokens: s.query(`DELETE FROM bulwark_auth_reset_tokens WHERE user_id = $1`),
		createPending: s.query(`INSERT INTO bulwark_auth_pending
			(pending_hash, user_id, binding_hash, enroll, attempts, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
		attemptPending: s.query(`UPDATE bulwark_auth_pending SET attempts = attempts + 1
			WHERE pending_hash = $1 AND expires_at > $2 AND attempts < $3
			RETURNING user_id, binding_hash, enroll, attempts, created_at, expires_at`),
		delPending:    s.query(`DELETE FROM bulwark_auth_pending WHERE pending_hash = $1`),
		purgeCounters: s.query(`DELETE FROM bulwark_auth_counters WHERE expires_at <> 0 AND expires_at <= $1`),
		purgeWindows:  s.query(`DELETE FROM bulwark_auth_windows WHERE window_end <= $1`),
		purgeTokens:   s.query(`DELETE FROM bulwark_auth_reset_tokens WHERE expires_at <= $1`),
		purgePending:  s.query(`DELETE FROM bulwark_auth_pending WHERE expires_at <= $1`),
	}}
}

func authErr(op string, err error) error { return fmt.Errorf("sqlstore: auth: %s: %w", op, err) }

// authExec runs q and returns the number of rows it affected.
func (s *authStore) authExec(ctx context.Context, op, q string, args ...any) (int64, error) {
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, authErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, authErr(op, err)
	}
	return n, nil
}

// Claim implements [auth.ClaimStore].
func (s *authStore) Claim(ctx context.Context, c auth.Claim) error {
	n, err := s.authExec(ctx, "claim", s.q.claim, c.Kind, c.Key, c.Owner, micros(c.CreatedAt))
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrTaken
	}
	return nil
}

// Release implements [auth.ClaimStore].
func (s *authStore) Release(ctx context.Context, kind, key, owner string) error {
	n, err := s.authExec(ctx, "release", s.q.release, kind, key, owner)
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

func authScanCounter(row *sql.Row) (auth.Counter, error) {
	var c auth.Counter
	var f, n, last int64
	if err := row.Scan(&f, &n, &last); err != nil {
		return auth.Counter{}, err
	}
	c.Failures, c.Consecutive, c.LastFailure = int(f), int(n), fromMicros(last)
	return c, nil
}

// Counter implements [auth.CounterStore].
func (s *authStore) Counter(ctx context.Context, key string, now time.Time) (auth.Counter, error) {
	c, err := authScanCounter(s.db.QueryRowContext(ctx, s.q.counter, key, micros(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Counter{}, nil
	}
	if err != nil {
		return auth.Counter{}, authErr("counter", err)
	}
	return c, nil
}

// AddFailure implements [auth.CounterStore].
func (s *authStore) AddFailure(ctx context.Context, key string, p auth.FailureParams) (auth.Counter, error) {
	now := micros(p.Now)
	if p.Op == auth.FailureUndo || p.Op == auth.FailureTouch {
		q := s.q.undoFailure
		if p.Op == auth.FailureTouch {
			q = s.q.touchCounter
		}
		c, err := authScanCounter(s.db.QueryRowContext(ctx, q, key, now))
		if errors.Is(err, sql.ErrNoRows) {
			return auth.Counter{}, nil
		}
		if err != nil {
			return auth.Counter{}, authErr("add failure", err)
		}
		return c, nil
	}
	c, err := authScanCounter(s.db.QueryRowContext(ctx, s.q.addFailure,
		key, now, now+p.Keep.Microseconds(), p.ResetAfter.Microseconds(), int64(p.PersistAt)))
	if err != nil {
		return auth.Counter{}, authErr("add failure", err)
	}
	return c, nil
}

// ResetCounter implements [auth.CounterStore].
func (s *authStore) ResetCounter(ctx context.Context, key string) error {
	_, err := s.authExec(ctx, "reset counter", s.q.resetCounter, key)
	return err
}

// AddHits implements [auth.CounterStore].
func (s *authStore) AddHits(ctx context.Context, key string, now time.Time, window time.Duration, n int) (int, error) {
	var hits int64
	var err error
	if n <= 0 {
		err = s.db.QueryRowContext(ctx, s.q.readHits, key, micros(now)).Scan(&hits)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
	} else {
		err = s.db.QueryRowContext(ctx, s.q.addHits, key, micros(now), int64(n), micros(now.Add(window))).Scan(&hits)
	}
	if err != nil {
		return 0, authErr("hits", err)
	}
	return int(hits), nil
}

// CreateResetToken implements [auth.ResetTokenStore].
func (s *authStore) CreateResetToken(ctx context.Context, t auth.ResetToken) error {
	_, err := s.authExec(ctx, "create reset token", s.q.createToken, t.Hash, t.UserID, micros(t.CreatedAt), micros(t.ExpiresAt))
	return err
}

func authScanToken(row *sql.Row, hash []byte) (auth.ResetToken, error) {
	t := auth.ResetToken{Hash: hash}
	var created, expires int64
	if err := row.Scan(&t.UserID, &created, &expires); err != nil {
		return auth.ResetToken{}, err
	}
	t.CreatedAt, t.ExpiresAt = fromMicros(created), fromMicros(expires)
	return t, nil
}

// LookupResetToken implements [auth.ResetTokenStore].
func (s *authStore) LookupResetToken(ctx context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	t, err := authScanToken(s.db.QueryRowContext(ctx, s.q.lookupToken, hash, micros(now)), hash)
	return t, authNoRows("lookup reset token", err)
}

// ConsumeResetToken implements [auth.ResetTokenStore].
func (s *authStore) ConsumeResetToken(ctx context.Context, hash []byte, now time.Time) (auth.ResetToken, error) {
	t, err := authScanToken(s.db.QueryRowContext(ctx, s.q.consumeToken, hash), hash)
	if err = authNoRows("consume reset token", err); err != nil {
		return auth.ResetToken{}, err
	}
	if !now.Before(t.ExpiresAt) {
		return auth.ResetToken{}, auth.ErrNotFound
	}
	return t, nil
}

// authNoRows maps sql.ErrNoRows to auth.ErrNotFound and wraps other errors.
func authNoRows(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return auth.ErrNotFound
	default:
		return authErr(op, err)
	}
}

// DeleteResetTokens implements [auth.ResetTokenStore].
func (s *authStore) DeleteResetTokens(ctx context.Context, userID string) error {
	_, err := s.authExec(ctx, "delete reset tokens", s.q.deleteTokens, userID)
	return err
}

// CreatePending implements [auth.PendingStore].
func (s *authStore) CreatePending(ctx context.Context, p auth.Pending) error {
	enroll := int64(0)
	if p.Enroll {
		enroll = 1
	}
	_, err := s.authExec(ctx, "create pending", s.q.createPending, p.Hash, p.UserID, p.BindingHash, enroll,
		int64(p.Attempts), micros(p.CreatedAt), micros(p.ExpiresAt))
	return err
}

// AttemptPending implements [auth.PendingStore].
func (s *authStore) AttemptPending(ctx context.Context, hash []byte, now time.Time, maxAttempts int) (auth.Pending, error) {
	p := auth.Pending{Hash: hash}
	var enroll, attempts, created, expires int64
	err := s.db.QueryRowContext(ctx, s.q.attemptPending, hash, micros(now), int64(maxAttempts)).
		Scan(&p.UserID, &p.BindingHash, &enroll, &attempts, &created, &expires)
	if err = authNoRows("attempt pending", err); err != nil {
		return auth.Pending{}, err
	}
	p.Enroll, p.Attempts = enroll != 0, int(attempts)
	p.CreatedAt, p.ExpiresAt = fromMicros(created), fromMicros(expires)
	return p, nil
}

// DeletePending implements [auth.PendingStore].
func (s *authStore) DeletePending(ctx context.Context, hash []byte) error {
	n, err := s.authExec(ctx, "delete pending", s.q.delPending, hash)
	if err != nil {
		return err
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}

// Purge deletes expired counters, rate windows, reset tokens and pending
// states at now, and returns how many rows it removed. Run it now and then
// (for example hourly); nothing depends on it for correctness, since every
// read checks expiry itself.
func (s *authStore) Purge(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	for _, q := range []string{s.q.purgeCounters, s.q.purgeWindows, s.q.purgeTokens, s.q.purgePending} {
		n, err := s.authExec(ctx, "purge", q, micros(now))
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}
