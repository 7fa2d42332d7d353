// Package sqlstore implements Bulwark's store interfaces on database/sql, for
// PostgreSQL and SQLite.
//
// # Bring your own driver
//
// sqlstore imports no SQL driver. The host opens a [*sql.DB] with the driver
// it already uses (for example github.com/jackc/pgx/v5/stdlib for PostgreSQL
// or modernc.org/sqlite for SQLite) and hands it over:
//
//	db, _ := sql.Open("pgx", dsn)
//	st, err := sqlstore.Open(ctx, db) // detects the dialect
//	err = st.Migrate(ctx)
//
// [Open] asks the server which dialect it speaks, so any driver works;
// [New] takes the [Dialect] explicitly and does no I/O.
//
// # Components
//
// Each accessor of [Store] hands out one component store as the interface
// its Bulwark package consumes: [Store.Session] a [session.Store] (which
// also implements [session.Cleaner]), [Store.Keyring] a [keyring.Store],
// [Store.Org] an [org.Store], [Store.Users] an [auth.CredentialStore].
// Where a host needs more than that interface, the accessor returns a small
// interface of this package that embeds it: [AuditStore] adds Tx (append
// inside the host's own transaction), [AuthStore] and [MFAStore] their
// housekeeping (Purge, Cleanup), [RetentionStore] the scheduler's
// [retention.Locker], and [Counters] and [Tokens] are the storage building
// blocks with their Cleanup. The concrete types are unexported.
//
// # Schema and migrations
//
// Every table Bulwark creates is prefixed bulwark_. The schema lives in
// embedded, versioned migrations, grouped by component (core, session,
// audit, ...), one SQL file per version and dialect. [Migrate] applies the
// missing ones in order and records each in bulwark_schema_migrations. It is
// idempotent, and safe when several processes call it at the same moment:
// on PostgreSQL all migrations run in one transaction holding an advisory
// lock scoped to the current schema; on SQLite they run in one IMMEDIATE
// (write-locked) transaction. Either a whole run commits or nothing does.
//
// Hosts that run their own migration tool can take the same SQL from
// [Migrations] instead and never call [Migrate].
//
// # SQLite settings
//
// SQLite needs a busy timeout when several connections or processes write
// (sqlstore sets one on the connection it migrates with, but not on the
// host's pool), and foreign keys on. With modernc.org/sqlite a DSN such as
//
//	file:app.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate
//
// does both, enables write-ahead logging, and makes every transaction take
// the write lock when it begins. Stores that read, decide and write in one
// transaction (promoting a key, enforcing a session limit) rely on that:
// without it two deferred transactions can both read and one fails with
// SQLITE_BUSY at its first write.
//
// # Connection pools
//
// A [*sql.DB] is a pool, and its defaults suit neither dialect under load:
// any number of open connections, but at most two kept idle. With sixteen
// requests in flight, every connection beyond the second is closed when its
// query returns and a new one is opened for the next: on PostgreSQL that is
// a TCP connection, authentication and a forked backend process per query,
// and the demo app served an authenticated page at a twentieth of a bare
// server's rate with a p99 near a second, opening about a hundred
// connections every four seconds. Every Bulwark call is one to three short
// queries, so what matters is that connections are reused:
//
//	db.SetMaxOpenConns(n)                  // bound the load on the server
//	db.SetMaxIdleConns(n)                  // the same n: keep them all for reuse
//	db.SetConnMaxIdleTime(5 * time.Minute) // shed them when traffic stops
//	db.SetConnMaxLifetime(time.Hour)       // rebalance after failover or a proxy change
//
// On PostgreSQL choose n for what the server can run at once, a few times
// its cores, and keep n times the number of app instances under the
// server's max_connections (100 by default), with room for maintenance;
// requests beyond n wait for a free connection (bounded by their context)
// instead of piling work on the server. On SQLite writers take turns on
// one file whatever n is; with WAL a handful of connections lets reads run
// beside a write, and idle connections must equal open ones so that each
// keeps the pragmas of its DSN. An in-memory database (":memory:") needs
// n = 1, since each connection would be a separate database.
//
// # Conventions
//
// Times are stored as BIGINT microseconds since the Unix epoch, in UTC, so
// both dialects and every driver agree on them to the microsecond. Record
// ids are UUIDv7 strings. Secrets never reach a column in clear: bearer
// tokens and codes are stored as SHA-256 hashes, key material only wrapped.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Dialect is the SQL dialect a [Store] speaks.
type Dialect int

const (
	// Postgres is PostgreSQL 13 or later.
	Postgres Dialect = iota + 1
	// SQLite is SQLite 3.37 or later (STRICT tables, RETURNING).
	SQLite
)

// String returns "postgres" or "sqlite"; these are also the folder names of
// the embedded migrations.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	default:
		return fmt.Sprintf("sqlstore.Dialect(%d)", int(d))
	}
}

func (d Dialect) valid() bool { return d == Postgres || d == SQLite }

