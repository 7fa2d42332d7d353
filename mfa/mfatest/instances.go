package mfatest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/mfa"
)

// concurrency is how many verifications [RunInstances] runs at once.
const concurrency = 50

type lastCode struct {
	mu   sync.Mutex
	code string
}

func (s *lastCode) Send(_ context.Context, m mfa.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code = m.Code
	return nil
}

// RunInstances checks that single use and attempt limits hold across
// several [mfa.Manager]s, one per store in stores. Each store must be a
// separate handle (its own connection pool or client) onto the same data,
// as for app instances sharing one PostgreSQL or Redis. It runs
// 50 simultaneous verifications of one valid code, spread over
// the Managers, and requires that exactly one succeeds; likewise for an
// emailed code and a recovery code; and that concurrent wrong TOTP or
// emailed codes are checked no more often than the attempt limit, every
// other one refused as locked, and the factor locked afterwards. (Fewer
// than the limit may be checked: the last allowed attempt sets the lock
// in advance, and attempts racing it may already see it.)
func RunInstances(t *testing.T, stores ...mfa.Store) {
	if len(stores) < 2 {
		t.Fatal("mfatest: RunInstances needs at least two stores")
	}
	ctx := context.Background()
	sealer := NewSealer()
	now := base
	sender := &lastCode{}
	managers := func(cfg mfa.Config) []*mfa.Manager {
		cfg.Now = func() time.Time { return now }
		cfg.Sender = sender
		ms := make([]*mfa.Manager, len(stores))
		for i, s := range stores {
			m, err := mfa.New(s, sealer, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ms[i] = m
		}
		return ms
	}
	// enroll gives user a confirmed factor, confirmed with the previous
	// step's code, and returns the codes of the current window.
	enroll := func(t *testing.T, m *mfa.Manager, user string) (cur string, window map[string]bool) {
		t.Helper()
		e, err := m.EnrollTOTP(ctx, user, user)
		if err != nil {
			t.Fatal(err)
		}
		k, err := mfa.ParseKeyURI(e.URI)
		if err != nil {
			t.Fatal(err)
		}
		window = map[string]bool{}
		for _, d := range []time.Duration{-k.Period, 0, k.Period} {
			c, err := Code(k.Secret, k.Algorithm, k.Digits, k.Period, now.Add(d))
			if err != nil {
				t.Fatal(err)
			}
			window[c] = true
			if d == -k.Period {
				if err := m.ConfirmTOTP(ctx, user, c); err != nil {
					t.Fatalf("confirm: %v", err)
				}
			}
			if d == 0 {
				cur = c
			}
		}
		return cur, window
	}
	// race runs f concurrency times at once, round robin over ms.
	race := func(ms []*mfa.Manager, f func(m *mfa.Manager) error) []error {
		errs := make([]error, concurrency)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = f(ms[i%len(ms)])
			}()
		}
		close(start)
		wg.Wait()
		return errs
	}
	t.Run("TOTPReplay", func(t *testing.T) {
		ms := managers(mfa.Config{MaxAttempts: 10 * concurrency})
		code, _ := enroll(t, ms[0], "replay")
		errs := race(ms, func(m *mfa.Manager) error { return m.VerifyTOTP(ctx, "replay", code) })
		if ok, replays := count(errs, nil), count(errs, mfa.ErrReplay); ok != 1 || replays != concurrency-1 {
			t.Fatalf("%d of %d concurrent verifications of one code succeeded and %d were replays, want 1 and %d; errors: %v",
				ok, concurrency, replays, concurrency-1, errs)
		}
	})
	t.Run("TOTPReplayDefaultLimit", func(t *testing.T) {
		ms := managers(mfa.Config{})
		code, _ := enroll(t, ms[0], "replay-default")
		errs := race(ms, func(m *mfa.Manager) error { return m.VerifyTOTP(ctx, "replay-default", code) })
		other := 0 // a replay that used the last attempt matches both
		for _, err := range errs {
			if errors.Is(err, mfa.ErrReplay) || errors.Is(err, mfa.ErrLocked) {
				other++
			}
		}
		if ok := count(errs, nil); ok != 1 || other != concurrency-1 {
			t.Fatalf("%d of %d succeeded (want 1), %d replays or locks (want %d): %v", ok, concurrency, other, concurrency-1, errs)
		}
	})
	t.Run("TOTPAttemptLimit", func(t *testing.T) {
		ms := managers(mfa.Config{MaxAttempts: 5})
		_, window := enroll(t, ms[0], "guess")
		wrong := ""
		for i := 0; wrong == ""; i++ {
			if c := fmt.Sprintf("%06d", i); !window[c] {
				wrong = c
			}
		}
		errs := race(ms, func(m *mfa.Manager) error { return m.VerifyTOTP(ctx, "guess", wrong) })
		requireLimited(t, "wrong codes", errs, 5)
		if err := ms[1].VerifyTOTP(ctx, "guess", wrong); !errors.Is(err, mfa.ErrLocked) || errors.Is(err, mfa.ErrInvalidCode) {
			t.Fatalf("after the burst VerifyTOTP = %v, want locked, unchecked", err)
		}
	})
	t.Run("EmailedCode", func(t *testing.T) {
		ms := managers(mfa.Config{CodeMaxAttempts: 10 * concurrency, MaxAttempts: 10 * concurrency})
		if err := ms[0].SendCode(ctx, "email", "e@example.com", mfa.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		sender.mu.Lock()
		code := sender.code
		sender.mu.Unlock()
		errs := race(ms, func(m *mfa.Manager) error { return m.VerifyCode(ctx, "email", mfa.PurposeLogin, code) })
		if ok := count(errs, nil); ok != 1 || count(errs, mfa.ErrNoCode)+count(errs, mfa.ErrReplay) != concurrency-1 {
			t.Fatalf("%d of %d concurrent verifications of one emailed code succeeded, want 1: %v", ok, concurrency, errs)
		}
	})
	t.Run("EmailedCodeAttemptLimit", func(t *testing.T) {
		// A generous per-code limit: the account's MaxAttempts must hold.
		ms := managers(mfa.Config{CodeMaxAttempts: 10 * concurrency, MaxAttempts: 5})
		if err := ms[0].SendCode(ctx, "email-guess", "g@example.com", mfa.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		sender.mu.Lock()
		code := sender.code
		sender.mu.Unlock()
		wrong := fmt.Sprintf("%06d", 0)
		if wrong == code {
			wrong = fmt.Sprintf("%06d", 1)
		}
		errs := race(ms, func(m *mfa.Manager) error { return m.VerifyCode(ctx, "email-guess", mfa.PurposeLogin, wrong) })
		requireLimited(t, "wrong emailed codes", errs, 5)
		if err := ms[1].VerifyCode(ctx, "email-guess", mfa.PurposeLogin, code); !errors.Is(err, mfa.ErrLocked) {
			t.Fatalf("after the burst the right code = %v, want locked", err)
		}
	})
	t.Run("RecoveryCode", func(t *testing.T) {
		ms := managers(mfa.Config{})
		codes, err := ms[0].GenerateRecoveryCodes(ctx, "recovery")
		if err != nil {
			t.Fatal(err)
		}
		errs := race(ms, func(m *mfa.Manager) error { _, err := m.UseRecoveryCode(ctx, "recovery", codes[0]); return err })
		if ok := count(errs, nil); ok != 1 || count(errs, mfa.ErrInvalidCode) != concurrency-1 {
			t.Fatalf("%d of %d concurrent uses of one recovery code succeeded, want 1: %v", ok, concurrency, errs)
		}
	})
}

// requireLimited checks the outcome of a burst of wrong codes: at most
// limit were checked (ErrInvalidCode; the last of them also locks), every
// other one was refused as locked, and at least one was refused at all.
func requireLimited(t *testing.T, what string, errs []error, limit int) {
	t.Helper()
	checked, locked := count(errs, mfa.ErrInvalidCode), count(errs, mfa.ErrLocked)
	unchecked := 0
	for _, err := range errs {
		if errors.Is(err, mfa.ErrLocked) && !errors.Is(err, mfa.ErrInvalidCode) {
			unchecked++
		}
	}
	if checked > limit || checked+unchecked != len(errs) || locked == 0 {
		t.Fatalf("%d %s checked (want at most %d), %d refused unchecked as locked (want the other %d): %v",
			checked, what, limit, unchecked, len(errs)-checked, errs)
	}
}

// count returns how many of errs are nil (target nil) or match target.
func count(errs []error, target error) (n int) {
	for _, err := range errs {
		if (target == nil && err == nil) || (target != nil && errors.Is(err, target)) {
			n++
		}
	}
	return n
}
