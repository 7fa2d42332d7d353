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
	require.Equal(t, prefix+"session:abc", st.Key("session", "abc"))
	require.Equal(t, prefix, st.Prefix())
	ctx := context.Background()
	require.NoError(t, st.Client().Set(ctx, st.Key("x"), "1", 0).Err())
	require.Equal(t, "1", st.Client().Get(ctx, st.Key("x")).Val())
	require.Panics(t, func() { redisstore.New(nil, "") })
}
