package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/bulwarkhq/bulwark/keyring"
)

// keyringStore is the store [Store.Keyring] returns.
type keyringStore struct {
	db      *sql.DB
	dialect Dialect
	q       keyringQueries
}

var _ keyring.Store = (*keyringStore)(nil)

type keyringQueries struct {
	keys, key, add, lockAll, demote, promote, setState, state, destroy,
	replace, addUses, subjectKey, addSubject, deleteSubject, subjectKeys string
}

const keyringCols = `subject, id, state, wrapped, uses, created_at, updated_at`

// Keyring returns the keyring store on s's database. Run [Store.Migrate]
// first.
//
// The store is the [keyring.Store] on SQL.
//
// Promotion runs in one transaction: on PostgreSQL it first locks every
// keyring key row (SELECT ... FOR UPDATE, in id order), so concurrent
// promotions from several processes run one after the other; on SQLite the
// transaction takes the database's write lock at BEGIN when the DSN has
// _txlock=immediate (recommended; without it a racing promotion may fail
// with SQLITE_BUSY, never corrupt state). In both dialects a partial unique
// index allows only one primary key, so two primaries are impossible
// whatever the isolation level.
func (s *Store) Keyring() keyring.Store {
	lockAll := `SELECT id FROM bulwark_keyring_keys WHERE subject = '' ORDER BY id FOR UPDATE`
	if s.dialect == SQLite {
		lockAll = `SELECT id FROM bulwark_keyring_keys WHERE subject = '' ORDER BY id`
	}
	return &keyringStore{db: s.db, dialect: s.dialect, q: keyringQueries{
		keys:    s.query(`SELECT ` + keyringCols + ` FROM bulwark_keyring_keys WHERE subject = '' ORDER BY id`),
		key:     s.query(`SELECT ` + keyringCols + ` FROM bulwark_keyring_keys WHERE subject = '' AND id = $1`),
		add:     s.query(`INSERT INTO bulwark_keyring_keys (` + keyringCols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`),
		lockAll: s.query(lockAll),
		demote:  s.query(`UPDATE bulwark_keyring_keys SET state = 'enabled', updated_at = $2 WHERE subject = '' AND state = 'primary' AND id <> $1`),
		promote: s.query(`UPDATE bulwark_keyring_keys SET state = 'primary', updated_at = $2 WHERE subject = '' AND id = $1 AND state = 'enabled'`),
		setState: s.query(`UPDATE bulwark_keyring_keys SET state = $2, updated_at = $3
			WHERE subject = '' AND id = $1 AND state <> 'primary'`),
		state:         s.query(`SELECT state FROM bulwark_keyring_keys WHERE subject = '' AND id = $1`),
		destroy:       s.query(`DELETE FROM bulwark_keyring_keys WHERE subject = '' AND id = $1 AND state = 'disabled'`),
		replace:       s.query(`UPDATE bulwark_keyring_keys SET wrapped = $4 WHERE subject = $1 AND id = $2 AND wrapped = $3`),
		addUses:       s.query(`UPDATE bulwark_keyring_keys SET uses = uses + $2 WHERE subject = '' AND id = $1`),
		subjectKey:    s.query(`SELECT ` + keyringCols + ` FROM bulwark_keyring_keys WHERE subject = $1 AND subject <> ''`),
		addSubject:    s.query(`INSERT INTO bulwark_keyring_keys (` + keyringCols + `) VALUES ($1, $2, 'primary', $3, 0, $4, $5) ON CONFLICT DO NOTHING`),
		deleteSubject: s.query(`DELETE FROM bulwark_keyring_keys WHERE subject = $1 AND subject <> ''`),
		subjectKeys:   s.query(`SELECT ` + keyringCols + ` FROM bulwark_keyring_keys WHERE subject > $1 ORDER BY subject LIMIT $2`),
	}}
}

type keyringScanner interface{ Scan(dest ...any) error }

func keyringScan(r keyringScanner) (keyring.Key, error) {
	var k keyring.Key
	var id, uses, created, updated int64
	var state string
	if err := r.Scan(&k.Subject, &id, &state, &k.Wrapped, &uses, &created, &updated); err != nil {
		return keyring.Key{}, err
	}
	k.ID, k.State, k.Uses = uint32(id), keyring.State(state), uint64(uses) // #nosec G115 -- CHECK constraints keep both in range
	k.CreatedAt, k.UpdatedAt = fromMicros(created), fromMicros(updated)
	return k, nil
}

func keyringErr(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return keyring.ErrNotFound
	}
	return fmt.Errorf("sqlstore: keyring %s: %w", op, err)
}

func (s *keyringStore) list(ctx context.Context, op, q string, args ...any) ([]keyring.Key, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, keyringErr(op, err)
	}
	defer func() { _ = rows.Close() }()
	var out []keyring.Key
	for rows.Next() {
		k, err := keyringScan(rows)
		if err != nil {
			return nil, keyringErr(op, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, keyringErr(op, err)
	}
	return out, nil
}

// Keys implements [keyring.KeyStore].
func (s *keyringStore) Keys(ctx context.Context) ([]keyring.Key, error) {
	return s.list(ctx, "keys", s.q.keys)
}

// Key implements [keyring.KeyStore].
func (s *keyringStore) Key(ctx context.Context, id uint32) (keyring.Key, error) {
	k, err := keyringScan(s.db.QueryRowContext(ctx, s.q.key, int64(id)))
	if err != nil {
		return keyring.Key{}, keyringErr("key", err)
	}
	return k, nil
}

// AddKey implements [keyring.KeyStore].
func (s *keyringStore) AddKey(ctx context.Context, k keyring.Key) error {
	if !k.State.Valid() {
		return fmt.Errorf("sqlstore: keyring add: invalid state %q", k.State)
	}
	res, err := s.db.ExecContext(ctx, s.q.add, "", int64(k.ID), string(k.State), k.Wrapped,
		int64(k.Uses), micros(k.CreatedAt), micros(k.UpdatedAt)) // #nosec G115 -- counts stay far below 2^63
	return keyringAffected(res, err, "add", keyring.ErrDuplicate)
}

func keyringAffected(res sql.Result, err error, op string, none error) error {
	if err != nil {
		return keyringErr(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return keyringErr(op, err)
	}
	if n == 0 {
		return none
	}
	return nil
}

// SetState implements [keyring.KeyStore].
func (s *keyringStore) SetState(ctx context.Context, id uint32, st keyring.State, at time.Time) error {
	switch st {
	case keyring.Primary:
		return s.promote(ctx, id, at)
	case keyring.Enabled, keyring.Disabled:
		res, err := s.db.ExecContext(ctx, s.q.setState, int64(id), string(st), micros(at))
		if err := keyringAffected(res, err, "set state", errNoRows); !errors.Is(err, errNoRows) {
			return err
		}
		return s.whyNot(ctx, s.db, id)
	default:
		return fmt.Errorf("sqlstore: keyring set state: invalid state %q", st)
	}
}

var errNoRows = errors.New("no rows")

type keyringQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// whyNot explains why a conditional write matched no row.
func (s *keyringStore) whyNot(ctx context.Context, q keyringQuerier, id uint32) error {
	var state string
	if err := q.QueryRowContext(ctx, s.q.state, int64(id)).Scan(&state); err != nil {
		return keyringErr("state", err)
	}
	switch keyring.State(state) {
	case keyring.Primary:
		return keyring.ErrPrimaryKey
	case keyring.Disabled:
		return keyring.ErrKeyDisabled
	default:
		return keyring.ErrKeyEnabled
	}
}

func (s *keyringStore) promote(ctx context.Context, id uint32, at time.Time) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return keyringErr("promote", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// Serialise promotions: lock every keyring row before reading any.
	rows, err := tx.QueryContext(ctx, s.q.lockAll)
	if err != nil {
		return keyringErr("promote", err)
	}
	for rows.Next() {
	}
	if err = rows.Close(); err != nil {
		return keyringErr("promote", err)
	}
	var state string
	if err = tx.QueryRowContext(ctx, s.q.state, int64(id)).Scan(&state); err != nil {
		return keyringErr("promote", err)
	}
	switch keyring.State(state) {
	case keyring.Disabled:
		return keyring.ErrKeyDisabled
	case keyring.Primary:
		if err = tx.Commit(); err != nil {
			return keyringErr("promote", err)
		}
		return nil
	}
	if _, err = tx.ExecContext(ctx, s.q.demote, int64(id), micros(at)); err != nil {
		return keyringErr("promote", err)
	}
	if _, err = tx.ExecContext(ctx, s.q.promote, int64(id), micros(at)); err != nil {
		return keyringErr("promote", err)
	}
	if err = tx.Commit(); err != nil {
		return keyringErr("promote", err)
	}
	return nil
}

// DestroyKey implements [keyring.KeyAdminStore].
func (s *keyringStore) DestroyKey(ctx context.Context, id uint32) error {
	res, err := s.db.ExecContext(ctx, s.q.destroy, int64(id))
	if err := keyringAffected(res, err, "destroy", errNoRows); !errors.Is(err, errNoRows) {
		return err
	}
	return s.whyNot(ctx, s.db, id)
}

// ReplaceWrapped implements [keyring.KeyAdminStore].
func (s *keyringStore) ReplaceWrapped(ctx context.Context, subject string, id uint32, oldWrapped, newWrapped []byte) error {
	res, err := s.db.ExecContext(ctx, s.q.replace, subject, int64(id), oldWrapped, newWrapped)
	return keyringAffected(res, err, "replace wrapped", keyring.ErrNotFound)
}

// AddUses implements [keyring.KeyAdminStore].
func (s *keyringStore) AddUses(ctx context.Context, id uint32, n uint64) error {
	if _, err := s.db.ExecContext(ctx, s.q.addUses, int64(id), int64(n)); err != nil { // #nosec G115 -- n is a batch of at most UsageFlushEvery
		return keyringErr("add uses", err)
	}
	return nil
}

// SubjectKey implements [keyring.SubjectKeyStore].
func (s *keyringStore) SubjectKey(ctx context.Context, subject string) (keyring.Key, error) {
	k, err := keyringScan(s.db.QueryRowContext(ctx, s.q.subjectKey, subject))
	if err != nil {
		return keyring.Key{}, keyringErr("subject key", err)
	}
	return k, nil
}

// AddSubjectKey implements [keyring.SubjectKeyStore]. The insert does
// nothing when the subject has a key (the partial unique index), and the
// key read back is whichever was stored first.
func (s *keyringStore) AddSubjectKey(ctx context.Context, k keyring.Key) (keyring.Key, error) {
	if k.Subject == "" {
		return keyring.Key{}, keyring.ErrInvalidSubject
	}
	if _, err := s.db.ExecContext(ctx, s.q.addSubject, k.Subject, int64(k.ID), k.Wrapped,
		micros(k.CreatedAt), micros(k.UpdatedAt)); err != nil {
		return keyring.Key{}, keyringErr("add subject key", err)
	}
	return s.SubjectKey(ctx, k.Subject)
}

// DeleteSubjectKey implements [keyring.SubjectKeyStore].
func (s *keyringStore) DeleteSubjectKey(ctx context.Context, subject string) error {
	res, err := s.db.ExecContext(ctx, s.q.deleteSubject, subject)
	return keyringAffected(res, err, "delete subject key", keyring.ErrNotFound)
}

// SubjectKeys implements [keyring.SubjectKeyStore].
func (s *keyringStore) SubjectKeys(ctx context.Context, after string, limit int) ([]keyring.Key, error) {
	return s.list(ctx, "subject keys", s.q.subjectKeys, after, limit)
}
