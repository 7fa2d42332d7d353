package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// mfaStore is the store [Store.MFA] returns.
type mfaStore struct {
	*counters // attempt counters and locks ([mfa.CounterStore])

	db      *sql.DB
	dialect Dialect
	q       mfaQueries
}

// MFAStore is the [mfa.Store] on PostgreSQL or SQLite, with the
// housekeeping [MFAStore.Cleanup]. Get one with [Store.MFA].
type MFAStore interface {
	mfa.Store
	// Cleanup deletes emailed codes that expired at or before now and
	// returns how many it deleted. Expired codes never verify or throttle,
	// so this is housekeeping only (there is at most one row per user and
	// purpose); run it from a periodic job if the table matters.
	Cleanup(ctx context.Context, now time.Time) (int64, error)
}

var _ MFAStore = (*mfaStore)(nil)

type mfaQueries struct {
	putTOTP, getTOTP, confirmTOTP, deleteTOTP                  string
	markStep                                                   string
	putOOB, getOOB, deleteOOB, cleanupOOB                      string
	deleteRecovery, insertRecovery, useRecovery, countRecovery string
	lockRecovery                                               string // PostgreSQL only
	enableEmail, getEmail, disableEmail                        string
}

// MFA returns the store for package mfa, sharing s's connection pool.
//
// The store is the SQL [mfa.Store]. Every rule the interfaces call atomic
// is one statement (an upsert with a condition, or an UPDATE ...
// RETURNING) or one transaction, so it holds across processes. It is safe
// for concurrent use.
func (s *Store) MFA() MFAStore {
	return &mfaStore{counters: &counters{db: s.db}, db: s.db, dialect: s.dialect, q: mfaQueries{
		putTOTP: s.query(`INSERT INTO bulwark_mfa_totp (user_id, id, secret, algorithm, digits, period_s, created_at, confirmed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 0)
			ON CONFLICT (user_id) DO UPDATE SET id = excluded.id, secret = excluded.secret, algorithm = excluded.algorithm,
				digits = excluded.digits, period_s = excluded.period_s, created_at = excluded.created_at, confirmed_at = 0
			WHERE bulwark_mfa_totp.confirmed_at = 0`),
		getTOTP: s.query(`SELECT id, secret, algorithm, digits, period_s, created_at, confirmed_at
			FROM bulwark_mfa_totp WHERE user_id = $1`),
		confirmTOTP: s.query(`UPDATE bulwark_mfa_totp SET confirmed_at = $3 WHERE user_id = $1 AND id = $2 AND confirmed_at = 0`),
		deleteTOTP:  s.query(`DELETE FROM bulwark_mfa_totp WHERE user_id = $1`),
		markStep: s.query(`INSERT INTO bulwark_mfa_totp_steps (user_id, step) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET step = excluded.step WHERE bulwark_mfa_totp_steps.step < excluded.step`),
		putOOB: s.query(`INSERT INTO bulwark_mfa_oob (user_id, purpose, id, salt, code_hash, attempts, sent_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, 0, $6, $7)
			ON CONFLICT (user_id, purpose) DO UPDATE SET id = excluded.id, salt = excluded.salt, code_hash = excluded.code_hash,
				attempts = 0, sent_at = excluded.sent_at, expires_at = excluded.expires_at
			WHERE bulwark_mfa_oob.expires_at <= excluded.sent_at OR bulwark_mfa_oob.sent_at + $8 <= excluded.sent_at`),
		getOOB: s.query(`SELECT id, salt, code_hash, sent_at, expires_at FROM bulwark_mfa_oob
			WHERE user_id = $1 AND purpose = $2 AND expires_at > $3`),
		deleteOOB:  s.query(`DELETE FROM bulwark_mfa_oob WHERE user_id = $1 AND purpose = $2 AND id = $3`),
		cleanupOOB: s.query(`DELETE FROM bulwark_mfa_oob WHERE expires_at <= $1`),
		// Under READ COMMITTED a DELETE does not see, or wait for, rows
		// another replace has inserted but not committed, so two concurrent
		// replaces would both survive; a per-user transaction lock orders them.
		lockRecovery:   s.postgresOnly(`SELECT pg_advisory_xact_lock(hashtext('bulwark.mfa.recovery'), hashtext(current_schema() || ':' || $1))`),
		deleteRecovery: s.query(`DELETE FROM bulwark_mfa_recovery_codes WHERE user_id = $1`),
		insertRecovery: s.query(`INSERT INTO bulwark_mfa_recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`),
		useRecovery:    s.query(`DELETE FROM bulwark_mfa_recovery_codes WHERE user_id = $1 AND code_hash = $2`),
		countRecovery:  s.query(`SELECT COUNT(*) FROM bulwark_mfa_recovery_codes WHERE user_id = $1`),
		enableEmail: s.query(`INSERT INTO bulwark_mfa_email_factor (user_id, enabled_at) VALUES ($1, $2)
			ON CONFLICT (user_id) DO NOTHING`),
		getEmail:     s.query(`SELECT enabled_at FROM bulwark_mfa_email_factor WHERE user_id = $1`),
		disableEmail: s.query(`DELETE FROM bulwark_mfa_email_factor WHERE user_id = $1`),
	}}
}

