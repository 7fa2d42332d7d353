package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// Example opens a database the host already has, lets sqlstore detect its
// dialect, creates Bulwark's tables, and hands a package its store.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate")
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()

	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		panic(err)
	}
	// Safe to call from every instance at start-up; the second call is a no-op.
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}

	sessions, err := session.New(st.Session(), session.Config{})
	if err != nil {
		panic(err)
	}
	iss, err := sessions.Create(ctx, "user-1", session.Login{Factors: []string{"password"}})
	if err != nil {
		panic(err)
	}
	s, err := sessions.Validate(ctx, iss.Token)
	fmt.Println(st.Dialect(), "session for", s.UserID, "valid:", err == nil)
	// Output: sqlite session for user-1 valid: true
}

// ExampleAuditStore_Tx records a change in the same transaction as the
// change itself: if the transaction rolls back (or its request is
// cancelled), the record goes with it.
func ExampleAuditStore_Tx() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "sqlstore-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "app.db")+
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		panic(err)
	}
	defer func() { _ = db.Close() }()
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		panic(err)
	}
	if err := st.Migrate(ctx); err != nil {
		panic(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE invoices (id TEXT PRIMARY KEY, total INTEGER)`); err != nil {
		panic(err)
	}
	changes := st.Audit()
	log, err := audit.New(changes, audit.Config{})
	if err != nil {
		panic(err)
	}

	create := func(id string, commit bool) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := tx.ExecContext(ctx, `INSERT INTO invoices VALUES (?, 100)`, id); err != nil {
			return err
		}
		// The change first, its record last, then commit.
		if _, err := log.AppendTx(ctx, changes.Tx(tx), audit.Entry{Actor: "u1",
			Action: "invoice.created", TargetType: "invoice", TargetID: id}); err != nil {
			return err // fail closed: the insert rolls back too
		}
		if !commit {
			return tx.Rollback()
		}
		return tx.Commit()
	}
	if err := create("inv-1", true); err != nil {
		panic(err)
	}
	if err := create("inv-2", false); err != nil {
		panic(err)
	}
	page, err := log.Query(ctx, audit.Filter{TargetType: "invoice"})
	if err != nil {
		panic(err)
	}
	for _, r := range page.Records {
		fmt.Println(r.Seq, r.Action, r.TargetID)
	}
	// Output: 1 invoice.created inv-1
}
