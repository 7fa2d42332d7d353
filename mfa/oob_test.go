package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
)

func TestEmailedCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	require.NoError(t, f.m.SendCode(ctx, "alice", "alice@example.com", mfa.PurposeLogin))
	code := f.sent.lastCode(t)
	require.Regexp(t, `^[0-9]{6}$`, code)
	msg := f.sent.msgs[0]
	require.Equal(t, "alice@example.com", msg.To)
	require.Equal(t, t0.Add(10*time.Minute), msg.ExpiresAt)

	// Stored only as a hash.
	rec, err := f.store.GetOOB(ctx, "alice", mfa.PurposeLogin, t0)
	require.NoError(t, err)
	require.NotContains(t, string(rec.Hash)+string(rec.Salt), code)
	require.Len(t, rec.Hash, 32)

	// Bound to account and purpose.
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.Purpose("email_change"), code), mfa.ErrNoCode)
	require.ErrorIs(t, f.m.VerifyCode(ctx, "bob", mfa.PurposeLogin, code), mfa.ErrNoCode)

	require.NoError(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, " "+code+" "))
	// Single use.
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code), mfa.ErrNoCode)
	require.Equal(t, []mfa.EventType{mfa.EventCodeSent, mfa.EventFailed, mfa.EventFailed, mfa.EventVerified, mfa.EventFailed}, f.ev.types())
	f.ev.requireNoSecret(t, code)
}

func TestEmailedCodeExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{CodeDigits: 8})
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code := f.sent.lastCode(t)
	require.Len(t, code, 8)
	f.clock.Add(10 * time.Minute)
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code), mfa.ErrNoCode)
	// An expired code no longer throttles.
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
}

func TestEmailedCodeAttempts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// The per-code limit alone; the account's MaxAttempts budget is
	// TestEmailedCodeResendKeepsAttemptBudget's.
	f := newFixture(t, mfa.Config{MaxAttempts: 100})
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code := f.sent.lastCode(t)
	bad := wrongCode(code)
	for i := 1; i <= 5; i++ {
		require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, bad), mfa.ErrInvalidCode)
		require.Equal(t, 5-i, f.ev.last().Remaining)
	}
	require.Equal(t, mfa.EventLocked, f.ev.last().Type)
	// Invalidated: even the right code fails now.
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code), mfa.ErrNoCode)
	// Malformed input counts as an attempt too.
	f.clock.Add(time.Minute)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	for _, in := range []string{"", "12345", "123456789", "abcdef", "12-34-56"} {
		require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, in), mfa.ErrInvalidCode, "%q", in)
	}
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, f.sent.lastCode(t)), mfa.ErrNoCode)
}

func TestEmailedCodeResend(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	first := f.sent.lastCode(t)
	f.clock.Add(59 * time.Second)
	require.ErrorIs(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin), mfa.ErrThrottled)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.Purpose("email_change")))
	f.clock.Add(time.Second)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	second := f.sent.lastCode(t)
	if first != second {
		require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, first), mfa.ErrInvalidCode)
	}
	require.NoError(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, second))
}

func TestSendCodeFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{})
	boom := errors.New("mail server down")
	f.sent.err = boom
	require.ErrorIs(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin), boom)
	// The undelivered code was withdrawn: no throttle.
	f.sent.err = nil
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))

	require.ErrorIs(t, f.m.SendCode(ctx, "alice", "", mfa.PurposeLogin), mfa.ErrInvalidInput)
	for _, p := range []mfa.Purpose{"", "Login", "a b", mfa.Purpose(strings.Repeat("x", 65))} {
		require.ErrorIs(t, f.m.SendCode(ctx, "alice", "a@example.com", p), mfa.ErrInvalidInput)
		require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", p, "123456"), mfa.ErrInvalidInput)
	}
	noSender := mustNew(t, f.store, newSealer(t), mfa.Config{})
	require.ErrorIs(t, noSender.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin), mfa.ErrNoSender)
}

func TestEmailedCodeConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{CodeMaxAttempts: 100, MaxAttempts: 100})
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code := f.sent.lastCode(t)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code)
			if err == nil {
				ok.Add(1)
				return
			}
			if !errors.Is(err, mfa.ErrNoCode) && !errors.Is(err, mfa.ErrReplay) {
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, int32(1), ok.Load())
}

