// Package mfatest checks that an implementation of mfa's store interfaces
// keeps their contracts, including atomicity under concurrent use.
//
// A store package runs it from its tests with a constructor that returns a
// fresh, empty store for each subtest:
//
//	func TestMFAStore(t *testing.T) {
//		mfatest.Run(t, func(t *testing.T) mfa.Store { return newStore(t) })
//	}
//
// Stores that implement only some interfaces (redisstore keeps codes,
// step marks and attempt counters) run [runSteps], [runAttempts] and
// [runOOB] alone. The suite uses only the standard library.
package mfatest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/contend"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/store/storetest"
)

// base is the suite's clock origin, at microsecond precision (what SQL
// stores keep).
var base = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

// Run runs every part of the suite against stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) mfa.Store) {
	t.Run("TOTP", func(t *testing.T) { runTOTP(t, func(t *testing.T) mfa.TOTPStore { return newStore(t) }) })
	t.Run("Steps", func(t *testing.T) { runSteps(t, func(t *testing.T) mfa.StepStore { return newStore(t) }) })
	t.Run("Counters", func(t *testing.T) {
		storetest.TestCounter(t, func(t *testing.T) storetest.CounterStore { return newStore(t) })
	})
	t.Run("OOB", func(t *testing.T) { runOOB(t, func(t *testing.T) mfa.OOBStore { return newStore(t) }) })
	t.Run("Recovery", func(t *testing.T) { runRecovery(t, func(t *testing.T) mfa.RecoveryStore { return newStore(t) }) })
	t.Run("EmailFactor", func(t *testing.T) {
		runEmailFactor(t, func(t *testing.T) mfa.EmailFactorStore { return newStore(t) })
	})
}

func ctx() context.Context { return context.Background() }

func totpRec(user, id string) mfa.TOTPRecord {
	return mfa.TOTPRecord{
		ID: id, UserID: user, Secret: []byte("sealed:" + id), Algorithm: mfa.SHA256,
		Digits: 8, Period: 30 * time.Second, CreatedAt: base,
	}
}

func sameTOTP(a, b mfa.TOTPRecord) bool {
	return a.ID == b.ID && a.UserID == b.UserID && bytes.Equal(a.Secret, b.Secret) &&
		a.Algorithm == b.Algorithm && a.Digits == b.Digits && a.Period == b.Period &&
		a.CreatedAt.Equal(b.CreatedAt) && a.ConfirmedAt.Equal(b.ConfirmedAt)
}