// ErrUnknownDialect is returned by [Open], [Migrate] and [Migrations] when the
// database is neither PostgreSQL nor SQLite, or a [Dialect] value is invalid.
var ErrUnknownDialect = errors.New("sqlstore: unknown SQL dialect")

// Store is a database handle with its dialect. It is safe for concurrent use;
// the per-component stores it hands out share its connection pool.
type Store struct {
	db      *sql.DB
	dialect Dialect
	// queries, when not nil, records every query text [Store.query]
	// returns. Only tests set it (export_test.go), to prepare each one on
	// both dialects; in production it costs one nil check.
	queries *queryLog
}

// New returns a Store over db speaking dialect d. It does no I/O. It panics if
// db is nil or d is not a known dialect, which are programming errors.
func New(db *sql.DB, d Dialect) *Store {
	if db == nil {
		panic("sqlstore: New with a nil *sql.DB")
	}
	if !d.valid() {
		panic("sqlstore: New with an unknown dialect")
	}
	return &Store{db: db, dialect: d}
}

// Open detects the dialect of db by asking the server and returns a Store.
func Open(ctx context.Context, db *sql.DB) (*Store, error) {
	d, err := DetectDialect(ctx, db)
	if err != nil {
		return nil, err
	}
	return New(db, d), nil
}

// DetectDialect asks the server behind db which dialect it speaks. It works
// with any driver: it runs SELECT sqlite_version(), which only SQLite knows,
// and falls back to SELECT version(), which PostgreSQL answers. When both
// fail (a database file that another process is creating is briefly busy,
// for example), it tries again a few times before reporting both errors.
func DetectDialect(ctx context.Context, db *sql.DB) (Dialect, error) {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return 0, fmt.Errorf("sqlstore: detect dialect: %w", errors.Join(ctx.Err(), err))
			case <-time.After(time.Duration(attempt) * 50 * time.Millisecond):
			}
		}
		var d Dialect
		if d, err = probeDialect(ctx, db); err == nil || errors.Is(err, ErrUnknownDialect) {
			return d, err
		}
	}
	return 0, fmt.Errorf("sqlstore: detect dialect: %w", err)
}

func probeDialect(ctx context.Context, db *sql.DB) (Dialect, error) {
	var v string
	errSQLite := db.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&v)
	if errSQLite == nil {
		return SQLite, nil
	}
	if err := db.QueryRowContext(ctx, "SELECT version()").Scan(&v); err != nil {
		return 0, errors.Join(errSQLite, err)
	}
	if strings.Contains(v, "PostgreSQL") {
		return Postgres, nil
	}
	return 0, ErrUnknownDialect
}

// Dialect returns the dialect the store speaks, for a host that picks its
// own migrations ([Migrations]) or queries by dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Migrate applies the embedded migrations that are missing; see [Migrate].
func (s *Store) Migrate(ctx context.Context) error {
	return migrate(ctx, s.db, s.dialect, embedded)
}

// Rebind rewrites a query written with PostgreSQL's $1, $2, ... placeholders
// for the store's dialect (SQLite gets ?1, ?2, ..., which bind by number
// just as PostgreSQL's do), so that a host keeping its own tables in the
// same database writes its SQL once for both dialects, as examples/webapp
// does. Bulwark's own components use the unexported query method.
func (s *Store) Rebind(query string) string { return s.query(query) }

// query rewrites a query written with PostgreSQL's $1, $2, ... placeholders
// for the store's dialect. SQLite gets ?1, ?2, ..., which bind by number
// just as PostgreSQL's do, so a placeholder may repeat or appear out of order.
//
// Every query a component store runs goes through query (or
// [Store.postgresOnly]) when the component is built, or, for a query built
// per call (audit's filters), when it is built. That is what makes a query
// that SQLite cannot run fail a test rather than a request:
// TestEveryQueryPrepares builds every component on both dialects with a
// recording Store, prepares each recorded text on the real database, and
// fails on any query field of a component that did not go through query.
// There is no list of queries to keep by hand.
func (s *Store) query(query string) string {
	query = rebind(s.dialect, query)
	if s.queries != nil {
		s.queries.add(query)
	}
	return query
}

// postgresOnly is [Store.query] for a query only PostgreSQL runs (advisory
// locks, pg_locks): on any other dialect it returns "", which the component
// must not run.
func (s *Store) postgresOnly(query string) string {
	if s.dialect != Postgres {
		return ""
	}
	return s.query(query)
}

// queryLog is the set of query texts a recording Store handed out.
type queryLog struct {
	mu   sync.Mutex
	seen map[string]bool
	list []string
}

func (l *queryLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if !l.seen[q] {
		l.seen[q] = true
		l.list = append(l.list, q)
	}
}

func (l *queryLog) texts() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.list)
}

func rebind(d Dialect, query string) string {
	if d != SQLite {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '$' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9' {
			c = '?'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// micros converts t to the stored form: microseconds since the Unix epoch.
// The zero time is stored as 0.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros converts a stored time back to a UTC time.Time; 0 gives the
// zero time.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}
