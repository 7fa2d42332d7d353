package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// The app's own tables. Bulwark keeps its state in bulwark_* tables created
// by sqlstore's migrations; the host's data (users, clients) lives next to
// them in the same database, in tables the host owns.
var schema = []string{
	`CREATE TABLE IF NOT EXISTS webapp_users (
		id TEXT PRIMARY KEY,
		username TEXT NOT NULL UNIQUE,
		email TEXT NOT NULL UNIQUE,
		password_hash TEXT NOT NULL,
		is_admin INTEGER NOT NULL DEFAULT 0,
		created_at BIGINT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS webapp_clients (
		id TEXT PRIMARY KEY,
		owner_id TEXT NOT NULL,
		name TEXT NOT NULL,
		email TEXT NOT NULL,
		phone TEXT NOT NULL,
		notes_sealed TEXT NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS webapp_clients_owner ON webapp_clients (owner_id, name)`,
}

var errNotFound = errors.New("webapp: not found")

// User is an account of the app.
type User struct {
	ID           string
	Username     string
	Email        string
	PasswordHash string `audit:"-"`
	IsAdmin      bool
	CreatedAt    time.Time
}

// Client is one row of the demo "clients" module. Notes are personal data
// the app encrypts under the owner's own key (see sealNotes), so erasing the
// owner's key erases every copy, backups included.
type Client struct {
	ID        string    `audit:"-"`
	OwnerID   string    `audit:"-"`
	Name      string    `audit:"name"`
	Email     string    `audit:"email"`
	Phone     string    `audit:"phone"`
	Notes     string    `audit:"notes,redact"`
	CreatedAt time.Time `audit:"-"`
	UpdatedAt time.Time `audit:"-"`
}

// db wraps the host tables. Queries are written with $n placeholders and
// passed through the Bulwark store's Rebind, so they run on SQLite too.
type db struct {
	sql *sql.DB
	st  *sqlstore.Store
	tx  *sql.Tx // when set, exec writes inside this transaction (see recordClientChange)
}

func (d db) migrate(ctx context.Context) error {
	for _, q := range schema {
		if _, err := d.sql.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("webapp schema: %w", err)
		}
	}
	return nil
}

func (d db) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if d.tx != nil {
		return d.tx.ExecContext(ctx, d.st.Rebind(q), args...)
	}
	return d.sql.ExecContext(ctx, d.st.Rebind(q), args...)
}

const userCols = `id, username, email, password_hash, is_admin, created_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var admin int
	var created int64
	err := row.Scan(&u.ID, &u.Username, &u.Email, &u.PasswordHash, &admin, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, errNotFound
	}
	u.IsAdmin, u.CreatedAt = admin == 1, fromMicros(created)
	return u, err
}

// createUser inserts u; the first account ever created becomes the admin.
func (d db) createUser(ctx context.Context, u *User) error {
	if u.ID == "" {
		u.ID = uuid.Must(uuid.NewV7()).String()
	}
	res, err := d.exec(ctx, `INSERT INTO webapp_users (`+userCols+`)
		SELECT $1, $2, $3, $4, CASE WHEN EXISTS (SELECT 1 FROM webapp_users) THEN 0 ELSE 1 END, $5`,
		u.ID, u.Username, strings.ToLower(u.Email), u.PasswordHash, micros(u.CreatedAt))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.New("webapp: user not created")
	}
	got, err := d.userByID(ctx, u.ID)
	u.IsAdmin = got.IsAdmin
	return err
}

func (d db) userBy(ctx context.Context, where string, arg string) (User, error) {
	return scanUser(d.sql.QueryRowContext(ctx, d.st.Rebind(`SELECT `+userCols+` FROM webapp_users WHERE `+where), arg))
}

func (d db) userByID(ctx context.Context, id string) (User, error) {
	return d.userBy(ctx, `id = $1`, id)
}

// userByLogin finds a user by username (case-insensitively) or email.
func (d db) userByLogin(ctx context.Context, login string) (User, error) {
	return d.userBy(ctx, `lower(username) = $1 OR email = $1`, strings.ToLower(strings.TrimSpace(login)))
}

func (d db) setPasswordHash(ctx context.Context, id, hash string) error {
	_, err := d.exec(ctx, `UPDATE webapp_users SET password_hash = $1 WHERE id = $2`, hash, id)
	return err
}

// countAdmins counts the administrators, so the last one is not deleted.
func (d db) countAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM webapp_users WHERE is_admin = 1`).Scan(&n)
	return n, err
}