// runTOTP checks a [mfa.TOTPStore].
func runTOTP(t *testing.T, newStore func(t *testing.T) mfa.TOTPStore) {
	t.Run("GetMissing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetTOTP(ctx(), "nobody"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("GetTOTP(missing) = %v, want ErrNotFound", err)
		}
		if err := s.DeleteTOTP(ctx(), "nobody"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("DeleteTOTP(missing) = %v, want ErrNotFound", err)
		}
		if err := s.ConfirmTOTP(ctx(), "nobody", "x", base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("ConfirmTOTP(missing) = %v, want ErrNotFound", err)
		}
	})
	t.Run("Lifecycle", func(t *testing.T) {
		s := newStore(t)
		a := totpRec("alice", "id-1")
		if err := s.PutPendingTOTP(ctx(), a); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetTOTP(ctx(), "alice")
		if err != nil || !sameTOTP(got, a) || !got.ConfirmedAt.IsZero() {
			t.Fatalf("GetTOTP = %+v, %v; want %+v", got, err, a)
		}
		// A second pending enrollment replaces the first.
		a2 := totpRec("alice", "id-2")
		a2.Algorithm, a2.Digits, a2.Period = mfa.SHA1, 6, 15*time.Second
		if err := s.PutPendingTOTP(ctx(), a2); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetTOTP(ctx(), "alice"); !sameTOTP(got, a2) {
			t.Fatalf("after replace GetTOTP = %+v, want %+v", got, a2)
		}
		if err := s.ConfirmTOTP(ctx(), "alice", "id-1", base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("ConfirmTOTP(replaced id) = %v, want ErrNotFound", err)
		}
		at := base.Add(time.Minute)
		if err := s.ConfirmTOTP(ctx(), "alice", "id-2", at); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetTOTP(ctx(), "alice")
		if got.ConfirmedAt.IsZero() || !got.ConfirmedAt.Equal(at) {
			t.Fatalf("after confirm ConfirmedAt = %v, want %v", got.ConfirmedAt, at)
		}
		if err := s.ConfirmTOTP(ctx(), "alice", "id-2", at); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("ConfirmTOTP(confirmed) = %v, want ErrNotFound", err)
		}
		if err := s.PutPendingTOTP(ctx(), totpRec("alice", "id-3")); !errors.Is(err, mfa.ErrAlreadyEnrolled) {
			t.Fatalf("PutPendingTOTP over confirmed = %v, want ErrAlreadyEnrolled", err)
		}
		if got, _ := s.GetTOTP(ctx(), "alice"); got.ID != "id-2" || got.ConfirmedAt.IsZero() {
			t.Fatalf("confirmed enrollment changed: %+v", got)
		}
		// Users are independent.
		if _, err := s.GetTOTP(ctx(), "bob"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("GetTOTP(bob) = %v, want ErrNotFound", err)
		}
		if err := s.DeleteTOTP(ctx(), "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetTOTP(ctx(), "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("GetTOTP after delete = %v, want ErrNotFound", err)
		}
		if err := s.PutPendingTOTP(ctx(), totpRec("alice", "id-4")); err != nil {
			t.Fatalf("PutPendingTOTP after delete: %v", err)
		}
	})
}

