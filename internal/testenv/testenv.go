// Package testenv gives each test its own isolated storage: a PostgreSQL
// schema, a Redis key prefix and an SQLite file, all removed at cleanup, so
// tests run in parallel and leave nothing behind.
//
// PostgreSQL and Redis are optional. When BULWARK_TEST_POSTGRES (a DSN) or
// BULWARK_TEST_REDIS (host:port) is unset, the tests that need that server
// skip with a one-line reason that contains [SkipMarker]; .ci/run sets both
// and fails the build if any such skip appears. When a variable is set but
// the server cannot be reached, the test fails rather than skips.
//
// Plain `go test ./...` hides the output of passing packages, skip reasons
// included, so the first such skip in each package also writes one line to
// the terminal running go test:
//
//	bulwark: store/sqlstore: BULWARK_TEST_POSTGRES is not set; PostgreSQL tests skipped (go test -v lists them)
//
// With -v or -json the reasons are in the output already and no extra line
// is written.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	// Drivers for tests only: sqlstore itself imports none.
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"
)

// Environment variables that enable the integration tests.
const (
	EnvPostgres = "BULWARK_TEST_POSTGRES"
	EnvRedis    = "BULWARK_TEST_REDIS"
)

// SkipMarker starts the message of every skip caused by a missing server.
// .ci/run searches go test -json output for it.
const SkipMarker = "bulwark-integration-skip:"

func randomName(prefix string) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// PostgresDSN creates a fresh schema in the database named by
// BULWARK_TEST_POSTGRES, drops it (with everything in it) at cleanup, and
// returns a DSN whose connections use that schema. Open it as many times as a
// test needs separate pools, for example one per simulated app instance.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		skipMissing(tb, EnvPostgres, "PostgreSQL")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("testenv: open PostgreSQL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	schema := randomName("bulwark_test_")
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		tb.Fatalf("testenv: %s is set but PostgreSQL is not usable: %v", EnvPostgres, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("testenv: drop schema %s: %v", schema, err)
		}
		_ = admin.Close()
	})
	return withSearchPath(tb, base, schema)
}

// withSearchPath adds search_path to a URL or keyword/value DSN; pgx sends
// unknown parameters to the server as run-time settings.
func withSearchPath(tb testing.TB, dsn, schema string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("testenv: parse %s: %v", EnvPostgres, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

// Postgres returns a pool on a fresh schema (see [PostgresDSN]), closed at
// cleanup.
func Postgres(tb testing.TB) *sql.DB {
	tb.Helper()
	return OpenPostgres(tb, PostgresDSN(tb))
}

// OpenPostgres opens another pool on dsn, closed at cleanup.
func OpenPostgres(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatalf("testenv: open PostgreSQL: %v", err)
	}
	db.SetMaxOpenConns(16)
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// SQLitePath returns the path of a fresh SQLite database file in the test's
// temporary directory.
func SQLitePath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "bulwark.db")
}

// OpenSQLite opens the SQLite database at path with the settings Bulwark
// recommends (write-ahead log, busy timeout, foreign keys), closed at cleanup.
func OpenSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", SQLiteDSN(path))
	if err != nil {
		tb.Fatalf("testenv: open SQLite: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

// SQLiteDSN is the modernc.org/sqlite DSN for path with the recommended
// settings.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(30000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
}

// SQLite returns a pool on a fresh SQLite file, closed at cleanup.
func SQLite(tb testing.TB) *sql.DB {
	tb.Helper()
	return OpenSQLite(tb, SQLitePath(tb))
}

// SQLDB is one SQL back end for table-driven tests.
type SQLDB struct {
	Name string // "postgres" or "sqlite"
	// Open returns a fresh, empty database; each call is isolated.
	Open func(tb testing.TB) *sql.DB
}

// SQLDBs lists the SQL back ends every SQL test runs against. The PostgreSQL
// one skips inside the subtest when BULWARK_TEST_POSTGRES is unset.
func SQLDBs() []SQLDB {
	return []SQLDB{
		{Name: "postgres", Open: Postgres},
		{Name: "sqlite", Open: SQLite},
	}
}

// Redis returns a client for BULWARK_TEST_REDIS and a key prefix unique to
// the test. Every key under the prefix is deleted at cleanup.
func Redis(tb testing.TB) (*redis.Client, string) {
	tb.Helper()
	addr := os.Getenv(EnvRedis)
	if addr == "" {
		skipMissing(tb, EnvRedis, "Redis")
	}
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 32})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		tb.Fatalf("testenv: %s is set but Redis is not usable: %v", EnvRedis, err)
	}
	prefix := randomName("bulwark-test:") + ":"
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := DeletePrefix(ctx, c, prefix); err != nil {
			tb.Errorf("testenv: clean Redis prefix %s: %v", prefix, err)
		}
		_ = c.Close()
	})
	return c, prefix
}

// DeletePrefix deletes every key that starts with prefix.
func DeletePrefix(ctx context.Context, c *redis.Client, prefix string) error {
	iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			if err := c.Del(ctx, batch...).Err(); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(batch) > 0 {
		return c.Del(ctx, batch...).Err()
	}
	return nil
}
