package mfa_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// RFC 6238 Appendix B: the seeds are ASCII "1234567890" repeated to the
// hash's output size; the table gives 8-digit codes, whose last 6 digits
// are the 6-digit codes.
var rfc6238 = []struct {
	unix int64
	alg  mfa.Algorithm
	code string
}{
	{59, mfa.SHA1, "94287082"}, {59, mfa.SHA256, "46119246"}, {59, mfa.SHA512, "90693936"},
	{1111111109, mfa.SHA1, "07081804"}, {1111111109, mfa.SHA256, "68084774"}, {1111111109, mfa.SHA512, "25091201"},
	{1111111111, mfa.SHA1, "14050471"}, {1111111111, mfa.SHA256, "67062674"}, {1111111111, mfa.SHA512, "99943326"},
	{1234567890, mfa.SHA1, "89005924"}, {1234567890, mfa.SHA256, "91819424"}, {1234567890, mfa.SHA512, "93441116"},
	{2000000000, mfa.SHA1, "69279037"}, {2000000000, mfa.SHA256, "90698825"}, {2000000000, mfa.SHA512, "38618901"},
	{20000000000, mfa.SHA1, "65353130"}, {20000000000, mfa.SHA256, "77737706"}, {20000000000, mfa.SHA512, "47863826"},
}

func rfcSeed(alg mfa.Algorithm) []byte {
	n := map[mfa.Algorithm]int{mfa.SHA1: 20, mfa.SHA256: 32, mfa.SHA512: 64}[alg]
	return []byte(strings.Repeat("1234567890", 7)[:n])
}

func otpAlg(a mfa.Algorithm) otp.Algorithm {
	return map[mfa.Algorithm]otp.Algorithm{mfa.SHA1: otp.AlgorithmSHA1, mfa.SHA256: otp.AlgorithmSHA256, mfa.SHA512: otp.AlgorithmSHA512}[a]
}

func TestRFC6238Vectors(t *testing.T) {
	t.Parallel()
	for _, v := range rfc6238 {
		for _, digits := range []int{6, 8} {
			want := v.code[8-digits:]
			at := time.Unix(v.unix, 0).UTC()
			t.Run(string(v.alg)+"/"+want, func(t *testing.T) {
				t.Parallel()
				got, err := mfa.Code(rfcSeed(v.alg), v.alg, digits, 30*time.Second, at)
				require.NoError(t, err)
				require.Equal(t, want, got)

				// pquerna/otp agrees.
				secret := strings.TrimRight(strings.ToUpper(b32(rfcSeed(v.alg))), "=")
				pq, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.Digits(digits), Algorithm: otpAlg(v.alg)})
				require.NoError(t, err)
				require.Equal(t, want, pq)

				// End to end: import the RFC seed as a key and confirm it
				// with the vector's code at its time.
				f := newFixture(t, mfa.Config{})
				f.clock.t = at
				_, err = f.m.ImportTOTP(context.Background(), "alice", mfa.KeyURI{Secret: rfcSeed(v.alg), Algorithm: v.alg, Digits: digits, Period: 30 * time.Second})
				require.NoError(t, err)
				require.NoError(t, f.m.ConfirmTOTP(context.Background(), "alice", want))
			})
		}
	}
}

func TestZeroConfigInteroperates(t *testing.T) {
	t.Parallel()
	// A zero Config, and codes made by pquerna's defaults (GenerateCode,
	// which is what GenerateOpts{} keys produce), must verify: pquerna's
	// own ValidateOpts{} would reject them (Digits 0).
	st := memstore.NewMFAStore()
	m := mustNew(t, st, newSealer(t), mfa.Config{})
	ctx := context.Background()
	e, err := m.EnrollTOTP(ctx, "alice", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, mfa.SHA1, e.Algorithm)
	require.Equal(t, 6, e.Digits)
	require.Equal(t, 30*time.Second, e.Period)
	key, err := otp.NewKeyFromURL(e.URI)
	require.NoError(t, err)
	require.Equal(t, "Bulwark", key.Issuer())
	code, err := totp.GenerateCode(key.Secret(), time.Now())
	require.NoError(t, err)
	require.NoError(t, m.ConfirmTOTP(ctx, "alice", code))
	ok, _ := totp.ValidateCustom(code, key.Secret(), time.Now(), totp.ValidateOpts{})
	require.False(t, ok, "pquerna's zero ValidateOpts pitfall is still there; this test documents it")
}

func TestEnrollTOTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mfa.Config{Issuer: "Acme Corp", QRCodeSize: 200})
	ctx := context.Background()
	e, err := f.m.EnrollTOTP(ctx, "u-1", "alice@example.com")
	require.NoError(t, err)

	k, err := mfa.ParseKeyURI(e.URI)
	require.NoError(t, err)
	require.Equal(t, mfa.KeyURI{Issuer: "Acme Corp", AccountName: "alice@example.com", Secret: k.Secret,
		Algorithm: mfa.SHA1, Digits: 6, Period: 30 * time.Second}, k)
	require.GreaterOrEqual(t, len(k.Secret)*8, 160)
	require.True(t, strings.HasPrefix(e.URI, "otpauth://totp/Acme%20Corp:alice@example.com?"), e.URI)
	for _, p := range []string{"issuer=Acme", "algorithm=SHA1", "digits=6", "period=30", "secret=" + e.Secret} {
		require.Contains(t, e.URI, p)
	}
	require.Equal(t, t0.Add(10*time.Minute), e.Expires)

	img, err := png.Decode(bytes.NewReader(e.QRCodePNG))
	require.NoError(t, err)
	require.Equal(t, 200, img.Bounds().Dx())

	// Sealed at rest, bound to the user.
	rec, err := f.store.GetTOTP(ctx, "u-1")
	require.NoError(t, err)
	require.True(t, rec.ConfirmedAt.IsZero())
	require.NotContains(t, string(rec.Secret), string(k.Secret))

	// Pending: it does not verify logins until confirmed.
	code := codeAt(t, e, f.clock.Now())
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "u-1", code), mfa.ErrNotEnrolled)
	st, err := f.m.Status(ctx, "u-1")
	require.NoError(t, err)
	require.True(t, st.TOTPPending)

	// Enrolling again while pending shows the same secret; removing the
	// pending one and enrolling again gives a new secret, and the old one
	// is dead.
	again, err := f.m.EnrollTOTP(ctx, "u-1", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, e.Secret, again.Secret)
	require.NoError(t, f.m.Remove(ctx, "u-1", mfa.FactorTOTP))
	e2, err := f.m.EnrollTOTP(ctx, "u-1", "alice@example.com")
	require.NoError(t, err)
	require.NotEqual(t, e.Secret, e2.Secret)
	require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "u-1", code), mfa.ErrInvalidCode)
	require.NoError(t, f.m.ConfirmTOTP(ctx, "u-1", codeAt(t, e2, f.clock.Now())))
	require.Equal(t, []mfa.EventType{mfa.EventEnrolled, mfa.EventRemoved, mfa.EventEnrolled, mfa.EventFailed, mfa.EventConfirmed}, f.ev.types())

	st, err = f.m.Status(ctx, "u-1")
	require.NoError(t, err)
	require.True(t, st.TOTP)
	_, err = f.m.EnrollTOTP(ctx, "u-1", "alice@example.com")
	require.ErrorIs(t, err, mfa.ErrAlreadyEnrolled)
	require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "u-1", code), mfa.ErrNotEnrolled)

	// The confirmation code's step is used up: it cannot log in.
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "u-1", codeAt(t, e2, f.clock.Now())), mfa.ErrReplay)
	f.ev.requireNoSecret(t, e.Secret, e2.Secret, code)

	// Sealed secrets are bound to their user: moved to another user's
	// record, they do not open, and nothing verifies.
	rec, err = f.store.GetTOTP(ctx, "u-1")
	require.NoError(t, err)
	rec.UserID, rec.ID = "u-2", "moved"
	rec.ConfirmedAt = time.Time{}
	require.NoError(t, f.store.PutPendingTOTP(ctx, rec))
	require.NoError(t, f.store.ConfirmTOTP(ctx, "u-2", "moved", t0))
	f.clock.Add(time.Minute)
	err = f.m.VerifyTOTP(ctx, "u-2", codeAt(t, e2, f.clock.Now()))
	require.Error(t, err)
	require.NotErrorIs(t, err, mfa.ErrInvalidCode)
}

func TestEnrollTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mfa.Config{})
	ctx := context.Background()
	e, err := f.m.EnrollTOTP(ctx, "alice", "alice")
	require.NoError(t, err)
	f.clock.Add(10 * time.Minute)
	require.ErrorIs(t, f.m.ConfirmTOTP(ctx, "alice", codeAt(t, e, f.clock.Now())), mfa.ErrNotEnrolled)
	st, err := f.m.Status(ctx, "alice")
	require.NoError(t, err)
	require.False(t, st.TOTP || st.TOTPPending)
}

func TestVerifyTOTPWindowAndReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		name   string
		skew   int
		offset []time.Duration // code times relative to now
		want   []error
	}{
		{"current", 0, []time.Duration{0, 0}, []error{nil, mfa.ErrReplay}},
		{"previous step", 0, []time.Duration{-30 * time.Second}, []error{nil}},
		{"next step", 0, []time.Duration{30 * time.Second}, []error{nil}},
		{"two steps back", 0, []time.Duration{-60 * time.Second}, []error{mfa.ErrInvalidCode}},
		{"older after newer", 0, []time.Duration{0, -30 * time.Second}, []error{nil, mfa.ErrReplay}},
		{"newer after older", 0, []time.Duration{-30 * time.Second, 0}, []error{nil, nil}},
		{"no skew: previous", -1, []time.Duration{-30 * time.Second}, []error{mfa.ErrInvalidCode}},
		{"skew 2", 2, []time.Duration{-60 * time.Second, 60 * time.Second}, []error{nil, nil}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f, e := enrolled(t, mfa.Config{TOTPSkew: c.skew, MaxAttempts: 100})
			for i, off := range c.offset {
				err := f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, f.clock.Now().Add(off)))
				if c.want[i] == nil {
					require.NoError(t, err, "code %d", i)
				} else {
					require.ErrorIs(t, err, c.want[i], "code %d", i)
				}
			}
		})
	}
}

func TestVerifyTOTPInputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, e := enrolled(t, mfa.Config{MaxAttempts: 100})
	good := codeAt(t, e, f.clock.Now())
	for _, in := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦", "-12345", "+123456", "12345\n6", good + "0", strings.Repeat("1", 100)} {
		require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", in), mfa.ErrInvalidCode, "%q", in)
	}
	require.Equal(t, "malformed", f.ev.last().Reason)
	// Spaces as apps display them are fine.
	require.NoError(t, f.m.VerifyTOTP(ctx, "alice", " "+good[:3]+" "+good[3:]+" "))
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "bob", good), mfa.ErrNotEnrolled)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "", good), mfa.ErrInvalidInput)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, strings.Repeat("u", 300), good), mfa.ErrInvalidInput)
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+5)%10
	return string(b)
}

func TestTOTPLockout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, e := enrolled(t, mfa.Config{MaxAttempts: 3, LockoutDuration: 10 * time.Minute})
	now := f.clock.Now()
	bad := wrongCode(codeAt(t, e, now))

	// A success resets the count.
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", bad), mfa.ErrInvalidCode)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", bad), mfa.ErrInvalidCode)
	require.Equal(t, 1, f.ev.last().Remaining)
	require.NoError(t, f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, now)))
	f.clock.Add(30 * time.Second)
	now = f.clock.Now()
	bad = wrongCode(codeAt(t, e, now))
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", bad), mfa.ErrInvalidCode)
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", bad), mfa.ErrInvalidCode)

	// The third wrong code locks, and the caller is told until when.
	err := f.m.VerifyTOTP(ctx, "alice", bad)
	require.ErrorIs(t, err, mfa.ErrInvalidCode)
	var le *mfa.LockedError
	require.ErrorAs(t, err, &le)
	require.ErrorIs(t, err, mfa.ErrLocked)
	require.Equal(t, now.Add(10*time.Minute), le.Until)
	require.Equal(t, mfa.EventLocked, f.ev.last().Type)

	// While locked even the right code is refused, unchecked.
	err = f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, now))
	require.ErrorAs(t, err, &le)
	require.NotErrorIs(t, err, mfa.ErrInvalidCode)
	require.Equal(t, "locked", f.ev.last().Reason)

	f.clock.Add(10 * time.Minute)
	require.NoError(t, f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, f.clock.Now())))
	f.ev.requireNoSecret(t, e.Secret, bad)
}

func TestRemoveTOTP(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f, e := enrolled(t, mfa.Config{})
	require.NoError(t, f.m.Remove(ctx, "alice", mfa.FactorTOTP))
	require.ErrorIs(t, f.m.VerifyTOTP(ctx, "alice", codeAt(t, e, f.clock.Now())), mfa.ErrNotEnrolled)
	require.ErrorIs(t, f.m.Remove(ctx, "alice", mfa.FactorTOTP), mfa.ErrNotEnrolled)
	require.Equal(t, mfa.EventRemoved, f.ev.last().Type)
	_, err := f.m.EnrollTOTP(ctx, "alice", "alice")
	require.NoError(t, err)
}