// runSteps checks a [mfa.StepStore].
func runSteps(t *testing.T, newStore func(t *testing.T) mfa.StepStore) {
	t.Run("Monotonic", func(t *testing.T) {
		s := newStore(t)
		keep := 2 * time.Minute
		for i, c := range []struct {
			user string
			step int64
			want bool
		}{
			{"alice", 100, true}, {"alice", 100, false}, {"alice", 99, false},
			{"alice", 101, true}, {"bob", 100, true}, {"alice", 101, false}, {"alice", 103, true},
		} {
			got, err := s.MarkStep(ctx(), c.user, c.step, keep)
			if err != nil || got != c.want {
				t.Fatalf("case %d: MarkStep(%s, %d) = %v, %v; want %v", i, c.user, c.step, got, err, c.want)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		wins := contend.Run(t, 50, func() (bool, error) { return s.MarkStep(ctx(), "alice", 5000, time.Minute) })
		if wins != 1 {
			t.Fatalf("%d concurrent MarkStep calls succeeded, want exactly 1", wins)
		}
	})
}

func oobRec(user string, purpose mfa.Purpose, id string, sent time.Time) mfa.OOBRecord {
	return mfa.OOBRecord{
		ID: id, UserID: user, Purpose: purpose, Salt: []byte("salt-" + id),
		Hash: []byte("hash-" + id), SentAt: sent, ExpiresAt: sent.Add(10 * time.Minute),
	}
}

// runOOB checks a [mfa.OOBStore].
func runOOB(t *testing.T, newStore func(t *testing.T) mfa.OOBStore) {
	const resend = time.Minute
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.GetOOB(ctx(), "alice", mfa.PurposeLogin, base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("GetOOB(missing) = %v, want ErrNotFound", err)
		}
		r := oobRec("alice", mfa.PurposeLogin, "c1", base)
		if err := s.PutOOB(ctx(), r, resend); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetOOB(ctx(), "alice", mfa.PurposeLogin, base.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != r.ID || got.UserID != r.UserID || got.Purpose != r.Purpose || !bytes.Equal(got.Salt, r.Salt) ||
			!bytes.Equal(got.Hash, r.Hash) || !got.SentAt.Equal(r.SentAt) || !got.ExpiresAt.Equal(r.ExpiresAt) {
			t.Fatalf("GetOOB = %+v, want %+v", got, r)
		}
		// Bound to its purpose and user.
		if _, err := s.GetOOB(ctx(), "alice", mfa.Purpose("email_change"), base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("other purpose = %v, want ErrNotFound", err)
		}
		if _, err := s.GetOOB(ctx(), "bob", mfa.PurposeLogin, base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("other user = %v, want ErrNotFound", err)
		}
		// Expired.
		if _, err := s.GetOOB(ctx(), "alice", mfa.PurposeLogin, r.ExpiresAt); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("at expiry = %v, want ErrNotFound", err)
		}
	})
	t.Run("Throttle", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c1", base), resend); err != nil {
			t.Fatal(err)
		}
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c2", base.Add(resend-time.Second)), resend); !errors.Is(err, mfa.ErrThrottled) {
			t.Fatalf("early resend = %v, want ErrThrottled", err)
		}
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.Purpose("email_change"), "c3", base), resend); err != nil {
			t.Fatalf("other purpose throttled: %v", err)
		}
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c4", base.Add(resend)), resend); err != nil {
			t.Fatalf("resend after interval: %v", err)
		}
		got, err := s.GetOOB(ctx(), "alice", mfa.PurposeLogin, base.Add(resend))
		if err != nil || got.ID != "c4" {
			t.Fatalf("after resend = %+v, %v; want c4", got, err)
		}
		// An expired code never throttles, however long the interval.
		c4 := oobRec("alice", mfa.PurposeLogin, "c4", base.Add(resend))
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c5", c4.ExpiresAt), 24*time.Hour); err != nil {
			t.Fatalf("PutOOB after expiry: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c1", base), resend); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.DeleteOOB(ctx(), "alice", mfa.PurposeLogin, "other"); ok || err != nil {
			t.Fatalf("DeleteOOB(wrong id) = %v, %v; want false", ok, err)
		}
		wins := contend.Run(t, 20, func() (bool, error) { return s.DeleteOOB(ctx(), "alice", mfa.PurposeLogin, "c1") })
		if wins != 1 {
			t.Fatalf("%d concurrent DeleteOOB calls succeeded, want exactly 1", wins)
		}
		if _, err := s.GetOOB(ctx(), "alice", mfa.PurposeLogin, base); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("after delete = %v, want ErrNotFound", err)
		}
		// Deleted: a new code may be sent at once.
		if err := s.PutOOB(ctx(), oobRec("alice", mfa.PurposeLogin, "c2", base), resend); err != nil {
			t.Fatalf("PutOOB after delete: %v", err)
		}
	})
}

func hashes(prefix string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("%s-%02d-hash-of-a-recovery-code", prefix, i))
	}
	return out
}

