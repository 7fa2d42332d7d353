package mfa_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// TestImportTOTPRFC6238: every RFC 6238 Appendix B vector verifies through
// an imported key, in time order on one factor per algorithm and length:
// confirmed with the first, then each later one at its time.
func TestImportTOTPRFC6238(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, alg := range []mfa.Algorithm{mfa.SHA1, mfa.SHA256, mfa.SHA512} {
		for _, digits := range []int{6, 8} {
			t.Run(fmt.Sprintf("%s/%d", alg, digits), func(t *testing.T) {
				t.Parallel()
				f := newFixture(t, mfa.Config{})
				first := true
				for _, v := range rfc6238 {
					if v.alg != alg {
						continue
					}
					f.clock.mu.Lock()
					f.clock.t = time.Unix(v.unix, 0).UTC()
					f.clock.mu.Unlock()
					code := v.code[8-digits:]
					if first {
						exp, err := f.m.ImportTOTP(ctx, "alice", mfa.KeyURI{Secret: rfcSeed(alg), Algorithm: alg, Digits: digits, Period: 30 * time.Second})
						require.NoError(t, err)
						require.Equal(t, f.clock.Now().Add(10*time.Minute), exp)
						require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", code), mfa.ErrNotEnrolled, "not active before confirmation")
						require.NoError(t, f.m.ConfirmTOTP(ctx, "alice", code))
						first = false
						continue
					}
					require.NoError(t, f.m.VerifyTOTP(ctx, "alice", code), "t=%d", v.unix)
				}
			})
		}
	}
}

func TestImportTOTPRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	good := mfa.KeyURI{Secret: rfcSeed(mfa.SHA1), Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}
	for _, c := range []struct {
		param string
		mod   func(*mfa.KeyURI)
	}{
		{"secret", func(k *mfa.KeyURI) { k.Secret = k.Secret[:19] }},
		{"secret", func(k *mfa.KeyURI) { k.Secret = nil }},
		{"secret", func(k *mfa.KeyURI) { k.Secret = bytes.Repeat([]byte{1}, 65) }},
		{"algorithm", func(k *mfa.KeyURI) { k.Algorithm = "MD5" }},
		{"algorithm", func(k *mfa.KeyURI) { k.Algorithm = "" }},
		{"digits", func(k *mfa.KeyURI) { k.Digits = 7 }},
		{"digits", func(k *mfa.KeyURI) { k.Digits = 0 }},
		{"period", func(k *mfa.KeyURI) { k.Period = 60 * time.Second }},
		{"period", func(k *mfa.KeyURI) { k.Period = 1500 * time.Millisecond }},
		{"period", func(k *mfa.KeyURI) { k.Period = 0 }},
	} {
		f := newFixture(t, mfa.Config{})
		k := good
		c.mod(&k)
		_, err := f.m.ImportTOTP(ctx, "alice", k)
		require.ErrorIs(t, err, mfa.ErrInvalidKey, c.param)
		require.Contains(t, err.Error(), ": "+c.param+": ")
		_, gerr := f.store.GetTOTP(ctx, "alice")
		require.ErrorIs(t, gerr, mfa.ErrNotFound, "nothing stored for a refused key")
	}

	f := newFixture(t, mfa.Config{})
	_, err := f.m.ImportTOTP(ctx, "", good)
	require.ErrorIs(t, err, mfa.ErrInvalidInput)

	// Sealed like a new secret, bound to the user.
	_, err = f.m.ImportTOTP(ctx, "alice", good)
	require.NoError(t, err)
	rec, err := f.store.GetTOTP(ctx, "alice")
	require.NoError(t, err)
	require.True(t, rec.ConfirmedAt.IsZero())
	require.NotContains(t, string(rec.Secret), string(good.Secret), "the secret is stored sealed")
	require.Equal(t, mfa.EventEnrolled, f.ev.last().Type)
	f.ev.requireNoSecret(t, string(good.Secret), b32(good.Secret))

	// The confirmation window applies.
	f.clock.Add(10 * time.Minute)
	code, err := mfa.Code(good.Secret, good.Algorithm, good.Digits, good.Period, f.clock.Now())
	require.NoError(t, err)
	require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "alice", code), mfa.ErrNotEnrolled)

	// A confirmed factor is not replaced by an import.
	_, err = f.m.ImportTOTP(ctx, "alice", good)
	require.NoError(t, err)
	require.NoError(t, f.m.ConfirmTOTP(ctx, "alice", code))
	_, err = f.m.ImportTOTP(ctx, "alice", good)
	require.ErrorIs(t, err, mfa.ErrAlreadyEnrolled)
}

// ExampleManager_ImportTOTP moves a factor from another system: the key
// comes as an otpauth URI, and the user confirms it with a code from the
// app that already holds it.
func ExampleManager_ImportTOTP() {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 15, 0, time.UTC)
	m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer(), mfa.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}

	k, err := mfa.ParseKeyURI("otpauth://totp/Legacy:alice@example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Legacy")
	if err != nil {
		panic(err)
	}
	if _, err := m.ImportTOTP(ctx, "alice", k); err != nil {
		panic(err)
	}
	code, _ := mfa.Code(k.Secret, k.Algorithm, k.Digits, k.Period, now) // what the user's app shows
	fmt.Println(m.ConfirmTOTP(ctx, "alice", code))

	_, err = m.ImportTOTP(ctx, "bob", mfa.KeyURI{Secret: []byte("short"), Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second})
	fmt.Println(err)
	// Output:
	// <nil>
	// mfa: unusable TOTP key: secret: must be 20 to 64 bytes (160 to 512 bits)
}
