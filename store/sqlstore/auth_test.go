package sqlstore_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func authStore(t *testing.T, open func(testing.TB) *sql.DB) sqlstore.AuthStore {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), open(t))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	return st.Auth()
}

func TestAuthConformance(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			authtest.Run(t, func(t *testing.T) auth.Store { return authStore(t, db.Open) })
		})
	}
}

// TestAuthTwoInstances runs the contention tests with two pools on one
// database, standing for two app instances.
func TestAuthTwoInstances(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		dsn   func(testing.TB) string
		open  func(testing.TB, string) *sql.DB
		names int
	}{
		{"postgres", testenv.PostgresDSN, testenv.OpenPostgres, 200},
		{"sqlite", testenv.SQLitePath, testenv.OpenSQLite, 60},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dsn := tc.dsn(t)
			pool := func(tb testing.TB) *sql.DB { return tc.open(tb, dsn) }
			a, b := authStore(t, pool), authStore(t, pool)
			authtest.ConcurrentUsernames(t, []auth.ClaimStore{a, b}, tc.names)
			authtest.SharedCounters(t, []auth.CounterStore{a, b})
		})
	}
}

func TestAuthPurge(t *testing.T) {
	t.Parallel()
	for _, db := range testenv.SQLDBs() {
		t.Run(db.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := authStore(t, db.Open)
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			want := authtest.SeedExpiring(t, s, now)
			n, err := s.Purge(ctx, now)
			require.NoError(t, err)
			require.Zero(t, n)
			n, err = s.Purge(ctx, now.Add(2*time.Hour))
			require.NoError(t, err)
			require.EqualValues(t, want, n)
			c, err := s.Counter(ctx, "perm", now.Add(1000*time.Hour))
			require.NoError(t, err)
			require.Equal(t, 1, c.Consecutive)
		})
	}
}
