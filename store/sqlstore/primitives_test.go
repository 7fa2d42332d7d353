package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

var (
	_ storetest.CounterStore = sqlstore.Counters(nil)
	_ storetest.TokenStore   = sqlstore.Tokens(nil)
)

func migrated(t *testing.T, b testenv.SQLDB) *sqlstore.Store {
	t.Helper()
	st, err := sqlstore.Open(context.Background(), b.Open(t))
	require.NoError(t, err)
	require.NoError(t, st.Migrate(context.Background()))
	return st
}

// TestCounters and TestTokens run the storetest suites on every SQL back
// end: the same query text on both dialects, so a query SQLite cannot run
// fails here, not in production.
func TestCounters(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.SQLDBs() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			storetest.TestCounter(t, func(t *testing.T) storetest.CounterStore { return migrated(t, b).Counters() })
		})
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	for _, b := range testenv.SQLDBs() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			storetest.TestTokens(t, func(t *testing.T) storetest.TokenStore { return migrated(t, b).Tokens() })
		})
	}
}

func TestPrimitivesCleanup(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range testenv.SQLDBs() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			st := migrated(t, b)
			c, tk := st.Counters(), st.Tokens()
			_, _, err := c.AddCount(ctx, "old", 1, time.Minute, base)
			require.NoError(t, err)
			_, _, err = c.AddCount(ctx, "live", 1, time.Hour, base)
			require.NoError(t, err)
			h := sha256.Sum256([]byte("s"))
			require.NoError(t, tk.PutToken(ctx, "old", h, nil, time.Minute, base))
			require.NoError(t, tk.PutToken(ctx, "live", h, nil, time.Hour, base))
			n, err := c.Cleanup(ctx, base.Add(time.Minute))
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
			n, err = tk.Cleanup(ctx, base.Add(time.Minute))
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
			got, _, err := c.AddCount(ctx, "live", 0, time.Hour, base)
			require.NoError(t, err)
			require.EqualValues(t, 1, got)
		})
	}
}

// BenchmarkPrimitives measures one AddCount and one PutToken+TakeToken
// on every SQL back end next to a bare SELECT 1, the least a round trip
// costs.
func BenchmarkPrimitives(b *testing.B) {
	ctx, now := context.Background(), time.Now()
	for _, be := range testenv.SQLDBs() {
		b.Run(be.Name, func(b *testing.B) {
			db := be.Open(b)
			st, err := sqlstore.Open(ctx, db)
			require.NoError(b, err)
			require.NoError(b, st.Migrate(ctx))
			b.Run("bare-select", func(b *testing.B) {
				b.ReportAllocs()
				var one int
				for range b.N {
					if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("AddCount", func(b *testing.B) {
				c := st.Counters()
				b.ReportAllocs()
				for range b.N {
					if _, _, err := c.AddCount(ctx, "mfa:attempts:totp:alice", 1, time.Hour, now); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("PutTakeToken", func(b *testing.B) {
				tk, h := st.Tokens(), sha256.Sum256([]byte("secret"))
				b.ReportAllocs()
				for range b.N {
					if err := tk.PutToken(ctx, "k", h, []byte("v"), time.Hour, now); err != nil {
						b.Fatal(err)
					}
					if _, ok, err := tk.TakeToken(ctx, "k", h, now); !ok || err != nil {
						b.Fatal(ok, err)
					}
				}
			})
		})
	}
}