func mfaErr(op string, err error) error { return fmt.Errorf("sqlstore: mfa: %s: %w", op, err) }

// mfaAffected runs an Exec and returns the number of rows it changed.
func mfaAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// mfaTx runs f in a transaction, committing if it returns nil.
func (s *mfaStore) mfaTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// PutPendingTOTP implements [mfa.TOTPStore].
func (s *mfaStore) PutPendingTOTP(ctx context.Context, r mfa.TOTPRecord) error {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.putTOTP, r.UserID, r.ID, r.Secret, string(r.Algorithm),
		r.Digits, int64(r.Period/time.Second), micros(r.CreatedAt)))
	if err != nil {
		return mfaErr("put TOTP", err)
	}
	if n == 0 {
		return mfa.ErrAlreadyEnrolled
	}
	return nil
}

// GetTOTP implements [mfa.TOTPStore].
func (s *mfaStore) GetTOTP(ctx context.Context, userID string) (mfa.TOTPRecord, error) {
	r := mfa.TOTPRecord{UserID: userID}
	var alg string
	var period, created, confirmed int64
	err := s.db.QueryRowContext(ctx, s.q.getTOTP, userID).Scan(&r.ID, &r.Secret, &alg, &r.Digits, &period, &created, &confirmed)
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.TOTPRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.TOTPRecord{}, mfaErr("get TOTP", err)
	}
	r.Algorithm, r.Period = mfa.Algorithm(alg), time.Duration(period)*time.Second
	r.CreatedAt, r.ConfirmedAt = fromMicros(created), fromMicros(confirmed)
	return r, nil
}

// ConfirmTOTP implements [mfa.TOTPStore].
func (s *mfaStore) ConfirmTOTP(ctx context.Context, userID, id string, at time.Time) error {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.confirmTOTP, userID, id, micros(at)))
	if err != nil {
		return mfaErr("confirm TOTP", err)
	}
	if n == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// DeleteTOTP implements [mfa.TOTPStore].
func (s *mfaStore) DeleteTOTP(ctx context.Context, userID string) error {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.deleteTOTP, userID))
	if err != nil {
		return mfaErr("delete TOTP", err)
	}
	if n == 0 {
		return mfa.ErrNotFound
	}
	return nil
}

// MarkStep implements [mfa.StepStore]. The mark is kept (one row per
// user) until a later step replaces it; keep is not needed.
func (s *mfaStore) MarkStep(ctx context.Context, userID string, step int64, _ time.Duration) (bool, error) {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.markStep, userID, step))
	if err != nil {
		return false, mfaErr("mark step", err)
	}
	return n == 1, nil
}

// PutOOB implements [mfa.OOBStore] in one conditional upsert.
func (s *mfaStore) PutOOB(ctx context.Context, r mfa.OOBRecord, resendAfter time.Duration) error {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.putOOB, r.UserID, string(r.Purpose), r.ID, r.Salt, r.Hash,
		micros(r.SentAt), micros(r.ExpiresAt), resendAfter.Microseconds()))
	if err != nil {
		return mfaErr("put code", err)
	}
	if n == 0 {
		return mfa.ErrThrottled
	}
	return nil
}

