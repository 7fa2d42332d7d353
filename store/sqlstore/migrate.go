package sqlstore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

// embedded holds migrations/<dialect>/<component>/<NNNN>_<name>.sql.
//
//go:embed migrations
var embedded embed.FS

// Migration is one versioned schema change for one dialect.
type Migration struct {
	Component string // "core", "session", "audit", ...
	Version   int    // 1, 2, ... within the component
	Name      string // from the file name, e.g. "meta"
	SQL       string // one or more statements
	Checksum  string // hex SHA-256 of SQL, recorded when applied
}

// ErrMigrationChanged is returned by [Migrate] when a migration recorded as
// applied no longer matches the embedded SQL of the same component and
// version. It means the binary and the database disagree about the schema,
// and nothing is applied until a person looks.
var ErrMigrationChanged = errors.New("sqlstore: applied migration differs from embedded SQL")

// Migrate creates or upgrades Bulwark's tables in db. It detects the dialect
// (see [DetectDialect]) and applies every embedded migration not yet recorded
// in bulwark_schema_migrations, in order: the core component first, then the
// others by name, each by version.
//
// It is idempotent: a second call applies nothing. It is safe to call from
// several processes at once, for example from every instance of an app at
// start-up. On PostgreSQL the whole run is one transaction holding
// pg_advisory_xact_lock on a key derived from the current schema, so
// concurrent callers wait for each other and the later ones find nothing to
// do; on SQLite the run is one BEGIN IMMEDIATE transaction, which takes the
// database's write lock. If any statement fails the run rolls back whole.
func Migrate(ctx context.Context, db *sql.DB) error {
	d, err := DetectDialect(ctx, db)
	if err != nil {
		return err
	}
	return migrate(ctx, db, d, embedded)
}

// Migrations returns the embedded migrations for dialect d in the order
// [Migrate] applies them, for hosts that run their own migration tool. Such
// hosts should apply each once, in order, and never call [Migrate].
func Migrations(d Dialect) ([]Migration, error) {
	return loadMigrations(embedded, d)
}

func loadMigrations(fsys fs.FS, d Dialect) ([]Migration, error) {
	if !d.valid() {
		return nil, ErrUnknownDialect
	}
	root := path.Join("migrations", d.String())
	var out []Migration
	err := fs.WalkDir(fsys, root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			return nil
		}
		m, err := parseMigrationPath(strings.TrimPrefix(p, root+"/"))
		if err != nil {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m.SQL = string(b)
		sum := sha256.Sum256(b)
		m.Checksum = hex.EncodeToString(sum[:])
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: load migrations: %w", err)
	}
	slices.SortFunc(out, compareMigrations)
	for i := 1; i < len(out); i++ {
		if out[i].Component == out[i-1].Component && out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("sqlstore: two migrations for %s version %d", out[i].Component, out[i].Version)
		}
	}
	return out, nil
}

// parseMigrationPath parses "<component>/<NNNN>_<name>.sql".
func parseMigrationPath(p string) (Migration, error) {
	component, file, ok := strings.Cut(p, "/")
	if !ok || strings.Contains(file, "/") || !strings.HasSuffix(file, ".sql") {
		return Migration{}, fmt.Errorf("migration path %q is not <component>/<NNNN>_<name>.sql", p)
	}
	num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v < 1 || name == "" || component == "" {
		return Migration{}, fmt.Errorf("migration path %q is not <component>/<NNNN>_<name>.sql", p)
	}
	return Migration{Component: component, Version: v, Name: name}, nil
}

func compareMigrations(a, b Migration) int {
	// core first: it holds what other components may rely on.
	if (a.Component == "core") != (b.Component == "core") {
		if a.Component == "core" {
			return -1
		}
		return 1
	}
	return cmp.Or(strings.Compare(a.Component, b.Component), cmp.Compare(a.Version, b.Version))
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS bulwark_schema_migrations (
    component  TEXT NOT NULL,
    version    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    checksum   TEXT NOT NULL,
    applied_at BIGINT NOT NULL,
    PRIMARY KEY (component, version)
)`

// execer is what a migration run needs from a *sql.Tx or a *sql.Conn.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func migrate(ctx context.Context, db *sql.DB, d Dialect, fsys fs.FS) error {
	ms, err := loadMigrations(fsys, d)
	if err != nil {
		return err
	}
	switch d {
	case Postgres:
		return migratePostgres(ctx, db, ms)
	case SQLite:
		return migrateSQLite(ctx, db, ms)
	default:
		return ErrUnknownDialect
	}
}

func migratePostgres(ctx context.Context, db *sql.DB, ms []Migration) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	// The lock is scoped to the schema so that separate schemas (tenants,
	// or parallel tests) migrate independently. It is released at commit or
	// rollback.
	if _, err = tx.ExecContext(ctx,
		`SELECT pg_advisory_xact_lock(hashtext('bulwark.migrate:' || current_schema()))`); err != nil {
		return fmt.Errorf("sqlstore: migrate: lock: %w", err)
	}
	if err = applyMissing(ctx, tx, Postgres, ms); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

func migrateSQLite(ctx context.Context, db *sql.DB, ms []Migration) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() { _ = conn.Close() }()
	// A second process waits for the write lock rather than failing at once.
	if _, err = conn.ExecContext(ctx, "PRAGMA busy_timeout = 30000"); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	// database/sql's BeginTx cannot ask for IMMEDIATE, so the transaction is
	// driven by hand on one pinned connection.
	if _, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return fmt.Errorf("sqlstore: migrate: begin: %w", err)
	}
	defer func() {
		if err != nil {
			// A fresh context: the caller's may be what was cancelled, and the
			// connection must not go back to the pool mid-transaction.
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		}
	}()
	if err = applyMissing(ctx, conn, SQLite, ms); err != nil {
		return err
	}
	if _, err = conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("sqlstore: migrate: commit: %w", err)
	}
	return nil
}

func applyMissing(ctx context.Context, x execer, d Dialect, ms []Migration) error {
	if _, err := x.ExecContext(ctx, createMigrationsTable); err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	applied, err := appliedMigrations(ctx, x)
	if err != nil {
		return err
	}
	for _, m := range ms {
		key := m.Component + "/" + strconv.Itoa(m.Version)
		if sum, ok := applied[key]; ok {
			if sum != m.Checksum {
				return fmt.Errorf("%w: %s version %d (%s)", ErrMigrationChanged, m.Component, m.Version, m.Name)
			}
			continue
		}
		if _, err := x.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("sqlstore: migrate %s version %d (%s): %w", m.Component, m.Version, m.Name, err)
		}
		if _, err := x.ExecContext(ctx, rebind(d,
			`INSERT INTO bulwark_schema_migrations (component, version, name, checksum, applied_at) VALUES ($1, $2, $3, $4, $5)`),
			m.Component, m.Version, m.Name, m.Checksum, micros(time.Now())); err != nil {
			return fmt.Errorf("sqlstore: migrate: record %s version %d: %w", m.Component, m.Version, err)
		}
	}
	return nil
}

func appliedMigrations(ctx context.Context, x execer) (map[string]string, error) {
	rows, err := x.QueryContext(ctx, `SELECT component, version, checksum FROM bulwark_schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	defer func() { _ = rows.Close() }()
	applied := map[string]string{}
	for rows.Next() {
		var c, sum string
		var v int
		if err := rows.Scan(&c, &v, &sum); err != nil {
			return nil, fmt.Errorf("sqlstore: migrate: %w", err)
		}
		applied[c+"/"+strconv.Itoa(v)] = sum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return applied, nil
}
