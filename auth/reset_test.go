package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
)

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	e.mfa.enroll("u1")
	// Two sessions exist.
	for range 2 {
		res := e.login(t, "JanKowalski37", "old password", client)
		_, err := e.a.CompleteMFA(ctx, res.PendingToken, "good-"+res.PendingToken[:8], client)
		require.NoError(t, err)
	}
	require.Equal(t, 2, e.sess.count("u1"))

	// Same answer for a known and an unknown address.
	errKnown := e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client)
	errUnknown := e.a.RequestPasswordReset(ctx, "nobody@example.com", client)
	require.NoError(t, errKnown)
	require.NoError(t, errUnknown)
	e.rec.mu.Lock()
	require.Len(t, e.rec.links, 1)
	e.rec.mu.Unlock()
	link := e.rec.lastLink(t)
	require.Equal(t, "u1", link.UserID)
	require.False(t, link.ByAdmin)
	raw, err := base64.RawURLEncoding.DecodeString(link.Token)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(raw)*8, 128)
	require.Equal(t, e.clock.Now().Add(30*time.Minute), link.ExpiresAt)

	// Stored only as a hash.
	sum := sha256.Sum256([]byte(link.Token))
	_, err = e.store.LookupResetToken(ctx, sum[:], e.clock.Now())
	require.NoError(t, err)
	_, err = e.store.LookupResetToken(ctx, []byte(link.Token), e.clock.Now())
	require.ErrorIs(t, err, auth.ErrNotFound)

	// A password the policy rejects leaves the token usable.
	require.ErrorContains(t, e.a.ResetPassword(ctx, link.Token, "short", client), "too short")
	require.NoError(t, e.a.ResetPassword(ctx, link.Token, "brand new password", client))

	// All sessions ended, the user was told, the old password is dead.
	require.Zero(t, e.sess.count("u1"))
	require.Len(t, e.rec.notesOf(auth.NotifyPasswordChanged), 1)
	_, err = e.a.Login(ctx, "JanKowalski37", "old password", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)

	// Token reuse fails.
	require.ErrorIs(t, e.a.ResetPassword(ctx, link.Token, "another new password", client), auth.ErrInvalidResetToken)

	// The reset did not bypass MFA: the new password leads to the MFA step.
	res := e.login(t, "JanKowalski37", "brand new password", client)
	require.Equal(t, auth.StepMFA, res.Next)
	require.Zero(t, e.sess.count("u1"))
}

func TestResetTokenExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	e.clock.Add(auth.DefaultResetTTL)
	require.ErrorIs(t, e.a.ResetPassword(ctx, e.rec.lastLink(t).Token, "brand new password", client), auth.ErrInvalidResetToken)
	require.ErrorIs(t, e.a.ResetPassword(ctx, "made-up", "brand new password", client), auth.ErrInvalidResetToken)
	require.Equal(t, 2, e.rec.countEvents(auth.EventResetInvalid))
}

func TestResetTokenConcurrentUse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	tok := e.rec.lastLink(t).Token
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.a.ResetPassword(ctx, tok, "brand new password", client) == nil {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	require.EqualValues(t, 1, won.Load())
}

func TestResetRateLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.ResetLimit = 2 })
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	for i := range 4 {
		c := ipClient(i) // different IPs: the per-account cap applies
		require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", c))
	}
	e.rec.mu.Lock()
	require.Len(t, e.rec.links, 2, "at most ResetLimit links per account and window")
	e.rec.mu.Unlock()
	for range 2 {
		require.NoError(t, e.a.RequestPasswordReset(ctx, "nobody@example.com", client))
	}
	require.ErrorIs(t, e.a.RequestPasswordReset(ctx, "nobody@example.com", client), auth.ErrRateLimited)
}

