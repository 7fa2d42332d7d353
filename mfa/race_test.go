package mfa_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

// TestConcurrentEmailFactorConfirm: the same confirmation code sent by
// several instances at once turns emailed codes on exactly once.
func TestConcurrentEmailFactorConfirm(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	other := mustNew(t, f.store, newSealer(t), mfa.Config{Now: f.clock.Now, Hook: f.ev.hook, Sender: f.sent})
	require.NoError(t, f.m.StartEmailFactor(ctx, "alice", "a@example.com"))
	code := f.sent.lastCode(t)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		m := f.m
		if i%2 == 1 {
			m = other
		}
		wg.Go(func() { errs[i] = m.ConfirmEmailFactor(ctx, "alice", code) })
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, mfa.ErrReplay), errors.Is(err, mfa.ErrNoCode):
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	require.Equal(t, 1, ok, "a confirmation code is single use")
	confirms := 0
	for _, typ := range f.ev.types() {
		if typ == mfa.EventConfirmed {
			confirms++
		}
	}
	require.Equal(t, 1, confirms)
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.True(t, st.Email)
}

// TestConcurrentEnrollAndImport: EnrollTOTP and ImportTOTP racing on two
// instances leave exactly one pending secret, one that some caller was
// given, and only that one can be confirmed.
func TestConcurrentEnrollAndImport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	sealer := newSealer(t) // both instances share the store and the key
	cfg := mfa.Config{Now: f.clock.Now, QRCodeSize: 64, MaxAttempts: 100}
	f.m = mustNew(t, f.store, sealer, cfg)
	other := mustNew(t, f.store, sealer, cfg)
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		secrets [][]byte
	)
	add := func(s []byte) {
		mu.Lock()
		defer mu.Unlock()
		for _, x := range secrets {
			if bytes.Equal(x, s) {
				return
			}
		}
		secrets = append(secrets, s)
	}
	for i := range 12 {
		m := f.m
		if i%2 == 1 {
			m = other
		}
		wg.Go(func() {
			if i%3 == 0 {
				k := mfa.KeyURI{Secret: make([]byte, 20), Algorithm: mfa.SHA1, Digits: 6, Period: 30e9}
				_, _ = rand.Read(k.Secret)
				_, err := m.ImportTOTP(ctx, "alice", k)
				require.NoError(t, err)
				add(k.Secret)
				return
			}
			e, err := m.EnrollTOTP(ctx, "alice", "alice@example.com")
			require.NoError(t, err)
			k, err := mfa.ParseKeyURI(e.URI)
			require.NoError(t, err)
			add(k.Secret)
		})
	}
	wg.Wait()
	confirmed := 0
	for _, s := range secrets {
		code, err := mfa.Code(s, mfa.SHA1, 6, 30e9, f.clock.Now())
		require.NoError(t, err)
		if f.m.ConfirmTOTP(ctx, "alice", code) == nil {
			confirmed++
		}
	}
	require.Equal(t, 1, confirmed, "of %d secrets handed out, exactly one is the stored one", len(secrets))
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.True(t, st.TOTP)
}
