package mfa_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestEmailFactorEnrolment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})

	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.False(t, st.Email)

	// Not on: no login code is sent, and one mailed by SendCode does not
	// count as a second factor.
	require.ErrorIs(t, f.m.SendLoginCode(ctx, "alice", "alice@example.com"), mfa.ErrNotEnrolled)
	require.Empty(t, f.sent.msgs)
	require.NoError(t, f.m.SendCode(ctx, "alice", "alice@example.com", mfa.PurposeLogin))
	require.ErrorIs(t, f.m.VerifyLoginCode(ctx, "alice", f.sent.lastCode(t)), mfa.ErrNotEnrolled)

	// Turning it on takes the code mailed for that purpose, not another.
	require.NoError(t, f.m.StartEmailFactor(ctx, "alice", "alice@example.com"))
	require.Equal(t, mfa.PurposeEmailFactor, f.sent.msgs[len(f.sent.msgs)-1].Purpose)
	confirm := f.sent.lastCode(t)
	require.ErrorIs(t, f.m.ConfirmEmailFactor(ctx, "alice", wrongCode(confirm)), mfa.ErrInvalidCode)
	st, err = f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.False(t, st.Email, "a wrong code turns nothing on")
	require.NoError(t, f.m.ConfirmEmailFactor(ctx, "alice", confirm))
	require.Equal(t, mfa.EventConfirmed, f.ev.last().Type)
	require.Equal(t, mfa.FactorEmail, f.ev.last().Factor)
	st, err = f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.True(t, st.Email)
	require.ErrorIs(t, f.m.StartEmailFactor(ctx, "alice", "alice@example.com"), mfa.ErrAlreadyEnrolled)

	// On: login codes work, once.
	f.clock.Add(2 * time.Minute)
	require.NoError(t, f.m.SendLoginCode(ctx, "alice", "alice@example.com"))
	login := f.sent.lastCode(t)
	require.NoError(t, f.m.VerifyLoginCode(ctx, "alice", login))
	require.ErrorIs(t, f.m.VerifyLoginCode(ctx, "alice", login), mfa.ErrNoCode)
	st, err = f.m.Status(ctx, "bob")
	require.NoError(t, err)
	require.False(t, st.Email, "per user")

	// Off again.
	require.NoError(t, f.m.Remove(ctx, "alice", mfa.FactorEmail))
	require.Equal(t, mfa.EventRemoved, f.ev.last().Type)
	require.ErrorIs(t, f.m.Remove(ctx, "alice", mfa.FactorEmail), mfa.ErrNotEnrolled)
	f.clock.Add(2 * time.Minute)
	require.ErrorIs(t, f.m.SendLoginCode(ctx, "alice", "alice@example.com"), mfa.ErrNotEnrolled)
	f.ev.requireNoSecret(t, confirm, login)
}

// TestEmailFactorConfirmNeedsItsPurpose: a sign-in code (which a host may
// mail for other reasons) cannot turn emailed codes on.
func TestEmailFactorConfirmNeedsItsPurpose(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	require.NoError(t, f.m.SendCode(ctx, "alice", "alice@example.com", mfa.PurposeLogin))
	require.ErrorIs(t, f.m.ConfirmEmailFactor(ctx, "alice", f.sent.lastCode(t)), mfa.ErrNoCode)
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.False(t, st.Email)
}

// brokenEmailFactor is a store whose email-factor lookup fails and lies
// that the factor is on.
type brokenEmailFactor struct{ *flakyStore }

func (s brokenEmailFactor) EmailFactor(context.Context, string) (time.Time, error) {
	return t0, errStore
}

func TestEmailFactorFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := memstore.NewMFAStore()
	sent := &captureSender{}
	good := mustNew(t, mem, newSealer(t), mfa.Config{Sender: sent, Now: func() time.Time { return t0 }})
	require.NoError(t, good.StartEmailFactor(ctx, "alice", "a@example.com"))
	require.NoError(t, good.ConfirmEmailFactor(ctx, "alice", sent.lastCode(t)))
	require.NoError(t, good.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code := sent.lastCode(t)

	m := mustNew(t, brokenEmailFactor{&flakyStore{Store: mem, fail: map[string]bool{}}}, newSealer(t),
		mfa.Config{Sender: sent, Now: func() time.Time { return t0 }})
	for name, err := range map[string]error{
		"VerifyLoginCode": m.VerifyLoginCode(ctx, "alice", code),
		"SendLoginCode":   m.SendLoginCode(ctx, "alice", "a@example.com"),
	} {
		require.ErrorIs(t, err, errStore, name)
	}
	_, err := m.Status(ctx, "alice")
	require.ErrorIs(t, err, errStore)
	require.NoError(t, good.VerifyLoginCode(ctx, "alice", code), "the code was not consumed by the failed attempt")
}

// failingEmailWrites is a store whose email-factor writes fail.
type failingEmailWrites struct{ mfa.Store }

func (failingEmailWrites) EnableEmailFactor(context.Context, string, time.Time) error {
	return errStore
}
func (failingEmailWrites) DisableEmailFactor(context.Context, string) error { return errStore }

// TestEmailFactorWritesFailClosed: a failed write is reported, never taken
// for done: ConfirmEmailFactor does not claim the factor is on, and
// RemoveEmailFactor does not claim it is off (the user would believe the
// mailbox no longer passes as a second factor).
func TestEmailFactorWritesFailClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := memstore.NewMFAStore()
	sent := &captureSender{}
	cfg := mfa.Config{Sender: sent, Now: func() time.Time { return t0 }}
	broken := mustNew(t, failingEmailWrites{mem}, newSealer(t), cfg)
	good := mustNew(t, mem, newSealer(t), cfg)

	require.NoError(t, broken.StartEmailFactor(ctx, "alice", "a@example.com"))
	require.ErrorIs(t, broken.ConfirmEmailFactor(ctx, "alice", sent.lastCode(t)), errStore)
	st, err := good.Status(ctx, "alice")
	require.NoError(t, err)
	require.False(t, st.Email)

	require.NoError(t, good.SendCode(ctx, "alice", "a@example.com", mfa.PurposeEmailFactor))
	require.NoError(t, good.ConfirmEmailFactor(ctx, "alice", sent.lastCode(t)))
	require.ErrorIs(t, broken.Remove(ctx, "alice", mfa.FactorEmail), errStore)
	st, err = good.Status(ctx, "alice")
	require.NoError(t, err)
	require.True(t, st.Email, "still on, as the error said")
}