func TestAdminStartReset(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	require.NoError(t, e.a.AdminStartReset(ctx, "admin7", "u1", client))
	link := e.rec.lastLink(t)
	require.True(t, link.ByAdmin)
	require.Equal(t, "JanKowalski37@example.com", link.Email)
	require.ErrorIs(t, e.a.AdminStartReset(ctx, "admin7", "nobody", client), auth.ErrNotFound)
	e.rec.mu.Lock()
	var actor string
	for _, ev := range e.rec.events {
		if ev.Type == auth.EventResetRequested {
			actor = ev.Actor
		}
	}
	e.rec.mu.Unlock()
	require.Equal(t, "admin7", actor)
	// The password is unchanged until the user follows the link.
	e.login(t, "JanKowalski37", "old password", client)
	require.NoError(t, e.a.ResetPassword(ctx, link.Token, "user chosen password", client))
	e.login(t, "JanKowalski37", "user chosen password", client)
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	cur := e.login(t, "JanKowalski37", "old password", client)
	e.login(t, "JanKowalski37", "old password", client)
	e.login(t, "JanKowalski37", "old password", client)

	err := e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "wrong", New: "brand new password"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	require.Equal(t, 1, e.rec.countEvents(auth.EventPasswordFailed))

	err = e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "old password", New: "short"}, client)
	require.ErrorContains(t, err, "too short")

	err = e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "old password", New: "brand new password",
		EndOtherSessions: true, CurrentSessionID: cur.Session.ID}, client)
	require.NoError(t, err)
	require.Equal(t, 1, e.sess.count("u1"), "only the current session remains")
	_, ok := e.sess.valid(cur.Session.Token)
	require.True(t, ok)
	require.Len(t, e.rec.notesOf(auth.NotifyPasswordChanged), 1)
	e.login(t, "JanKowalski37", "brand new password", client)
}

// TestChangePasswordLockout: the current-password check shares the login
// lockout, so it cannot be used to guess passwords past it.
func TestChangePasswordLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	for range auth.DefaultFailureFactor {
		err := e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "wrong", New: "brand new password"}, client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	err := e.a.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "old password", New: "brand new password"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	_, err = e.a.Login(ctx, "JanKowalski37", "old password", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}

// TestResetVoidsPendingMFA: a pending state made with the old password
// (say, by an attacker who knew it) dies when the owner resets it, even
// with a valid second factor.
func TestResetVoidsPendingMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "old password")
	e.mfa.enroll("u1")
	res := e.login(t, "JanKowalski37", "old password", client)
	require.Equal(t, auth.StepMFA, res.Next)

	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	require.NoError(t, e.a.ResetPassword(ctx, e.rec.lastLink(t).Token, "brand new password", client))
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, "good1", client)
	require.ErrorIs(t, err, auth.ErrInvalidPending)
	require.Zero(t, e.sess.count("u1"))
}

// TestPasswordSetEndsSessionsEvenIfAuditFails: once a new password is in
// effect, the sessions it is meant to end (say, an attacker's) end even
// when the audit log is down; the audit error is still returned.
func TestPasswordSetEndsSessionsEvenIfAuditFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "old password")
	e.login(t, "JanKowalski37", "old password", client)
	keep := e.login(t, "JanKowalski37", "old password", client)
	require.Equal(t, 2, e.sess.count("u1"))
	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	link := e.rec.lastLink(t)

	cfg := e.cfg
	cfg.Auditor = failingAuditor{}
	broken := mustNew(e.store, cfg)

	err := broken.ChangePassword(ctx, auth.PasswordChange{UserID: "u1", Current: "old password", New: "brand new password",
		EndOtherSessions: true, CurrentSessionID: keep.Session.ID}, client)
	require.ErrorContains(t, err, "audit down")
	require.Equal(t, 1, e.sess.count("u1"), "the other session must end")
	_, err = e.store.LookupResetToken(ctx, hashOf(link.Token), e.clock.Now())
	require.ErrorIs(t, err, auth.ErrNotFound, "a changed password voids reset tokens")

	require.NoError(t, e.a.RequestPasswordReset(ctx, "JanKowalski37@example.com", client))
	err = broken.ResetPassword(ctx, e.rec.lastLink(t).Token, "another new password", client)
	require.ErrorContains(t, err, "audit down")
	require.Zero(t, e.sess.count("u1"), "a reset must end every session")
	require.NotEmpty(t, e.rec.notesOf(auth.NotifyPasswordChanged), "the owner hears of it")
}

func hashOf(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}
