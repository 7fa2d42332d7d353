package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestAuthStoreConformance(t *testing.T) {
	t.Parallel()
	authtest.Run(t, func(*testing.T) auth.Store { return memstore.NewAuthStore() })
}

func TestAuthStorePurge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := memstore.NewAuthStore()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	want := authtest.SeedExpiring(t, s, now)
	require.Equal(t, 0, s.PurgeAuth(now))
	require.Equal(t, want, s.PurgeAuth(now.Add(2*time.Hour)))
	c, err := s.Counter(ctx, "perm", now.Add(1000*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, c.Consecutive)
}
