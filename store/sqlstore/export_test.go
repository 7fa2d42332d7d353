package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"
)

// MigrateFS runs a migration with another set of files, for tests.
func MigrateFS(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	return migrate(ctx, db, d, fsys)
}

// SessionUnpack reads the packed row of a session Get, for the fuzz target.
var SessionUnpack = sessionUnpack
