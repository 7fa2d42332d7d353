package password_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/password"
)

func TestCalibrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// A tiny budget keeps the test cheap: 256 KiB, 50 ms.
	p, err := password.Calibrate(ctx, 50*time.Millisecond, 256*1024)
	require.NoError(t, err)
	require.Equal(t, uint32(256), p.Memory)
	require.GreaterOrEqual(t, p.Time, uint32(1))
	require.LessOrEqual(t, p.Time, uint32(16))
	require.Equal(t, uint32(16), p.SaltLen)
	h, err := password.New(password.Config{Params: p})
	require.NoError(t, err)
	enc, err := h.Hash(ctx, "pw")
	require.NoError(t, err)
	require.NoError(t, h.Verify(ctx, "pw", enc))

	// An impossible target falls back to one pass and shrinks memory to
	// the floor (here the budget is already below 19 MiB, so it stays).
	p, err = password.Calibrate(ctx, time.Nanosecond, 64*1024)
	require.NoError(t, err)
	require.Equal(t, uint32(1), p.Time)
	require.Equal(t, uint32(64), p.Memory)

	_, err = password.Calibrate(ctx, 0, 1<<20)
	require.ErrorIs(t, err, password.ErrInvalidConfig)
	_, err = password.Calibrate(ctx, time.Second, 1024)
	require.ErrorIs(t, err, password.ErrInvalidConfig)
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = password.Calibrate(cancelled, time.Second, 1<<20)
	require.ErrorIs(t, err, context.Canceled)
}