func TestEnrollInputs(t *testing.T) {
	t.Parallel()
	f := newFixture(t, mfa.Config{})
	for _, name := range []string{"", "a:b", "a\nb", strings.Repeat("x", 300)} {
		_, err := f.m.EnrollTOTP(context.Background(), "alice", name)
		require.ErrorIs(t, err, mfa.ErrInvalidInput, "%q", name)
	}
	r := errors.New("no entropy")
	f2 := newFixture(t, mfa.Config{Rand: errReader{r}})
	_, err := f2.m.EnrollTOTP(context.Background(), "alice", "alice")
	require.ErrorIs(t, err, r)
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	st, s := memstore.NewMFAStore(), newSealer(t)
	for _, cfg := range []mfa.Config{
		{TOTPAlgorithm: "MD5"}, {TOTPDigits: 7}, {TOTPPeriod: 60 * time.Second}, {TOTPPeriod: 1500 * time.Millisecond},
		{TOTPSkew: 3}, {TOTPSecretBytes: 10}, {CodeDigits: 5}, {CodeDigits: 9}, {CodeTTL: time.Hour},
		{MaxAttempts: -1}, {Issuer: "a:b"},
	} {
		m, err := mfa.New(st, s, cfg)
		require.Error(t, err, "%+v", cfg)
		require.Nil(t, m)
	}
	_, err := mfa.New(nil, s, mfa.Config{})
	require.Error(t, err)
	_, err = mfa.New(st, nil, mfa.Config{})
	require.Error(t, err)
	_, err = mfa.New(mfa.Stores{TOTPStore: st}, s, mfa.Config{})
	require.Error(t, err)
	_, err = mfa.New(mfa.Stores{TOTPStore: st, StepStore: st, CounterStore: st, OOBStore: st, RecoveryStore: st}, s, mfa.Config{})
	require.Error(t, err, "no EmailFactorStore")
	_, err = mfa.New(mfa.Stores{TOTPStore: st, StepStore: st, CounterStore: st, OOBStore: st, RecoveryStore: st, EmailFactorStore: st}, s, mfa.Config{})
	require.NoError(t, err)
}

// TestNewZeroConfig: a zero Config means every documented default, and
// the Manager works with it.
func TestNewZeroConfig(t *testing.T) {
	t.Parallel()
	m, err := mfa.New(memstore.NewMFAStore(), newSealer(t), mfa.Config{})
	require.NoError(t, err)
	e, err := m.EnrollTOTP(context.Background(), "alice", "alice@example.com")
	require.NoError(t, err)
	require.Equal(t, mfa.SHA1, e.Algorithm)
	require.Equal(t, 6, e.Digits)
	require.Equal(t, 30*time.Second, e.Period)
	require.Contains(t, e.URI, "issuer=Bulwark")
	k, err := mfa.ParseKeyURI(e.URI)
	require.NoError(t, err)
	require.Len(t, k.Secret, 20)
	c, err := mfatest.Code(k.Secret, k.Algorithm, k.Digits, k.Period, time.Now())
	require.NoError(t, err)
	require.NoError(t, m.ConfirmTOTP(context.Background(), "alice", c))
	codes, err := m.GenerateRecoveryCodes(context.Background(), "alice")
	require.NoError(t, err)
	require.Len(t, codes, 10)
}

// TestPublicCodeMatches: mfatest.Code, the public copy of the TOTP
// computation, agrees with the one mfa verifies with.
func TestPublicCodeMatches(t *testing.T) {
	t.Parallel()
	secret := []byte("12345678901234567890")
	for _, alg := range []mfa.Algorithm{mfa.SHA1, mfa.SHA256, mfa.SHA512} {
		for _, digits := range []int{6, 8} {
			for _, at := range []time.Time{t0, time.Unix(59, 0), time.Unix(2000000000, 0)} {
				want, err := mfa.Code(secret, alg, digits, 30*time.Second, at)
				require.NoError(t, err)
				got, err := mfatest.Code(secret, alg, digits, 30*time.Second, at)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
		}
	}
	_, err := mfatest.Code(secret, "MD5", 6, 30*time.Second, t0)
	require.Error(t, err)
}

func TestCodeInputs(t *testing.T) {
	t.Parallel()
	_, err := mfa.Code([]byte("12345678901234567890"), "MD5", 6, 30*time.Second, t0)
	require.ErrorIs(t, err, mfa.ErrInvalidInput)
	_, err = mfa.Code([]byte("12345678901234567890"), mfa.SHA1, 7, 30*time.Second, t0)
	require.ErrorIs(t, err, mfa.ErrInvalidInput)
	_, err = mfa.Code([]byte("12345678901234567890"), mfa.SHA1, 6, 30*time.Second, time.Unix(-1, 0))
	require.ErrorIs(t, err, mfa.ErrInvalidInput)
}
