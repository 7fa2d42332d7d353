package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/bulwarkhq/bulwark/retention"
)

// MigrateFS runs a migration with another set of files, for tests.
func MigrateFS(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	return migrate(ctx, db, d, fsys)
}

// LeaseBackendPID returns the PostgreSQL backend pid of the connection that
// holds lease's advisory lock, so a test can kill exactly that backend.
func LeaseBackendPID(ctx context.Context, lease retention.Lease) (int, error) {
	var pid int
	err := lease.(*retentionLease).conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid)
	return pid, err
}

// SessionUnpack reads the packed row of a session Get, for the fuzz target.
var SessionUnpack = sessionUnpack
