package sqlstore_test

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/session/sessiontest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func sessionStore(t *testing.T, open func(testing.TB) *sql.DB) session.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), open(t))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	return st.Session()
}

func TestSessionStoreConformance(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			sessiontest.Run(t, func(t *testing.T) session.Store { return sessionStore(t, db.Open) })
		})
	}
}

// 1,000 concurrent logins for one account from 4 Manager instances, each
// with its own pool, on one PostgreSQL.
func TestSessionLimitAcrossInstancesPostgres(t *testing.T) {
	t.Parallel()
	sessiontest.RunConcurrentLogins(t, func(t *testing.T) []session.Store {
		dsn := testenv.PostgresDSN(t)
		stores := make([]session.Store, 4)
		for i := range stores {
			db := testenv.OpenPostgres(t, dsn)
			db.SetMaxOpenConns(4) // 16 connections in all: the server is shared
			st := sqlstore.New(db, sqlstore.Postgres)
			if i == 0 {
				require.NoError(t, st.Migrate(context.Background()))
			}
			stores[i] = st.Session()
		}
		return stores
	}, 1000)
}

// The same on one SQLite file opened by 4 pools, with deferred
// transactions (no _txlock=immediate in the DSN), as a host may configure:
// the store's transactions start with a write, so they serialise anyway.
func TestSessionLimitAcrossInstancesSQLite(t *testing.T) {
	t.Parallel()
	sessiontest.RunConcurrentLogins(t, func(t *testing.T) []session.Store {
		dsn := strings.Replace(testenv.SQLiteDSN(testenv.SQLitePath(t)), "&_txlock=immediate", "", 1)
		stores := make([]session.Store, 4)
		for i := range stores {
			db, err := sql.Open("sqlite", dsn)
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			st := sqlstore.New(db, sqlstore.SQLite)
			if i == 0 {
				require.NoError(t, st.Migrate(context.Background()))
			}
			stores[i] = st.Session()
		}
		return stores
	}, 100)
}

func TestSessionCleanup(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			st := sessionStore(t, db.Open)
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			clock := func() time.Time { return now }
			m := mustSessions(t, st, session.Config{MaxSessions: session.Unlimited, RememberMe: true, Now: clock})
			ctx := context.Background()
			for range 5 {
				_, err := m.Create(ctx, "u1", session.Login{Remember: true})
				require.NoError(t, err)
			}
			now = now.Add(20 * time.Minute) // sessions idle-expired, remember-me alive
			live, err := m.Create(ctx, "u2", session.Login{})
			require.NoError(t, err)
			n, err := st.(session.Cleaner).DeleteExpired(ctx, now, 2)
			require.NoError(t, err)
			require.Equal(t, 2, n, "one batch is bounded")
			n, err = m.Cleanup(ctx)
			require.NoError(t, err)
			require.Equal(t, 3, n)
			_, err = m.Validate(ctx, live.Token)
			require.NoError(t, err, "live sessions survive cleanup")
			now = now.Add(31 * 24 * time.Hour) // the remember-me families expire too
			n, err = m.Cleanup(ctx)
			require.NoError(t, err)
			require.Equal(t, 6, n, "5 remember-me tokens and the u2 session")
		})
	}
}

// Validation on PostgreSQL when no refresh is due: one SELECT.
func BenchmarkSessionValidatePostgres(b *testing.B) {
	st := sqlstore.New(testenv.Postgres(b), sqlstore.Postgres)
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	sessiontest.BenchmarkValidate(b, st.Session())
}

// queryCounter counts the statements pgx sends.
type queryCounter struct{ n atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	return ctx
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// Validating a session whose activity need not be recorded is one query
// (one round trip once pgx has cached the prepared statement); recording
// it is one more.
func TestSessionValidateOneQueryPostgres(t *testing.T) {
	t.Parallel()
	cfg, err := pgx.ParseConfig(testenv.PostgresDSN(t))
	require.NoError(t, err)
	var qc queryCounter
	cfg.Tracer = &qc
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { _ = db.Close() })
	st := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, st.Migrate(context.Background()))
	sessiontest.RunValidateRoundTrips(t, st.Session(), qc.n.Load)
}