// makeAdmin gives a user the administrator role.
func (d db) makeAdmin(ctx context.Context, id string) error {
	res, err := d.exec(ctx, `UPDATE webapp_users SET is_admin = 1 WHERE id = $1`, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errNotFound
	}
	return nil
}

func (d db) deleteUser(ctx context.Context, id string) error {
	_, err := d.exec(ctx, `DELETE FROM webapp_users WHERE id = $1`, id)
	return err
}

func (d db) listUsers(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT `+userCols+` FROM webapp_users ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// Clients. Notes arrive here already sealed (a base64 string) or are
// returned sealed; clients.go seals and opens them.

const clientCols = `id, owner_id, name, email, phone, notes_sealed, created_at, updated_at`

func scanClient(row interface{ Scan(...any) error }) (Client, string, error) {
	var c Client
	var sealed string
	var created, updated int64
	err := row.Scan(&c.ID, &c.OwnerID, &c.Name, &c.Email, &c.Phone, &sealed, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, "", errNotFound
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, sealed, err
}

func (d db) insertClient(ctx context.Context, c Client, sealed string) error {
	_, err := d.exec(ctx, `INSERT INTO webapp_clients (`+clientCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.ID, c.OwnerID, c.Name, c.Email, c.Phone, sealed, micros(c.CreatedAt), micros(c.UpdatedAt))
	return err
}

func (d db) updateClient(ctx context.Context, c Client, sealed string) error {
	res, err := d.exec(ctx, `UPDATE webapp_clients SET name = $1, email = $2, phone = $3, notes_sealed = $4, updated_at = $5
		WHERE id = $6 AND owner_id = $7`, c.Name, c.Email, c.Phone, sealed, micros(c.UpdatedAt), c.ID, c.OwnerID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errNotFound
	}
	return nil
}

func (d db) deleteClient(ctx context.Context, owner, id string) error {
	res, err := d.exec(ctx, `DELETE FROM webapp_clients WHERE id = $1 AND owner_id = $2`, id, owner)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errNotFound
	}
	return nil
}

func (d db) deleteClientsOf(ctx context.Context, owner string) error {
	_, err := d.exec(ctx, `DELETE FROM webapp_clients WHERE owner_id = $1`, owner)
	return err
}

// client returns one of owner's clients with its notes still sealed.
func (d db) client(ctx context.Context, owner, id string) (Client, string, error) {
	return scanClient(d.sql.QueryRowContext(ctx, d.st.Rebind(`SELECT `+clientCols+` FROM webapp_clients WHERE id = $1 AND owner_id = $2`), id, owner))
}

// clients calls fn for each of owner's clients, by name, notes sealed.
func (d db) clients(ctx context.Context, owner string, fn func(Client, string) error) error {
	rows, err := d.sql.QueryContext(ctx, d.st.Rebind(`SELECT `+clientCols+` FROM webapp_clients WHERE owner_id = $1 ORDER BY name, id`), owner)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	for rows.Next() {
		c, sealed, err := scanClient(rows)
		if err != nil {
			return err
		}
		if err := fn(c, sealed); err != nil {
			return err
		}
	}
	return rows.Err()
}

// micros and fromMicros store times as microseconds since the Unix epoch,
// as Bulwark's own tables do; the zero time is 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