// GetOOB implements [mfa.OOBStore].
func (s *mfaStore) GetOOB(ctx context.Context, userID string, purpose mfa.Purpose, now time.Time) (mfa.OOBRecord, error) {
	r := mfa.OOBRecord{UserID: userID, Purpose: purpose}
	var sent, expires int64
	err := s.db.QueryRowContext(ctx, s.q.getOOB, userID, string(purpose), micros(now)).
		Scan(&r.ID, &r.Salt, &r.Hash, &sent, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return mfa.OOBRecord{}, mfa.ErrNotFound
	}
	if err != nil {
		return mfa.OOBRecord{}, mfaErr("get code", err)
	}
	r.SentAt, r.ExpiresAt = fromMicros(sent), fromMicros(expires)
	return r, nil
}

// DeleteOOB implements [mfa.OOBStore].
func (s *mfaStore) DeleteOOB(ctx context.Context, userID string, purpose mfa.Purpose, id string) (bool, error) {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.deleteOOB, userID, string(purpose), id))
	if err != nil {
		return false, mfaErr("delete code", err)
	}
	return n == 1, nil
}

// Cleanup deletes emailed codes that expired at or before now and returns
// how many it deleted. Expired codes never verify or throttle, so this is
// housekeeping only (there is at most one row per user and purpose); run
// it from a periodic job if the table matters.
func (s *mfaStore) Cleanup(ctx context.Context, now time.Time) (int64, error) {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.cleanupOOB, micros(now)))
	if err != nil {
		return 0, mfaErr("cleanup", err)
	}
	return n, nil
}

// ReplaceRecoveryCodes implements [mfa.RecoveryStore] in one transaction,
// which on PostgreSQL first takes a per-user advisory lock so that
// concurrent replaces leave exactly one set (on SQLite the transaction
// already holds the write lock).
func (s *mfaStore) ReplaceRecoveryCodes(ctx context.Context, userID string, hashes [][]byte, now time.Time) error {
	err := s.mfaTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, s.q.lockRecovery, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.q.deleteRecovery, userID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, s.q.insertRecovery, userID, h, micros(now)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return mfaErr("replace recovery codes", err)
	}
	return nil
}

// UseRecoveryCode implements [mfa.RecoveryStore]: the DELETE decides who
// wins; the count is taken in the same transaction.
func (s *mfaStore) UseRecoveryCode(ctx context.Context, userID string, hash []byte) (int, error) {
	var left int
	err := s.mfaTx(ctx, func(tx *sql.Tx) error {
		n, err := mfaAffected(tx.ExecContext(ctx, s.q.useRecovery, userID, hash))
		if err != nil {
			return err
		}
		if n == 0 {
			return mfa.ErrNotFound
		}
		return tx.QueryRowContext(ctx, s.q.countRecovery, userID).Scan(&left)
	})
	if errors.Is(err, mfa.ErrNotFound) {
		return 0, mfa.ErrNotFound
	}
	if err != nil {
		return 0, mfaErr("use recovery code", err)
	}
	return left, nil
}

// CountRecoveryCodes implements [mfa.RecoveryStore].
func (s *mfaStore) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.q.countRecovery, userID).Scan(&n); err != nil {
		return 0, mfaErr("count recovery codes", err)
	}
	return n, nil
}

// EnableEmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) EnableEmailFactor(ctx context.Context, userID string, at time.Time) error {
	if _, err := s.db.ExecContext(ctx, s.q.enableEmail, userID, micros(at)); err != nil {
		return mfaErr("enable email factor", err)
	}
	return nil
}

// EmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) EmailFactor(ctx context.Context, userID string) (time.Time, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, s.q.getEmail, userID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, mfa.ErrNotFound
	}
	if err != nil {
		return time.Time{}, mfaErr("get email factor", err)
	}
	return fromMicros(at), nil
}

// DisableEmailFactor implements [mfa.EmailFactorStore].
func (s *mfaStore) DisableEmailFactor(ctx context.Context, userID string) error {
	n, err := mfaAffected(s.db.ExecContext(ctx, s.q.disableEmail, userID))
	if err != nil {
		return mfaErr("disable email factor", err)
	}
	if n == 0 {
		return mfa.ErrNotFound
	}
	return nil
}
