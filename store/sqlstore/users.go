package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark/auth"
)

var _ auth.CredentialStore = (*userStore)(nil)

// userStore is the store [Store.Users] returns.
type userStore struct {
	db *sql.DB
	q  userQueries
}

type userQueries struct{ byID, byEmail, byLogin, create, setHash string }

const userCols = `SELECT id, username, email, password_hash, mfa_required FROM bulwark_users `

// Users returns the reference users table, sharing s's pool.
//
// The store is a reference users table, bulwark_users (migration component
// "users"), implementing [auth.CredentialStore] so that a host can start
// before it has its own. Usernames are unique as auth.UsernameKey folds
// them and email addresses case-insensitively, by unique constraints, so
// concurrent sign-ups on any number of instances never share one; ByLogin
// finds a user by either. It is safe for concurrent use.
func (s *Store) Users() auth.CredentialStore {
	return &userStore{db: s.db, q: userQueries{
		byID:    s.query(userCols + `WHERE id = $1`),
		byEmail: s.query(userCols + `WHERE email_key = $1`),
		byLogin: s.query(userCols + `WHERE username_key = $1 OR email_key = $2 ORDER BY username_key = $1 DESC LIMIT 1`),
		// DO NOTHING on any unique constraint: id, username or email.
		create: s.query(`INSERT INTO bulwark_users (id, username, username_key, email, email_key, password_hash, mfa_required, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`),
		setHash: s.query(`UPDATE bulwark_users SET password_hash = $2 WHERE id = $1`),
	}}
}

func userEmailKey(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// FindUser implements [auth.CredentialStore].
func (s *userStore) FindUser(ctx context.Context, by auth.Lookup, value string) (auth.User, error) {
	if value == "" {
		return auth.User{}, auth.ErrNotFound
	}
	var row *sql.Row
	switch by {
	case auth.ByID:
		row = s.db.QueryRowContext(ctx, s.q.byID, value)
	case auth.ByEmail:
		row = s.db.QueryRowContext(ctx, s.q.byEmail, userEmailKey(value))
	case auth.ByLogin:
		row = s.db.QueryRowContext(ctx, s.q.byLogin, auth.UsernameKey(value), userEmailKey(value))
	default:
		return auth.User{}, auth.ErrNotFound
	}
	var u auth.User
	var mfaRequired int64
	switch err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &mfaRequired); {
	case errors.Is(err, sql.ErrNoRows):
		return auth.User{}, auth.ErrNotFound
	case err != nil:
		return auth.User{}, fmt.Errorf("sqlstore: find user: %w", err)
	}
	u.MFARequired = mfaRequired != 0
	return u, nil
}

// CreateUser implements [auth.CredentialStore]: [auth.ErrTaken] when the
// id, the username or the email address exists.
func (s *userStore) CreateUser(ctx context.Context, u auth.User) error {
	var ek any
	if k := userEmailKey(u.Email); k != "" {
		ek = k
	}
	mfaRequired := 0
	if u.MFARequired {
		mfaRequired = 1
	}
	res, err := s.db.ExecContext(ctx, s.q.create, u.ID, u.Username, auth.UsernameKey(u.Username), u.Email, ek,
		u.PasswordHash, mfaRequired, micros(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: create user: %w", err)
	}
	if n == 0 {
		return auth.ErrTaken
	}
	return nil
}

// SetPasswordHash implements [auth.CredentialStore]; [auth.ErrNotFound]
// for an unknown user.
func (s *userStore) SetPasswordHash(ctx context.Context, userID, hash string) error {
	res, err := s.db.ExecContext(ctx, s.q.setHash, userID, hash)
	if err != nil {
		return fmt.Errorf("sqlstore: set password hash: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: set password hash: %w", err)
	}
	if n == 0 {
		return auth.ErrNotFound
	}
	return nil
}
