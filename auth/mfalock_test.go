package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// totpEnv is an env whose second factor is a real mfa Manager with a TOTP
// factor for "u1".
func totpEnv(t *testing.T, mfaCfg mfa.Config, mod func(*setup)) (*env, *mfa.Manager, func() string) {
	t.Helper()
	var m *mfa.Manager
	e := newEnv(t, func(c *setup) {
		mfaCfg.Now = c.Now
		var err error
		m, err = mfa.New(memstore.NewMFAStore(), plainSealer{}, mfaCfg)
		require.NoError(t, err)
		c.MFA = bulwark.MFAVerifier(m)
		if mod != nil {
			mod(c)
		}
	})
	e.addUser("u1", "JanKowalski37", "pw")
	en, err := m.EnrollTOTP(context.Background(), "u1", "jan")
	require.NoError(t, err)
	key, err := mfa.ParseKeyURI(en.URI)
	require.NoError(t, err)
	code := func() string {
		c, err := mfatest.Code(key.Secret, key.Algorithm, key.Digits, key.Period, e.clock.Now())
		require.NoError(t, err)
		return c
	}
	require.NoError(t, m.ConfirmTOTP(context.Background(), "u1", code()))
	e.clock.Add(key.Period)
	return e, m, code
}

func wrong(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

// TestCompleteMFATellsLockFromExpiry: the host can say what happened. The
// wrong code that uses up the pending state's attempts says so (not
// "expired"); a factor that locks reaches the host as an *MFALockedError
// with its end, once audited and mailed to the owner; and while it is
// locked even the right code gets the lock, not "invalid code".
func TestCompleteMFATellsLockFromExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("pending attempts used up", func(t *testing.T) {
		t.Parallel()
		// mfa allows more wrong codes than the pending state.
		e, _, code := totpEnv(t, mfa.Config{MaxAttempts: 10}, func(c *setup) { c.MaxMFAAttempts = 3 })
		res := e.login(t, "JanKowalski37", "pw", client)
		for i := 1; i <= 3; i++ {
			_, err := e.a.CompleteMFA(ctx, res.PendingToken, wrong(code()), client)
			require.ErrorIs(t, err, auth.ErrInvalidCode)
			require.Equal(t, i == 3, errors.Is(err, auth.ErrMFAAttemptsExhausted), "attempt %d: %v", i, err)
			require.False(t, errors.As(err, new(*auth.MFALockedError)))
		}
		_, err := e.a.CompleteMFA(ctx, res.PendingToken, code(), client)
		require.ErrorIs(t, err, auth.ErrInvalidPending, "the state is gone")
	})

	t.Run("factor locks", func(t *testing.T) {
		t.Parallel()
		e, _, code := totpEnv(t, mfa.Config{MaxAttempts: 3, LockoutDuration: 15 * time.Minute}, nil)
		lockedAt := e.clock.Now()
		res := e.login(t, "JanKowalski37", "pw", client)
		for range 2 {
			_, err := e.a.CompleteMFA(ctx, res.PendingToken, wrong(code()), client)
			require.ErrorIs(t, err, auth.ErrInvalidCode)
			require.False(t, errors.As(err, new(*auth.MFALockedError)))
		}
		require.Empty(t, e.rec.notesOf(auth.NotifyMFALocked))
		_, err := e.a.CompleteMFA(ctx, res.PendingToken, wrong(code()), client)
		var le *auth.MFALockedError
		require.ErrorAs(t, err, &le)
		require.Equal(t, "totp", le.Factor)
		require.Equal(t, lockedAt.Add(15*time.Minute), le.Until)
		require.True(t, le.Triggered)
		notes := e.rec.notesOf(auth.NotifyMFALocked)
		require.Len(t, notes, 1, "the owner is told once")
		require.Equal(t, "u1", notes[0].UserID)
		require.Equal(t, le.Until, notes[0].Until)
		require.Equal(t, "totp", notes[0].Factor)
		require.Equal(t, 1, e.rec.countEvents(auth.EventMFALockout))

		// The right code while locked: the lock, not "invalid code".
		_, err = e.a.CompleteMFA(ctx, res.PendingToken, code(), client)
		require.ErrorAs(t, err, &le)
		require.False(t, le.Triggered)
		require.Equal(t, lockedAt.Add(15*time.Minute), le.Until)
		require.Len(t, e.rec.notesOf(auth.NotifyMFALocked), 1, "no second mail for the same lock")

		// After the lock, a fresh login with the right code passes.
		e.clock.Add(16 * time.Minute)
		res = e.login(t, "JanKowalski37", "pw", client)
		_, err = e.a.CompleteMFA(ctx, res.PendingToken, code(), client)
		require.NoError(t, err)
	})
}

