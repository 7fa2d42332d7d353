package bench_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// BenchmarkSessionValidatePostgres validates one session on PostgreSQL,
// through database/sql with the pgx stdlib driver, three ways in one run:
//
//   - Bulwark: session.Manager.Validate on sqlstore when no refresh of the
//     idle window is due (one SELECT), target at most 1.2× Floor and at
//     most 20 allocations;
//   - SCS: scs's SessionManager.Load on its postgresstore, then reading the
//     user id, the peer doing the same job;
//   - Floor: a bare primary-key SELECT of one row as large as Bulwark's
//     session row, scanned into a string: what any store must pay.
//
// Compare the three with benchstat; quote ratios, not times. RatioFloor
// and RatioSCS run two of them in turn within each iteration, so that the
// load on a shared machine falls on both alike, and report the ratio of
// their median times (bulwark/floor, scs/bulwark).
func BenchmarkSessionValidatePostgres(b *testing.B) {
	ctx := context.Background()
	db := testenv.Postgres(b)
	st, err := sqlstore.Open(ctx, db)
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	m, err := session.New(st.Session(), session.Config{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	iss, err := m.Create(ctx, "user-42", session.Login{Factors: []string{"password", "totp"}, IP: "192.0.2.1",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"})
	if err != nil {
		b.Fatal(err)
	}

	var rowSize int
	if err := db.QueryRowContext(ctx, `SELECT pg_column_size(t.*) FROM bulwark_session_sessions t`).Scan(&rowSize); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_floor (k TEXT PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO bench_floor VALUES ($1, $2)`, iss.Session.ID, strings.Repeat("x", rowSize)); err != nil {
		b.Fatal(err)
	}

	if _, err := db.ExecContext(ctx, `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL);
		CREATE INDEX sessions_expiry_idx ON sessions (expiry)`); err != nil {
		b.Fatal(err)
	}
	sm := scs.New()
	sm.Store = postgresstore.NewWithCleanupInterval(db, 0)
	sctx, err := sm.Load(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	sm.Put(sctx, "userID", "user-42")
	token, _, err := sm.Commit(sctx)
	if err != nil {
		b.Fatal(err)
	}

	validate := func(b *testing.B) {
		s, err := m.Validate(ctx, iss.Token)
		if err != nil || s.UserID != "user-42" {
			b.Fatal("no session", err)
		}
	}
	peer := func(b *testing.B) {
		c, err := sm.Load(ctx, token)
		if err != nil || sm.GetString(c, "userID") != "user-42" {
			b.Fatal("no session", err)
		}
	}
	var v string
	floor := func(b *testing.B) {
		if err := db.QueryRowContext(ctx, `SELECT v FROM bench_floor WHERE k = $1`, iss.Session.ID).Scan(&v); err != nil {
			b.Fatal(err)
		}
	}
	// ratio runs a and c in turn within each iteration and reports the
	// ratio of their median times.
	ratio := func(name string, a, c func(*testing.B)) func(*testing.B) {
		return func(b *testing.B) {
			var ta, tc []time.Duration
			for b.Loop() {
				start := time.Now()
				a(b)
				mid := time.Now()
				c(b)
				ta, tc = append(ta, mid.Sub(start)), append(tc, time.Since(mid))
			}
			median := func(ds []time.Duration) float64 {
				slices.Sort(ds)
				return float64(ds[len(ds)/2])
			}
			b.ReportMetric(median(ta)/median(tc), name)
		}
	}
	// Separate pairs, so that the peer's garbage does not land on the
	// floor comparison.
	b.Run("RatioFloor", ratio("bulwark/floor", validate, floor))
	b.Run("RatioSCS", ratio("scs/bulwark", peer, validate))
	b.Run("Bulwark", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s, err := m.Validate(ctx, iss.Token)
			if err != nil || s.UserID != "user-42" {
				b.Fatal("no session", err)
			}
		}
	})
	b.Run("SCS", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := sm.Load(ctx, token)
			if err != nil || sm.GetString(c, "userID") != "user-42" {
				b.Fatal("no session", err)
			}
		}
	})
	b.Run("Floor", func(b *testing.B) {
		var v string
		b.ReportAllocs()
		for b.Loop() {
			if err := db.QueryRowContext(ctx, `SELECT v FROM bench_floor WHERE k = $1`, iss.Session.ID).Scan(&v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
