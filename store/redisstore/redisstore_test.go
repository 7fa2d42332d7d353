package redisstore_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/store/redisstore"
)

func TestKeyAndClient(t *testing.T) {
	t.Parallel()
	c, prefix := testenv.Redis(t)
	st := redisstore.New(c, prefix)
	require.Equal(t, prefix+"session:abc", redisstore.KeyOf(st, "session", "abc"))
	require.Equal(t, prefix, redisstore.PrefixOf(st))
	ctx := context.Background()
	require.NoError(t, redisstore.ClientOf(st).Set(ctx, redisstore.KeyOf(st, "x"), "1", 0).Err())
	require.Equal(t, "1", redisstore.ClientOf(st).Get(ctx, redisstore.KeyOf(st, "x")).Val())
	require.Panics(t, func() { redisstore.New(nil, "") })
}
