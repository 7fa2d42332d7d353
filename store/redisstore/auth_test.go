package redisstore_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/auth/authtest"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func TestAuthCounterConformance(t *testing.T) {
	t.Parallel()
	authtest.RunCounters(t, func(t *testing.T) auth.CounterStore {
		c, prefix := testenv.Redis(t)
		return volatileOK(redisstore.New(c, prefix)).Auth()
	})
}

// TestAuthSharedCounters uses two clients on one Redis, standing for two
// app instances.
func TestAuthSharedCounters(t *testing.T) {
	t.Parallel()
	c1, prefix := testenv.Redis(t)
	c2, _ := testenv.Redis(t)
	authtest.SharedCounters(t, []auth.CounterStore{volatileOK(redisstore.New(c1, prefix)).Auth(), volatileOK(redisstore.New(c2, prefix)).Auth()})
}

func TestAuthStoreConformance(t *testing.T) {
	t.Parallel()
	authtest.Run(t, func(t *testing.T) auth.Store {
		c, prefix := testenv.Redis(t)
		return volatileOK(redisstore.New(c, prefix)).Auth()
	})
}

// TestAuthDecoyTokensNotIndexed: decoy reset tokens (no user, written for
// unknown addresses) expire by themselves and are not gathered in one
// per-user set that every decoy refreshes and nothing ever empties.
func TestAuthDecoyTokensNotIndexed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	s := redisstore.New(c, prefix)
	a := s.Auth()
	now := time.Now()
	for i := range 3 {
		h := sha256.Sum256([]byte{byte(i)})
		require.NoError(t, a.CreateResetToken(ctx, auth.ResetToken{Hash: h[:], CreatedAt: now, ExpiresAt: now.Add(time.Minute)}))
	}
	n, err := c.Exists(ctx, redisstore.KeyOf(s, "auth", "rtu", "")).Result()
	require.NoError(t, err)
	require.Zero(t, n)
}