// A revocation that starts while a login or rotation for the same user is
// in flight must see that session once it commits: otherwise, on
// PostgreSQL's READ COMMITTED, "end all sessions" misses a session that a
// concurrent Rotate (a client rotating in a loop, say) inserts meanwhile.
// The in-flight Create is simulated by a transaction that holds the
// store's per-user lock and has inserted a session row, not yet committed.
func TestSessionRevokeWaitsForInflightCreatePostgres(t *testing.T) {
	t.Parallel()
	dsn := testenv.PostgresDSN(t)
	ctx := context.Background()
	db := testenv.OpenPostgres(t, dsn)
	st := sqlstore.New(db, sqlstore.Postgres)
	require.NoError(t, st.Migrate(ctx))
	m := mustSessions(t, st.Session(), session.Config{MaxSessions: session.Unlimited})
	user := "revoke-race-" + uuid.NewString() // advisory locks are per database, not per schema

	for _, revoke := range []struct {
		name string
		fn   func(m *session.Manager) error
	}{
		{"RevokeAll", func(m *session.Manager) error { _, err := m.RevokeAll(ctx, user, ""); return err }},
		{"Revoke", func(m *session.Manager) error { return m.Revoke(ctx, user, "inflight-"+user) }},
	} {
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('bulwark.session:' || $1, 0))`, user)
		require.NoError(t, err)
		now := time.Now()
		_, err = tx.ExecContext(ctx, `INSERT INTO bulwark_session_sessions (id, token_hash, user_id, created_at, last_seen,
			expires_at, absolute_expiry, auth_time, factors, ip, user_agent, remember_family)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $4, '', '', '', '')`,
			"inflight-"+user, []byte(strings.Repeat("h", 32)), user, sqlstore.EncodeTime(now),
			sqlstore.EncodeTime(now.Add(time.Hour)), sqlstore.EncodeTime(now.Add(2*time.Hour)))
		require.NoError(t, err)

		// The revoking instance has its own pool of one connection, so that
		// its backend can be watched.
		other := testenv.OpenPostgres(t, dsn)
		other.SetMaxOpenConns(1)
		var pid int
		require.NoError(t, other.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid))
		om := mustSessions(t, sqlstore.New(other, sqlstore.Postgres).Session(), session.Config{MaxSessions: session.Unlimited})
		done := make(chan error, 1)
		go func() { done <- revoke.fn(om) }()
		// Commit once the revocation has either finished or is waiting for
		// the in-flight transaction.
		var revokeErr error
		finished := false
		for !finished {
			select {
			case revokeErr = <-done:
				finished = true
				continue
			default:
			}
			var waiting bool
			require.NoError(t, db.QueryRowContext(ctx,
				`SELECT COALESCE(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&waiting))
			if waiting {
				break
			}
			time.Sleep(time.Millisecond)
		}
		require.NoError(t, tx.Commit())
		if !finished {
			revokeErr = <-done
		}
		require.NoError(t, revokeErr, revoke.name)
		l, err := m.List(ctx, user)
		require.NoError(t, err)
		require.Empty(t, l, "%s missed a session committed while it ran", revoke.name)
	}
}

// The tab-close mark holds across instances with their own pools on one
// PostgreSQL.
func TestSessionClosingAcrossInstancesPostgres(t *testing.T) {
	t.Parallel()
	sessiontest.RunConcurrentClosing(t, func(t *testing.T) []session.Store {
		dsn := testenv.PostgresDSN(t)
		stores := make([]session.Store, 4)
		for i := range stores {
			db := testenv.OpenPostgres(t, dsn)
			db.SetMaxOpenConns(4)
			st := sqlstore.New(db, sqlstore.Postgres)
			if i == 0 {
				require.NoError(t, st.Migrate(context.Background()))
			}
			stores[i] = st.Session()
		}
		return stores
	}, 30)
}

// Validation on PostgreSQL reads one packed column: at most 20
// allocations (a bare one-column select through database/sql makes 17).
// Allocations, not time, so the budget holds on any machine.
func TestSessionValidateAllocsPostgres(t *testing.T) {
	st := sqlstore.New(testenv.Postgres(t), sqlstore.Postgres)
	require.NoError(t, st.Migrate(context.Background()))
	now := time.Now()
	m := mustSessions(t, st.Session(), session.Config{Now: func() time.Time { return now }})
	iss, err := m.Create(context.Background(), "u1", session.Login{Factors: []string{"password", "totp"}, IP: "192.0.2.1", UserAgent: "test"})
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(200, func() {
		if _, err := m.Validate(context.Background(), iss.Token); err != nil {
			t.Fatal(err)
		}
	})
	require.LessOrEqual(t, allocs, 20.0, "Validate on PostgreSQL makes %.0f allocations", allocs)
}

