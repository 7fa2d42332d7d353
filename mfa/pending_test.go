package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// TestEnrollKeepsPendingSecret: a typo while confirming does not throw the
// scanned secret away. Starting the enrollment again while it is pending
// shows the same secret and QR code, until it expires (10 minutes by
// default); wrong codes count against the attempt limit meanwhile.
func TestEnrollKeepsPendingSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	e1, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, f.clock.Now().Add(10*time.Minute), e1.Expires, "default enrollment window")
	require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "alice", wrongCode(codeAt(t, e1, f.clock.Now()))), mfa.ErrInvalidCode)

	f.clock.Add(2 * time.Minute)
	e2, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, e1.Secret, e2.Secret, "a new secret after a typo makes the scanned app stale")
	require.Equal(t, e1.URI, e2.URI)
	require.Equal(t, e1.QRCodePNG, e2.QRCodePNG)
	require.Equal(t, e1.Expires, e2.Expires, "re-showing does not extend the window")
	require.NoError(t, f.m.ConfirmTOTP(ctx, "alice", codeAt(t, e1, f.clock.Now())), "the app scanned first works")
}

func TestEnrollPendingExpiresAndLocks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, mfa.Config{})
		e1, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
		require.NoError(t, err)
		f.clock.Add(10 * time.Minute)
		e2, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
		require.NoError(t, err)
		require.NotEqual(t, e1.Secret, e2.Secret, "an expired pending secret is replaced")
		require.Equal(t, f.clock.Now().Add(10*time.Minute), e2.Expires)
	})

	t.Run("attempt limit", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, mfa.Config{MaxAttempts: 3})
		e1, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
		require.NoError(t, err)
		bad := wrongCode(codeAt(t, e1, f.clock.Now()))
		for range 2 {
			require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "alice", bad), mfa.ErrInvalidCode)
			e, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
			require.NoError(t, err)
			require.Equal(t, e1.Secret, e.Secret)
		}
		err = f.m.ConfirmTOTP(ctx, "alice", bad)
		require.ErrorIs(t, err, mfa.ErrLocked, "wrong confirmation codes are limited like any other")
		require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "alice", codeAt(t, e1, f.clock.Now())), mfa.ErrLocked)
	})

	t.Run("other account name", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, mfa.Config{})
		e1, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.com")
		require.NoError(t, err)
		e2, err := f.m.EnrollTOTP(ctx, "alice", "alice@example.org")
		require.NoError(t, err)
		require.Equal(t, e1.Secret, e2.Secret)
		k, err := mfa.ParseKeyURI(e2.URI)
		require.NoError(t, err)
		require.Equal(t, "alice@example.org", k.AccountName)
	})
}
