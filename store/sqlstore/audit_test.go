package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/audit/audittest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

func TestAuditConformance(t *testing.T) {
	t.Parallel()
	for _, be := range testenv.SQLDBs() {
		t.Run(be.Name, func(t *testing.T) {
			t.Parallel()
			audittest.Run(t, func(t *testing.T) audit.Store {
				st, err := sqlstore.Open(context.Background(), be.Open(t))
				require.NoError(t, err)
				require.NoError(t, st.Migrate(context.Background()))
				return st.Audit()
			})
		})
	}
}

// TestAuditSeveralPools simulates several app instances, each with its own
// pool and its own Log (group commit), appending to the same streams of one
// PostgreSQL schema at once: each stream must remain one unbroken chain.
func TestAuditSeveralPools(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testenv.PostgresDSN(t)
	first, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
	require.NoError(t, err)
	require.NoError(t, first.Migrate(ctx))
	key := audit.HMACKey{ID: "k", Key: []byte("0123456789abcdef0123456789abcdef")}
	const instances, workers, each = 4, 8, 25
	var wg sync.WaitGroup
	for i := range instances {
		st, err := sqlstore.Open(ctx, testenv.OpenPostgres(t, dsn))
		require.NoError(t, err)
		l := audit.New(st.Audit(), audit.Config{Signer: key, CheckpointEvery: 100, InFlight: 1 + i%2})
		for w := range workers {
			wg.Go(func() {
				for n := range each {
					_, err := l.Append(ctx, audit.Event{Tenant: fmt.Sprint("t", (w+n)%3), Actor: fmt.Sprint(i, "-", w),
						Action: "record.updated", TargetID: fmt.Sprint(n)})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	l := audit.New(first.Audit(), audit.Config{Signer: key})
	total := 0
	for s := range 3 {
		rep, err := l.Verify(ctx, fmt.Sprint("t", s), audit.VerifyOptions{})
		require.NoError(t, err)
		total += rep.Records
	}
	require.Equal(t, instances*workers*each, total)
}