// The packed row of Get is unambiguous whatever the strings hold: the
// user agent is the client's, and may hold the separators.
func TestSessionGetHostileStrings(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(testing.TB) *sql.DB{"postgres": testenv.Postgres, "sqlite": testenv.SQLite} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := sessionStore(t, open)
			now := time.Now().UTC().Truncate(time.Microsecond)
			for i, ua := range []string{"", "3:abc", ",,,:::", "12:x,3:y\x1f", "Zażółć 🦫 \u00e9", strings.Repeat("9:", 300)} {
				s := &session.Session{ID: uuid.NewString(), UserID: "u:" + ua, CreatedAt: now, LastSeen: now,
					ExpiresAt: now.Add(time.Hour), AbsoluteExpiry: now.Add(2 * time.Hour), AuthTime: now.Add(-time.Second),
					Factors: []string{"pass:word", "1:x,"}, IP: ua, UserAgent: ua, RememberFamily: ua}
				s.TokenHash[0], s.TokenHash[31] = byte(i+1), 0xff
				_, err := st.Create(context.Background(), s, session.Limit{}, [32]byte{})
				require.NoError(t, err)
				got, err := st.Get(context.Background(), s.TokenHash, now)
				require.NoError(t, err)
				require.Equal(t, *s, got)
			}
		})
	}
}

// FuzzSessionUnpack feeds arbitrary packed rows to the reader of Get: it
// never panics, and what it accepts holds the hash and strings it was
// given, in bounds.
func FuzzSessionUnpack(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, seed := range []string{
		"1,2,3,4,5,0," + h + ",36:0190a0b4-7c1e-7c3a-9d2b-5b1e2f3a4b5c2:u113:password\x1ftotp9:192.0.2.14:test0:",
		"1,2,3,4,5,6," + h + ",0:0:0:0:0:0:",
		"1,2,3,4,5,6," + h + ",3:a:b0:0:0:0:0:",
		"-1,+2,3,4,5,6," + h + ",99:x",
		",,,,,," + h,
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, row string) {
		s, err := sqlstore.SessionUnpack(row)
		if err != nil {
			return
		}
		total := len(s.ID) + len(s.UserID) + len(s.IP) + len(s.UserAgent) + len(s.RememberFamily)
		if total > len(row) {
			t.Fatalf("strings longer than the row: %d > %d", total, len(row))
		}
	})
}

// Cleanup on PostgreSQL skips rows another transaction holds (another
// instance's cleanup, a revocation) instead of waiting for them: it never
// queues behind a long transaction, and concurrent cleaners share the
// work.
func TestSessionCleanupSkipsLockedRows(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	st := sessionStore(t, func(testing.TB) *sql.DB { return db })
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	var hashes [][32]byte
	for i := range 5 {
		s := &session.Session{ID: uuid.NewString(), UserID: "u" + strconv.Itoa(i), CreatedAt: now, LastSeen: now,
			ExpiresAt: now.Add(time.Minute), AbsoluteExpiry: now.Add(time.Hour), AuthTime: now}
		s.TokenHash[0] = byte(i + 1)
		_, err := st.Create(ctx, s, session.Limit{}, [32]byte{})
		require.NoError(t, err)
		hashes = append(hashes, s.TokenHash)
	}
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	var id string
	require.NoError(t, tx.QueryRowContext(ctx, `SELECT id FROM bulwark_session_sessions WHERE token_hash = $1 FOR UPDATE`, hashes[0][:]).Scan(&id))

	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := st.(session.Cleaner).DeleteExpired(ctx, now.Add(2*time.Minute), 1000)
		done <- result{n, err}
	}()
	var got result
	require.Eventually(t, func() bool {
		select {
		case got = <-done:
			return true
		default:
			return false
		}
	}, 30*time.Second, 10*time.Millisecond, "cleanup waited for a locked row")
	require.NoError(t, got.err)
	require.Equal(t, 4, got.n, "every row but the locked one")
	require.NoError(t, tx.Rollback())
	n, err := st.(session.Cleaner).DeleteExpired(ctx, now.Add(2*time.Minute), 1000)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the locked row, once free")
}

// mustSessions returns session.New(st, cfg), failing tb on an error.
func mustSessions(tb testing.TB, st session.Store, cfg session.Config) *session.Manager {
	tb.Helper()
	m, err := session.New(st, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}