// TestLockoutNotificationSaysUntil: the owner's lockout mail can say how
// long sign-in is paused.
func TestLockoutNotificationSaysUntil(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "pw")
	for i := 0; i < 50 && len(e.rec.notesOf(auth.NotifyLockout)) == 0; i++ {
		_, err := e.a.Login(context.Background(), "JanKowalski37", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	notes := e.rec.notesOf(auth.NotifyLockout)
	require.Len(t, notes, 1)
	require.Equal(t, e.clock.Now().Add(auth.DefaultWaitIncrement), notes[0].Until)
}

// TestEmailedLoginsDoNotLockTOTP: a user with both an app and emailed
// codes who signs in with emailed codes does not use up, and lock, the
// app's attempts.
func TestEmailedLoginsDoNotLockTOTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mailed string
	e, mgr, code := totpEnv(t, mfa.Config{MaxAttempts: 3, Sender: senderFunc(func(msg mfa.Message) { mailed = msg.Code })}, nil)
	require.NoError(t, mgr.StartEmailFactor(ctx, "u1", "jan@example.com"))
	require.NoError(t, mgr.ConfirmEmailFactor(ctx, "u1", mailed))
	for i := range 5 {
		e.clock.Add(2 * time.Minute) // past the resend interval
		require.NoError(t, mgr.SendLoginCode(ctx, "u1", "jan@example.com"))
		res := e.login(t, "JanKowalski37", "pw", client)
		_, err := e.a.CompleteMFA(ctx, res.PendingToken, mailed, client)
		require.NoError(t, err, "emailed login %d", i)
	}
	res := e.login(t, "JanKowalski37", "pw", client)
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, code(), client)
	require.NoError(t, err, "the app's code still works")
	require.Empty(t, e.rec.notesOf(auth.NotifyMFALocked))
}

// TestReplayThatLocksIsNotified: a replayed code that locks the factor
// (it used the last attempt) is audited and mailed like a wrong one;
// otherwise the lock would be silent and the page would later claim the
// owner had been emailed.
func TestReplayThatLocksIsNotified(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, _, code := totpEnv(t, mfa.Config{MaxAttempts: 3}, nil)
	res := e.login(t, "JanKowalski37", "pw", client)
	used := code()
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, used, client)
	require.NoError(t, err)
	res = e.login(t, "JanKowalski37", "pw", client)
	for range 2 {
		_, err = e.a.CompleteMFA(ctx, res.PendingToken, wrong(used), client)
		require.ErrorIs(t, err, auth.ErrInvalidCode)
	}
	_, err = e.a.CompleteMFA(ctx, res.PendingToken, used, client)
	require.ErrorIs(t, err, auth.ErrInvalidCode)
	var le *auth.MFALockedError
	require.ErrorAs(t, err, &le)
	require.True(t, le.Triggered)
	require.Len(t, e.rec.notesOf(auth.NotifyMFALocked), 1, "the owner is told")
	require.Equal(t, 1, e.rec.countEvents(auth.EventMFALockout))
}

// TestAlternatingFactorsGainNoGuesses: an attacker who knows the password
// of a user with both an app and emailed codes, and signs in again and
// again, gets at most MaxAttempts checked codes per factor before both
// lock: one guess may be checked against both factors, but the two
// counters never reset each other.
func TestAlternatingFactorsGainNoGuesses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var (
		mailed  string
		checked = map[mfa.Factor]int{}
	)
	hook := func(_ context.Context, ev mfa.Event) {
		if (ev.Type == mfa.EventFailed || ev.Type == mfa.EventLocked) && ev.Reason == "invalid" {
			checked[ev.Factor]++
		}
	}
	e, mgr, code := totpEnv(t, mfa.Config{Hook: hook, Sender: senderFunc(func(msg mfa.Message) { mailed = msg.Code })}, nil)
	require.NoError(t, mgr.StartEmailFactor(ctx, "u1", "jan@example.com"))
	require.NoError(t, mgr.ConfirmEmailFactor(ctx, "u1", mailed))
	for range 8 { // 8 sign-ins of 5 codes each, within one lockout period
		// A fresh emailed code each time ("email me a code") brings its
		// own 5 attempts, but not fresh attempts for the factor.
		e.clock.Add(61 * time.Second)
		require.NoError(t, mgr.SendLoginCode(ctx, "u1", "jan@example.com"))
		guess := wrong(code())
		if guess == mailed {
			guess = wrong(guess)
		}
		res := e.login(t, "JanKowalski37", "pw", client)
		for range auth.DefaultMaxMFAAttempts {
			_, err := e.a.CompleteMFA(ctx, res.PendingToken, guess, client)
			require.ErrorIs(t, err, auth.ErrInvalidCode)
		}
	}
	require.Equal(t, map[mfa.Factor]int{mfa.FactorTOTP: 5, mfa.FactorEmail: 5}, checked)
}

// plainSealer seals nothing: the tests need mfa's logic, not encryption.
type plainSealer struct{}

func (plainSealer) Seal(_ context.Context, p, _ []byte) ([]byte, error) {
	return append([]byte(nil), p...), nil
}

func (plainSealer) Open(_ context.Context, c, _ []byte) ([]byte, error) {
	return append([]byte(nil), c...), nil
}

type senderFunc func(mfa.Message)

func (f senderFunc) Send(_ context.Context, m mfa.Message) error { f(m); return nil }