func TestEmailedCodeUniform(t *testing.T) {
	t.Parallel()
	// Codes come from the injected Rand and cover all digits.
	ctx := context.Background()
	seen := map[byte]bool{}
	for i := range 30 {
		f := newFixture(t, mfa.Config{})
		require.NoError(t, f.m.SendCode(ctx, "u", "a@example.com", mfa.PurposeLogin), i)
		for _, c := range []byte(f.sent.lastCode(t)) {
			seen[c] = true
		}
	}
	require.Len(t, seen, 10)
}

func TestConsoleSender(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	s := &mfa.ConsoleSender{W: &buf}
	require.NoError(t, s.Send(context.Background(), mfa.Message{To: "a@example.com", UserID: "alice", Purpose: mfa.PurposeLogin, Code: "123456", ExpiresAt: t0}))
	require.Regexp(t, regexp.MustCompile(`"alice" \(login\), to "a@example.com": 123456, valid until 2026-11-23T12:00:15Z`), buf.String())
}

// TestEmailedCodeResendKeepsAttemptBudget: a resend replaces the code and
// its per-code attempts, but not the account's budget of wrong codes.
// Otherwise someone holding the password could send a code a minute and
// make 5 guesses at each, 7,200 a day with no lock (NIST SP 800-63B
// section 5.2.2 limits consecutive failures on an account).
func TestEmailedCodeResendKeepsAttemptBudget(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t, mfa.Config{MaxAttempts: 3, LockoutDuration: 10 * time.Minute})
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	bad := wrongCode(f.sent.lastCode(t))
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, bad), mfa.ErrInvalidCode)
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, bad), mfa.ErrInvalidCode)
	require.Equal(t, 1, f.ev.last().Remaining)

	f.clock.Add(time.Minute)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code := f.sent.lastCode(t)
	err := f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, wrongCode(code))
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
	var le *mfa.LockedError
	require.ErrorAs(t, err, &le, "the third wrong code on the account locks, resend or not")
	require.Equal(t, mfa.FactorEmail, le.Factor)
	require.Equal(t, f.clock.Now().Add(10*time.Minute), le.Until)
	require.Equal(t, mfa.EventLocked, f.ev.last().Type)

	// Locked: even the right code is refused, and a resend does not help.
	err = f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code)
	require.ErrorIs(t, err, mfa.ErrLocked)
	require.NotErrorIs(t, err, mfa.ErrInvalidCode)
	f.clock.Add(time.Minute)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, f.sent.lastCode(t)), mfa.ErrLocked)

	// After the lock a fresh code works, and a success resets the budget.
	f.clock.Add(10 * time.Minute)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	require.NoError(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, f.sent.lastCode(t)))
	f.clock.Add(time.Minute)
	require.NoError(t, f.m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin))
	code = f.sent.lastCode(t)
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, wrongCode(code)), mfa.ErrInvalidCode)
	require.ErrorIs(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, wrongCode(code)), mfa.ErrInvalidCode)
	require.NoError(t, f.m.VerifyCode(ctx, "alice", mfa.PurposeLogin, code))
	f.ev.requireNoSecret(t, code)
}

// TestRandomDigitsRejectsBiasedDraws: emailed codes come from rejection
// sampling, not a bare modulo. For 6 digits the largest multiple of 10^6
// below 2^32 is 4,294,000,000: draws at or above it are redrawn (a modulo
// would fold them onto 000000-967294 and make those codes likelier).
func TestRandomDigitsRejectsBiasedDraws(t *testing.T) {
	t.Parallel()
	r := bytes.NewReader([]byte{
		0xff, 0xff, 0xff, 0xff, // 4,294,967,295: rejected
		0xff, 0xf1, 0x3d, 0x80, // 4,294,000,000: rejected
		0xff, 0xf1, 0x3d, 0x7f, // 4,293,999,999: accepted
	})
	c, err := mfa.RandomDigits(r, 6)
	require.NoError(t, err)
	require.Equal(t, "999999", c)
	require.Zero(t, r.Len(), "both biased draws were consumed and redrawn")
	c, err = mfa.RandomDigits(bytes.NewReader([]byte{0, 0, 0, 42}), 8)
	require.NoError(t, err)
	require.Equal(t, "00000042", c, "leading zeros kept")
	_, err = mfa.RandomDigits(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), 6)
	require.Error(t, err, "randomness running out is an error, not a code")
}
