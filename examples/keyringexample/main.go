// Command keyringexample encrypts a users table field by field with
// keyring, looks a user up by blind index, rotates the data key and
// re-encrypts the table in resumable batches, then erases one user by
// destroying their subject key. It needs no server: the data lives in an
// SQLite file in a temporary directory, removed at exit.
//
//	go run ./examples/keyringexample
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "keyringexample:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "keyringexample")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		return err
	}
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE users (id INTEGER PRIMARY KEY, email BLOB, email_bidx BLOB, address BLOB)`); err != nil {
		return err
	}

	// In production the master key comes from the environment or a mounted
	// file: keyring.LocalKEKFromEnv("BULWARK_MASTER_KEY").
	master := keyring.GenerateMasterKey()
	kek, err := keyring.NewLocalKEK(master.Bytes())
	master.Zero()
	if err != nil {
		return err
	}
	kr, err := keyring.New(st.Keyring(), kek, keyring.Config{})
	if err != nil {
		return err
	}

	for i, email := range []string{"ada@example.com", "grace@example.com", "edsger@example.com"} {
		id := strconv.Itoa(i + 1)
		ct, err := kr.Seal(ctx, []byte(email), keyring.AD("users", "email", id))
		if err != nil {
			return err
		}
		bidx, err := kr.BlindIndex(ctx, "users.email", []byte(email))
		if err != nil {
			return err
		}
		addr, err := kr.SealFor(ctx, "user-"+id, []byte("street "+id), keyring.AD("users", "address", id))
		if err != nil {
			return err
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO users (id, email, email_bidx, address) VALUES (?, ?, ?, ?)`, i+1, ct, bidx, addr); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "stored 3 users, email and address encrypted")

	// Find a user by email without decrypting the table.
	bidx, err := kr.BlindIndex(ctx, "users.email", []byte("grace@example.com"))
	if err != nil {
		return err
	}
	var id int
	var ct []byte
	if err := db.QueryRowContext(ctx, `SELECT id, email FROM users WHERE email_bidx = ?`, bidx).Scan(&id, &ct); err != nil {
		return err
	}
	email, err := kr.Open(ctx, ct, keyring.AD("users", "email", strconv.Itoa(id)))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "found user %d by blind index: %s\n", id, email)

	// Rotate, then move every email to the new key in batches.
	// Key administration is the keyring's Admin role.
	admin := kr.Admin()
	newID, err := admin.Rotate(ctx)
	if err != nil {
		return err
	}
	p, err := admin.ReEncrypt(ctx, emailColumn{db}, keyring.ReEncryptOptions{BatchSize: 2, Progress: func(p keyring.Progress) {
		if !p.Done { // a host saves p.Cursor here, to resume after a restart
			fmt.Fprintf(w, "re-encrypt checkpoint after row %s: %d re-encrypted\n", p.Cursor, p.ReEncrypted)
		}
	}})
	if err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT email FROM users WHERE id = 1`).Scan(&ct); err != nil {
		return err
	}
	kid, err := keyring.KeyID(ct)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "rotation done: %d rows scanned, row 1 under the new key: %t\n", p.Scanned, kid == newID)

	// Erase user 2: their address becomes unreadable, backups included.
	if err := admin.DestroySubjectKey(ctx, "user-2"); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT address FROM users WHERE id = 2`).Scan(&ct); err != nil {
		return err
	}
	_, err = kr.OpenFor(ctx, "user-2", ct, keyring.AD("users", "address", "2"))
	fmt.Fprintf(w, "user 2 erased, address unreadable: %t\n", errors.Is(err, keyring.ErrUnknownKey))
	return nil
}

// emailColumn is the users.email column as a keyring.RecordSource.
type emailColumn struct{ db *sql.DB }

func (c emailColumn) NextBatch(ctx context.Context, cursor string, limit int) ([]keyring.Record, string, error) {
	after := 0
	if cursor != "" {
		var err error
		if after, err = strconv.Atoi(cursor); err != nil {
			return nil, "", err
		}
	}
	rows, err := c.db.QueryContext(ctx, `SELECT id, email FROM users WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, "", err
	}
	defer func() { _ = rows.Close() }()
	var recs []keyring.Record
	next := cursor
	for rows.Next() {
		var id int
		var ct []byte
		if err := rows.Scan(&id, &ct); err != nil {
			return nil, "", err
		}
		next = strconv.Itoa(id)
		recs = append(recs, keyring.Record{ID: next, Ciphertext: ct, AssociatedData: keyring.AD("users", "email", next)})
	}
	return recs, next, rows.Err()
}

func (c emailColumn) Replace(ctx context.Context, ups []keyring.Update) error {
	for _, u := range ups {
		// Compare-and-set: a concurrent update by the app wins.
		if _, err := c.db.ExecContext(ctx, `UPDATE users SET email = ? WHERE id = ? AND email = ?`, u.NewCiphertext, u.ID, u.Ciphertext); err != nil {
			return err
		}
	}
	return nil
}
