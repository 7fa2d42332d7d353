package sqlstore_test

import (
	"context"
	"database/sql"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func countApplied(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRow(`SELECT COUNT(*) FROM bulwark_schema_migrations`).Scan(&n))
	return n
}

func TestDetectDialect(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			db := be.Open(t)
			st, err := sqlstore.Open(context.Background(), db)
			require.NoError(t, err)
			require.Equal(t, be.Name, st.Dialect().String())
		})
	}
}

func TestMigrateTwice(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := be.Open(t)
			require.NoError(t, sqlstore.Migrate(ctx, db))
			want, err := sqlstore.Migrations(mustDetect(t, db))
			require.NoError(t, err)
			require.NotEmpty(t, want)
			require.Equal(t, len(want), countApplied(t, db))
			require.NoError(t, sqlstore.Migrate(ctx, db))
			require.Equal(t, len(want), countApplied(t, db), "second run applied something")
			// The core table exists and is usable.
			_, err = db.Exec(`INSERT INTO bulwark_meta (key, value, updated_at) VALUES ('test.key', 'v', 1)`)
			require.NoError(t, err)
		})
	}
}

func mustDetect(t *testing.T, db *sql.DB) sqlstore.Dialect {
	t.Helper()
	d, err := sqlstore.DetectDialect(context.Background(), db)
	require.NoError(t, err)
	return d
}

// TestMigrateConcurrent runs Migrate from several goroutines at once, each
// with its own connection pool as separate processes would have. Without
// the lock, both would try to create the same tables and one would fail, or
// both would record the same version and the primary key would reject one.
func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		open func(t *testing.T) func() *sql.DB
	}{
		{"postgres", func(t *testing.T) func() *sql.DB {
			dsn := testenv.PostgresDSN(t)
			return func() *sql.DB { return testenv.OpenPostgres(t, dsn) }
		}},
		{"sqlite", func(t *testing.T) func() *sql.DB {
			path := testenv.SQLitePath(t)
			return func() *sql.DB { return testenv.OpenSQLite(t, path) }
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			open := tc.open(t)
			const n = 4
			dbs := make([]*sql.DB, n)
			for i := range dbs {
				dbs[i] = open()
			}
			var wg sync.WaitGroup
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Go(func() {
					<-start
					errs[i] = sqlstore.Migrate(context.Background(), dbs[i])
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				require.NoError(t, err, "migrator %d", i)
			}
			want, err := sqlstore.Migrations(mustDetect(t, dbs[0]))
			require.NoError(t, err)
			require.Equal(t, len(want), countApplied(t, dbs[0]))
		})
	}
}

// TestMigrateRollsBack checks that a failing migration leaves no trace of
// the run: neither the statements before it nor its record.
func TestMigrateRollsBack(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := be.Open(t)
			d := mustDetect(t, db)
			fsys := fstest.MapFS{
				"migrations/" + d.String() + "/core/0001_a.sql": {Data: []byte(`CREATE TABLE bulwark_t1 (x INTEGER)`)},
				"migrations/" + d.String() + "/core/0002_b.sql": {Data: []byte(`CREATE TABLE bulwark_t2 (x INTEGER); THIS IS NOT SQL`)},
			}
			err := sqlstore.MigrateFS(ctx, db, d, fsys)
			require.Error(t, err)
			require.Contains(t, err.Error(), "core version 2")
			_, err = db.Exec(`SELECT x FROM bulwark_t1`)
			require.Error(t, err, "table from the failed run survived")
		})
	}
}

func TestMigrateDetectsChangedMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testenv.SQLite(t)
	v1 := fstest.MapFS{"migrations/sqlite/x/0001_a.sql": {Data: []byte(`CREATE TABLE bulwark_x (a INTEGER)`)}}
	require.NoError(t, sqlstore.MigrateFS(ctx, db, sqlstore.SQLite, v1))
	v2 := fstest.MapFS{"migrations/sqlite/x/0001_a.sql": {Data: []byte(`CREATE TABLE bulwark_x (a TEXT)`)}}
	err := sqlstore.MigrateFS(ctx, db, sqlstore.SQLite, v2)
	require.ErrorIs(t, err, sqlstore.ErrMigrationChanged)
}

func TestMigrationOrderAndNames(t *testing.T) {
	t.Parallel()
	for _, d := range []sqlstore.Dialect{sqlstore.Postgres, sqlstore.SQLite} {
		ms, err := sqlstore.Migrations(d)
		require.NoError(t, err)
		require.Equal(t, "core", ms[0].Component, "core must come first")
		seen := map[string]bool{}
		for _, m := range ms {
			seen[m.Component] = true
			require.NotEmpty(t, m.SQL)
			require.Len(t, m.Checksum, 64)
		}
		// Both dialects ship the same components and versions.
		other := sqlstore.SQLite
		if d == sqlstore.SQLite {
			other = sqlstore.Postgres
		}
		oms, err := sqlstore.Migrations(other)
		require.NoError(t, err)
		require.Len(t, oms, len(ms))
		for i := range ms {
			require.Equal(t, ms[i].Component, oms[i].Component)
			require.Equal(t, ms[i].Version, oms[i].Version)
		}
	}
	_, err := sqlstore.Migrations(sqlstore.Dialect(9))
	require.ErrorIs(t, err, sqlstore.ErrUnknownDialect)
}

func TestBadMigrationNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"core/1.sql", "core/x_a.sql", "core/0000_a.sql", "core/0001_.sql", "0001_a.sql", "core/sub/0001_a.sql"} {
		fsys := fstest.MapFS{"migrations/sqlite/" + name: {Data: []byte(`SELECT 1`)}}
		err := sqlstore.MigrateFS(context.Background(), testenv.SQLite(t), sqlstore.SQLite, fsys)
		require.Error(t, err, name)
	}
	dup := fstest.MapFS{
		"migrations/sqlite/core/0001_a.sql": {Data: []byte(`SELECT 1`)},
		"migrations/sqlite/core/1_b.sql":    {Data: []byte(`SELECT 1`)},
	}
	require.Error(t, sqlstore.MigrateFS(context.Background(), testenv.SQLite(t), sqlstore.SQLite, dup))
}

func TestRebindAndTimes(t *testing.T) {
	t.Parallel()
	db := testenv.SQLite(t)
	st := sqlstore.New(db, sqlstore.SQLite)
	require.Equal(t, "SELECT ?2, ?1, ?2", sqlstore.RebindFor(st, "SELECT $2, $1, $2"))
	var a, b string
	require.NoError(t, db.QueryRow(sqlstore.RebindFor(st, "SELECT $2, $1"), "one", "two").Scan(&a, &b))
	require.Equal(t, []string{"two", "one"}, []string{a, b})
	pg := sqlstore.New(db, sqlstore.Postgres)
	require.Equal(t, "SELECT $1", sqlstore.RebindFor(pg, "SELECT $1"))

	now := time.Date(2026, 11, 23, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	got := sqlstore.DecodeTime(sqlstore.EncodeTime(now))
	require.True(t, got.Equal(now.Truncate(time.Microsecond)))
	require.Equal(t, time.UTC, got.Location())
	require.True(t, sqlstore.DecodeTime(sqlstore.EncodeTime(time.Time{})).IsZero())
}

func TestNewPanicsOnMisuse(t *testing.T) {
	t.Parallel()
	require.Panics(t, func() { sqlstore.New(nil, sqlstore.SQLite) })
	require.Panics(t, func() { sqlstore.New(testenv.SQLite(t), 0) })
}

// TestDetectDialectReportsBothErrors closes the pool so both probes fail:
// the error must carry the SQLite probe's failure, not only the fallback's
// ("no such function: version"), which hid the real cause of a flake.
func TestDetectDialectReportsBothErrors(t *testing.T) {
	t.Parallel()
	db := testenv.SQLite(t)
	require.NoError(t, db.Close())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := sqlstore.DetectDialect(ctx, db)
	require.Error(t, err)
	require.Contains(t, err.Error(), "detect dialect")
	require.Equal(t, 2, strings.Count(err.Error(), "database is closed"), err.Error())
}

// TestEveryQueryPrepares builds every component store on each dialect (every
// accessor of *Store, found by reflection) with a Store that records the query texts it hands out, and prepares every one
// of them on the real database, along with the queries audit builds per
// call (its filters, its multi-row inserts). A query that a dialect cannot
// parse, that keeps PostgreSQL's $n placeholders on SQLite, or that a
// component holds without having built it through the Store (so it was
// never rebound nor recorded) fails here, with its text, instead of at run
// time on the dialect nobody tried.
func TestEveryQueryPrepares(t *testing.T) {
	t.Parallel()
	pgPlaceholder := regexp.MustCompile(`\$[0-9]`)
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := be.Open(t)
			st, err := sqlstore.Open(ctx, db)
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			sqlstore.RecordQueries(st)
			components := sqlstore.Components(st)
			for _, name := range []string{"Audit", "Auth", "Keyring", "MFA", "Retention", "Session"} {
				require.Contains(t, components, name)
			}
			a := components["Audit"].(sqlstore.AuditStore)
			// Per-call queries: a filter that sets every condition, and
			// one that sets none.
			now := time.Now()
			_, err = a.Query(ctx, audit.Filter{Tenant: "t", Actor: "a", TargetType: "tt", TargetID: "ti",
				ActionPrefix: "auth.", Outcome: "success", IP: "192.0.2.1", Since: now.Add(-time.Hour), Until: now,
				After: audit.Cursor{Time: now, ID: "x"}, Limit: 10})
			require.NoError(t, err)
			_, err = a.Query(ctx, audit.Filter{AllTenants: true, Limit: 10})
			require.NoError(t, err)

			recorded := sqlstore.RecordedQueries(st)
			seen := map[string]bool{}
			for _, q := range recorded {
				seen[q] = true
			}
			fields := 0
			for name, c := range components {
				for field, q := range sqlstore.QueryFields(c) {
					fields++
					if !seen[q] {
						t.Errorf("%s: query %s was not built through the Store's query method, so it is neither rebound for SQLite nor checked here:\n%s", name, field, q)
					}
				}
			}
			require.Greater(t, fields, 80, "QueryFields found too few queries: has a component's layout changed?")
			for _, q := range append(recorded, sqlstore.AuditBuiltQueries(a)...) {
				if be.Name == "sqlite" && pgPlaceholder.MatchString(q) {
					t.Errorf("sqlite: PostgreSQL placeholder left in:\n%s", q)
				}
				stmt, err := db.PrepareContext(ctx, q)
				if err != nil {
					t.Errorf("%s: query does not prepare: %v\n%s", be.Name, err, q)
					continue
				}
				require.NoError(t, stmt.Close())
			}
		})
	}
}
