package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the host picks the driver; sqlstore imports none

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

	sessions := session.New(st.Session(), session.Config{})
	iss, err := sessions.Create(ctx, "user-1", session.Login{Factors: []string{"password"}})
	if err != nil {
		panic(err)
	}
	s, err := sessions.Validate(ctx, iss.Token)
	fmt.Println(st.Dialect(), "session for", s.UserID, "valid:", err == nil)
	// Output: sqlite session for user-1 valid: true
}
