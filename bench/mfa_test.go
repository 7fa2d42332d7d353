package bench

import (
	"bytes"
	"context"
	"encoding/base32"
	"fmt"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var (
	mfaSecret = []byte("12345678901234567890")
	mfaBase   = time.Date(2026, 1, 1, 0, 0, 15, 0, time.UTC)
	mfaRaw    = totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
)

// mfaCodes returns n times at consecutive 30 s steps after mfaBase (so
// that the replay check never refuses one) and for each either the valid
// code or, when accept is false, a code valid for no step of its window.
func mfaCodes(b *testing.B, n int, accept bool) ([]string, []time.Time) {
	codes, times := make([]string, n), make([]time.Time, n)
	code := func(t time.Time) string {
		c, err := mfatest.Code(mfaSecret, mfa.SHA1, 6, 30*time.Second, t)
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	for i := range codes {
		times[i] = mfaBase.Add(time.Duration(i+1) * 30 * time.Second)
		codes[i] = code(times[i])
		if accept {
			continue
		}
		window := map[string]bool{codes[i]: true, code(times[i].Add(-30 * time.Second)): true, code(times[i].Add(30 * time.Second)): true}
		for j := 0; ; j++ {
			if c := fmt.Sprintf("%06d", (i*7919+j)%1000000); !window[c] {
				codes[i] = c
				break
			}
		}
	}
	return codes, times
}

// mfaManager returns a Manager on memstore with the fixed secret enrolled
// and confirmed for "alice", and a pointer to its clock.
func mfaManager(b *testing.B) (*mfa.Manager, *time.Time) {
	now := mfaBase
	m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer(), mfa.Config{
		Rand:        bytes.NewReader(mfaSecret),
		Now:         func() time.Time { return now },
		MaxAttempts: 1 << 30, // the reject benchmark must not lock
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := m.EnrollTOTP(ctx, "alice", "alice@example.com"); err != nil {
		b.Fatal(err)
	}
	c, _ := mfatest.Code(mfaSecret, mfa.SHA1, 6, 30*time.Second, now)
	if err := m.ConfirmTOTP(ctx, "alice", c); err != nil {
		b.Fatal(err)
	}
	return m, &now
}

// BenchmarkTOTPVerify compares mfa's VerifyTOTP (sealed secret opened
// with AES-GCM, attempt counter, replay check on memstore) with a bare
// totp.ValidateCustom at skew 1, on the same codes. Target: at most 1.5x.
func BenchmarkTOTPVerify(b *testing.B) {
	ctx := context.Background()
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(mfaSecret)
	for _, accept := range []bool{true, false} {
		name := map[bool]string{true: "accept", false: "reject"}[accept]
		b.Run("pquerna/"+name, func(b *testing.B) {
			codes, times := mfaCodes(b, b.N, accept)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ok, _ := totp.ValidateCustom(codes[i], b32, times[i], mfaRaw)
				if ok != accept {
					b.Fatalf("ValidateCustom = %v", ok)
				}
			}
		})
		b.Run("bulwark/"+name, func(b *testing.B) {
			codes, times := mfaCodes(b, b.N, accept)
			m, now := mfaManager(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				*now = times[i]
				if err := m.VerifyTOTP(ctx, "alice", codes[i]); (err == nil) != accept {
					b.Fatalf("VerifyTOTP = %v", err)
				}
			}
		})
	}
}

type mfaNoSend struct{ code string }

func (s *mfaNoSend) Send(_ context.Context, m mfa.Message) error { s.code = m.Code; return nil }

// BenchmarkEmailedCode measures VerifyCode on memstore: a wrong code (the
// attempt is counted and the hash compared) and a full send-and-verify.
func BenchmarkEmailedCode(b *testing.B) {
	ctx := context.Background()
	b.Run("verify-reject", func(b *testing.B) {
		s := &mfaNoSend{}
		m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer(), mfa.Config{Sender: s, CodeMaxAttempts: 1 << 30, MaxAttempts: 1 << 30})
		if err != nil {
			b.Fatal(err)
		}
		if err := m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin); err != nil {
			b.Fatal(err)
		}
		wrong := fmt.Sprintf("%06d", (int(s.code[0]-'0')+5)%10*100000)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := m.VerifyCode(ctx, "alice", mfa.PurposeLogin, wrong); err == nil {
				b.Fatal("wrong code accepted")
			}
		}
	})
	b.Run("send-and-verify", func(b *testing.B) {
		s := &mfaNoSend{}
		m, err := mfa.New(memstore.NewMFAStore(), mfatest.NewSealer(), mfa.Config{Sender: s})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			if err := m.SendCode(ctx, "alice", "a@example.com", mfa.PurposeLogin); err != nil {
				b.Fatal(err)
			}
			if err := m.VerifyCode(ctx, "alice", mfa.PurposeLogin, s.code); err != nil {
				b.Fatal(err)
			}
		}
	})
}
