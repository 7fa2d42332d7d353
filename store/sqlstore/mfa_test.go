package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestMFAStoreConformance(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.SQLDBs() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			mfatest.Run(t, func(t *testing.T) mfa.Store {
				st, err := sqlstore.Open(context.Background(), b.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.MFA()
			})
		})
	}
}

func TestMFACleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range testenv.SQLDBs() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st, err := sqlstore.Open(ctx, b.Open(t))
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			s := st.MFA()
			for i, u := range []string{"a", "b", "c"} {
				sent := base.Add(time.Duration(i) * time.Minute)
				require.NoError(t, s.PutOOB(ctx, mfa.OOBRecord{ID: u, UserID: u, Purpose: mfa.PurposeLogin,
					Salt: []byte("s"), Hash: []byte("h"), SentAt: sent, ExpiresAt: sent.Add(10 * time.Minute)}, time.Minute))
			}
			n, err := s.Cleanup(ctx, base.Add(11*time.Minute))
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			_, err = s.GetOOB(ctx, "c", mfa.PurposeLogin, base.Add(11*time.Minute))
			require.NoError(t, err)
		})
	}
}

// Two app instances, each with its own pool, on one database: a code
// tried 50 times at once across both succeeds exactly once.
func TestMFAInstances(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name    string
		dialect sqlstore.Dialect
		pool    func(t *testing.T) func() *sql.DB
	}{
		{"postgres", sqlstore.Postgres, func(t *testing.T) func() *sql.DB {
			dsn := testenv.PostgresDSN(t)
			return func() *sql.DB { return testenv.OpenPostgres(t, dsn) }
		}},
		{"sqlite", sqlstore.SQLite, func(t *testing.T) func() *sql.DB {
			path := testenv.SQLitePath(t)
			return func() *sql.DB { return testenv.OpenSQLite(t, path) }
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			open := c.pool(t)
			var stores []mfa.Store
			for range 2 {
				st := sqlstore.New(open(), c.dialect)
				require.NoError(t, st.Migrate(context.Background()))
				stores = append(stores, st.MFA())
			}
			mfatest.RunInstances(t, stores...)
		})
	}
}