// runRecovery checks a [mfa.RecoveryStore].
func runRecovery(t *testing.T, newStore func(t *testing.T) mfa.RecoveryStore) {
	t.Run("UseAndReplace", func(t *testing.T) {
		s := newStore(t)
		if n, err := s.CountRecoveryCodes(ctx(), "alice"); n != 0 || err != nil {
			t.Fatalf("Count(empty) = %d, %v", n, err)
		}
		old := hashes("old", 10)
		if err := s.ReplaceRecoveryCodes(ctx(), "alice", old, base); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountRecoveryCodes(ctx(), "alice"); n != 10 {
			t.Fatalf("Count = %d, want 10", n)
		}
		if n, err := s.UseRecoveryCode(ctx(), "alice", old[3]); n != 9 || err != nil {
			t.Fatalf("Use = %d, %v; want 9", n, err)
		}
		if _, err := s.UseRecoveryCode(ctx(), "alice", old[3]); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("second Use = %v, want ErrNotFound", err)
		}
		if _, err := s.UseRecoveryCode(ctx(), "bob", old[4]); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("Use by other user = %v, want ErrNotFound", err)
		}
		fresh := hashes("new", 10)
		if err := s.ReplaceRecoveryCodes(ctx(), "alice", fresh, base); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UseRecoveryCode(ctx(), "alice", old[4]); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("Use of replaced code = %v, want ErrNotFound", err)
		}
		if n, err := s.UseRecoveryCode(ctx(), "alice", fresh[0]); n != 9 || err != nil {
			t.Fatalf("Use(new) = %d, %v; want 9", n, err)
		}
		if err := s.ReplaceRecoveryCodes(ctx(), "alice", nil, base); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.CountRecoveryCodes(ctx(), "alice"); n != 0 {
			t.Fatalf("Count after removal = %d, want 0", n)
		}
	})
	t.Run("ConcurrentReplace", func(t *testing.T) {
		// Regenerating at the same moment (a double click, two tabs) must
		// leave exactly one set: an old or orphaned set that stays valid
		// is what regeneration promises to revoke.
		s := newStore(t)
		for round := range 5 {
			var next atomic.Int32
			contend.Run(t, 8, func() (bool, error) {
				i := next.Add(1)
				return true, s.ReplaceRecoveryCodes(ctx(), "alice", hashes(fmt.Sprintf("r%d-%d", round, i), 10), base)
			})
			if n, err := s.CountRecoveryCodes(ctx(), "alice"); n != 10 || err != nil {
				t.Fatalf("round %d: after concurrent replaces Count = %d, %v; want one set of 10", round, n, err)
			}
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		hs := hashes("c", 10)
		if err := s.ReplaceRecoveryCodes(ctx(), "alice", hs, base); err != nil {
			t.Fatal(err)
		}
		wins := contend.Run(t, 20, func() (bool, error) {
			_, err := s.UseRecoveryCode(ctx(), "alice", hs[7])
			if errors.Is(err, mfa.ErrNotFound) {
				return false, nil
			}
			return err == nil, err
		})
		if wins != 1 {
			t.Fatalf("%d concurrent uses of one code succeeded, want exactly 1", wins)
		}
		if n, _ := s.CountRecoveryCodes(ctx(), "alice"); n != 9 {
			t.Fatalf("Count = %d, want 9", n)
		}
	})
}

// runEmailFactor checks a [mfa.EmailFactorStore].
func runEmailFactor(t *testing.T, newStore func(t *testing.T) mfa.EmailFactorStore) {
	t.Run("EnableGetDisable", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.EmailFactor(ctx(), "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("EmailFactor(none) = %v, want ErrNotFound", err)
		}
		if err := s.DisableEmailFactor(ctx(), "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("DisableEmailFactor(none) = %v, want ErrNotFound", err)
		}
		if err := s.EnableEmailFactor(ctx(), "alice", base); err != nil {
			t.Fatal(err)
		}
		if err := s.EnableEmailFactor(ctx(), "alice", base.Add(time.Hour)); err != nil {
			t.Fatalf("enabling twice = %v, want nil", err)
		}
		if at, err := s.EmailFactor(ctx(), "alice"); err != nil || !at.Equal(base) {
			t.Fatalf("EmailFactor = %v, %v; want the first time %v", at, err, base)
		}
		if _, err := s.EmailFactor(ctx(), "bob"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("EmailFactor(other user) = %v, want ErrNotFound", err)
		}
		if err := s.DisableEmailFactor(ctx(), "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.EmailFactor(ctx(), "alice"); !errors.Is(err, mfa.ErrNotFound) {
			t.Fatalf("EmailFactor(disabled) = %v, want ErrNotFound", err)
		}
	})
	t.Run("ConcurrentEnable", func(t *testing.T) {
		s := newStore(t)
		wins := contend.Run(t, 8, func() (bool, error) {
			return true, s.EnableEmailFactor(ctx(), "alice", base)
		})
		if wins != 8 {
			t.Fatalf("%d of 8 concurrent enables succeeded", wins)
		}
		if _, err := s.EmailFactor(ctx(), "alice"); err != nil {
			t.Fatal(err)
		}
	})
}
