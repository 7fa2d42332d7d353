package bulwark_test

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/internal/testenv"
	"github.com/bulwarkhq/bulwark/keyring"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
	"github.com/bulwarkhq/bulwark/password"
	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
	"github.com/bulwarkhq/bulwark/store/redisstore"
	"github.com/bulwarkhq/bulwark/store/sqlstore"
)

// realStores are the stores of every package the journey composes.
type realStores struct {
	auth    auth.Store
	session session.Store
	mfa     mfa.Store
	audit   audit.Store
	keyring keyring.Store
}

var realBackends = []struct {
	name string
	open func(t *testing.T) realStores
}{
	{"memory", func(*testing.T) realStores {
		return realStores{memstore.NewAuthStore(), memstore.NewSessionStore(), memstore.NewMFAStore(),
			memstore.NewAuditStore(), memstore.NewKeyringStore()}
	}},
	// The production shape: durable records in PostgreSQL, sessions and
	// brute-force counters in Redis.
	{"postgres+redis", func(t *testing.T) realStores {
		ctx := context.Background()
		st, err := sqlstore.Open(ctx, testenv.Postgres(t))
		require.NoError(t, err)
		require.NoError(t, st.Migrate(ctx))
		rc, prefix := testenv.Redis(t)
		rs := volatileRedis(redisstore.New(rc, prefix))
		sq := st.Auth()
		return realStores{
			auth:    auth.SplitStore(sq, rs.Auth(), sq, sq),
			session: rs.Session(), mfa: st.MFA(), audit: st.Audit(), keyring: st.Keyring(),
		}
	}},
}

// mailbox collects what the Authenticator sends to users.
type mailbox struct {
	mu     sync.Mutex
	notes  []auth.Notification
	resets []auth.ResetLink
}

func (m *mailbox) Notify(_ context.Context, n auth.Notification) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notes = append(m.notes, n)
	return nil
}

func (m *mailbox) SendResetLink(_ context.Context, l auth.ResetLink) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.resets = append(m.resets, l)
	return nil
}

// TestJourneyWithRealPackages runs the flows through the real
// password, mfa, session, audit and keyring packages: registration with a
// generated username, login, TOTP enrolment, login with the second factor,
// replay, the single-session rule, a reset that ends every session and does
// not skip MFA, and an audit log that verifies and counts the failures.
func TestJourneyWithRealPackages(t *testing.T) {
	t.Parallel()
	for _, be := range realBackends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			stores := be.open(t)
			now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
			var mu sync.Mutex
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

			kek, err := keyring.NewLocalKEK(make([]byte, 32))
			require.NoError(t, err)
			kr, err := keyring.New(stores.keyring, kek, keyring.Config{})
			require.NoError(t, err)
			hasher, err := password.New(password.Config{Params: password.Params{Memory: 64, Time: 1, Parallelism: 1}})
			require.NoError(t, err)
			sessions, err := session.New(stores.session, session.Config{Now: clock})
			require.NoError(t, err)
			var mailed string // the last emailed code
			factors, err := mfa.New(stores.mfa, kr, mfa.Config{Now: clock, Sender: senderFunc(func(m mfa.Message) { mailed = m.Code })})
			require.NoError(t, err)
			log, err := audit.New(stores.audit, audit.Config{Now: clock})
			require.NoError(t, err)
			mail := &mailbox{}
			users := memstore.NewUserStore()
			a, err := auth.New(auth.Deps{
				Store: stores.auth, Users: users, Hasher: hasher, Policy: password.Policy{},
				Sessions: bulwark.SessionIssuer(sessions), MFA: bulwark.MFAVerifier(factors),
				Auditor: bulwark.Auditor(log, ""), Notifier: mail, Mailer: mail,
			}, auth.Config{Now: clock})
			require.NoError(t, err)
			laptop := auth.Client{IP: "192.0.2.1", UserAgent: "Firefox", Binding: "laptop-cookie"}
			phone := auth.Client{IP: "198.51.100.7", UserAgent: "Safari", Binding: "phone-cookie"}
			const pw = "quiet meadow lantern"

			// Register: the username is generated from the transliterated name.
			require.NoError(t, a.Register(ctx, auth.Registration{FirstName: "Łukasz", LastName: "Żółć", Email: "lz@example.com", Password: pw}, laptop))
			require.Len(t, mail.notes, 1)
			username := mail.notes[0].Username
			require.Regexp(t, regexp.MustCompile(`^LukaszZolc[0-9]{2,}$`), username)

			// Password-only login starts a real session.
			res, err := a.Login(ctx, username, pw, laptop)
			require.NoError(t, err)
			require.Equal(t, auth.StepDone, res.Next)
			s, err := sessions.Validate(ctx, res.Session.Token)
			require.NoError(t, err)
			require.Equal(t, []string{"password"}, s.Factors)

			// The single-session rule: the phone is refused while the laptop's
			// session lives.
			_, err = a.Login(ctx, username, pw, phone)
			require.ErrorIs(t, err, session.ErrLimit)
			_, err = sessions.RevokeAll(ctx, res.UserID, "")
			require.NoError(t, err)

			// Enrol TOTP; its secret is sealed by the keyring.
			en, err := factors.EnrollTOTP(ctx, res.UserID, "lz@example.com")
			require.NoError(t, err)
			key, err := mfa.ParseKeyURI(en.URI)
			require.NoError(t, err)
			code := func() string {
				c, err := mfatest.Code(key.Secret, key.Algorithm, key.Digits, key.Period, clock())
				require.NoError(t, err)
				return c
			}
			require.NoError(t, factors.ConfirmTOTP(ctx, res.UserID, code()))
			advance(key.Period)

			// Now the password alone gives a pending state, not a session.
			res, err = a.Login(ctx, username, pw, laptop)
			require.NoError(t, err)
			require.Equal(t, auth.StepMFA, res.Next)
			_, err = sessions.Validate(ctx, res.PendingToken)
			require.ErrorIs(t, err, session.ErrNotFound, "the pending token must not be a session")
			// From another browser the pending state is refused.
			_, err = a.CompleteMFA(ctx, res.PendingToken, code(), phone)
			require.Error(t, err)
			used := code()
			done, err := a.CompleteMFA(ctx, res.PendingToken, used, laptop)
			require.NoError(t, err)
			s, err = sessions.Validate(ctx, done.Session.Token)
			require.NoError(t, err)
			require.Equal(t, []string{"password", "totp"}, s.Factors)

			// A replayed code fails on a fresh login (same time step).
			_, err = sessions.RevokeAll(ctx, res.UserID, "")
			require.NoError(t, err)
			res, err = a.Login(ctx, username, pw, laptop)
			require.NoError(t, err)
			_, err = a.CompleteMFA(ctx, res.PendingToken, used, laptop)
			require.Error(t, err, "a TOTP code was accepted twice")

			// A wrong password and an unknown user look the same.
			_, errWrong := a.Login(ctx, username, "not the password", phone)
			_, errUnknown := a.Login(ctx, "NobodyHere12", "not the password", phone)
			require.ErrorIs(t, errWrong, auth.ErrInvalidCredentials)
			require.Equal(t, errWrong.Error(), errUnknown.Error())

			// Reset: ends every session and never skips the second factor.
			advance(key.Period)
			res, err = a.Login(ctx, username, pw, laptop)
			require.NoError(t, err)
			done, err = a.CompleteMFA(ctx, res.PendingToken, code(), laptop)
			require.NoError(t, err)
			require.NoError(t, a.RequestPasswordReset(ctx, "lz@example.com", laptop))
			require.NoError(t, a.RequestPasswordReset(ctx, "nobody@example.com", laptop), "unknown emails get the same answer")
			require.Len(t, mail.resets, 1)
			const pw2 = "violet harbour engine"
			require.NoError(t, a.ResetPassword(ctx, mail.resets[0].Token, pw2, laptop))
			_, err = sessions.Validate(ctx, done.Session.Token)
			require.ErrorIs(t, err, session.ErrNotFound, "reset must end the sessions")
			require.Error(t, a.ResetPassword(ctx, mail.resets[0].Token, "another fine passphrase", laptop), "a reset token worked twice")
			res, err = a.Login(ctx, username, pw2, laptop)
			require.NoError(t, err)
			require.Equal(t, auth.StepMFA, res.Next, "a reset must not bypass MFA")
			// The mailbox that got the reset link is no second factor for a
			// TOTP user: no sign-in code is mailed, and one mailed anyway (a
			// host that calls SendCode itself) is refused.
			require.ErrorIs(t, factors.SendLoginCode(ctx, res.UserID, "lz@example.com"), mfa.ErrNotEnrolled)
			require.NoError(t, factors.SendCode(ctx, res.UserID, "lz@example.com", mfa.PurposeLogin))
			_, err = a.CompleteMFA(ctx, res.PendingToken, mailed, laptop)
			require.ErrorIs(t, err, auth.ErrInvalidCode, "an emailed code passed as a TOTP user's second factor")
			advance(key.Period)
			done, err = a.CompleteMFA(ctx, res.PendingToken, code(), laptop)
			require.NoError(t, err)
			s, err = sessions.Validate(ctx, done.Session.Token)
			require.NoError(t, err)
			require.Equal(t, []string{"password", "totp"}, s.Factors)

			// The audit log holds the story, verifies, and counts failures.
			reps, err := log.Verify(ctx, audit.VerifyOptions{})
			require.NoError(t, err)
			require.Positive(t, reps[0].Records)
			ar, err := log.AccessReport(ctx, audit.Filter{Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)})
			require.NoError(t, err)
			var failures int
			for _, c := range ar.IPs {
				failures += c.Failures
			}
			require.GreaterOrEqual(t, failures, 3, "wrong password, unknown user and replay must be counted")
		})
	}
}

// TestFactorsRouting checks the mfa adapter: recovery codes go only to the
// recovery path, and emailed login codes count only for a user who turned
// emailed codes on in mfa.
func TestFactorsRouting(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sent := map[string]string{}
	var mu sync.Mutex
	m, err := mfa.New(memstore.NewMFAStore(), plainSealer{}, mfa.Config{
		Now: func() time.Time { return now },
		Sender: senderFunc(func(msg mfa.Message) {
			mu.Lock()
			defer mu.Unlock()
			sent[msg.To] = msg.Code
		}),
	})
	require.NoError(t, err)
	require.NoError(t, m.StartEmailFactor(ctx, "u-mail", "u@example.com"))
	require.NoError(t, m.ConfirmEmailFactor(ctx, "u-mail", sent["u@example.com"]))
	f := bulwark.MFAVerifier(m)

	ok, err := f.Enrolled(ctx, "u-none")
	require.NoError(t, err)
	require.False(t, ok)
	ok, err = f.Enrolled(ctx, "u-mail")
	require.NoError(t, err)
	require.True(t, ok)

	require.NoError(t, m.SendLoginCode(ctx, "u-mail", "u@example.com"))
	factor, err := f.VerifyMFA(ctx, "u-mail", sent["u@example.com"])
	require.NoError(t, err)
	require.Equal(t, "email", factor)
	_, err = f.VerifyMFA(ctx, "u-mail", sent["u@example.com"])
	require.Error(t, err, "an emailed code worked twice")

	codes, err := m.GenerateRecoveryCodes(ctx, "u-rec")
	require.NoError(t, err)
	factor, err = f.VerifyMFA(ctx, "u-rec", codes[0])
	require.NoError(t, err)
	require.Equal(t, "recovery", factor)
	_, err = f.VerifyMFA(ctx, "u-rec", codes[0])
	require.Error(t, err, "a recovery code worked twice")
	_, err = f.VerifyMFA(ctx, "u-none", "123456")
	require.Error(t, err)
}

// TestFactorsEnrolledFailsClosed: a store that cannot say which factors a
// user has denies rather than reading as "not enrolled".
func TestFactorsEnrolledFailsClosed(t *testing.T) {
	t.Parallel()
	m, err := mfa.New(brokenMFAStore{memstore.NewMFAStore()}, plainSealer{}, mfa.Config{})
	require.NoError(t, err)
	_, err = bulwark.MFAVerifier(m).Enrolled(context.Background(), "u-1")
	require.Error(t, err)
}

// TestFactorsVerifyFailsClosed: when the store cannot say whether the
// user turned emailed codes on, VerifyMFA denies, even the right TOTP
// code (a store error denies, never grants).
func TestFactorsVerifyFailsClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	mem := memstore.NewMFAStore()
	good, err := mfa.New(mem, plainSealer{}, mfa.Config{Now: clock})
	require.NoError(t, err)
	en, err := good.EnrollTOTP(ctx, "u-1", "u1")
	require.NoError(t, err)
	key, err := mfa.ParseKeyURI(en.URI)
	require.NoError(t, err)
	code := func() string {
		c, err := mfatest.Code(key.Secret, key.Algorithm, key.Digits, key.Period, now)
		require.NoError(t, err)
		return c
	}
	require.NoError(t, good.ConfirmTOTP(ctx, "u-1", code()))
	now = now.Add(key.Period)

	broken, err := mfa.New(brokenMFAStore{mem}, plainSealer{}, mfa.Config{Now: clock})
	require.NoError(t, err)
	factor, err := bulwark.MFAVerifier(broken).VerifyMFA(ctx, "u-1", code())
	require.Error(t, err, "granted %q", factor)
	_, err = bulwark.MFAVerifier(good).VerifyMFA(ctx, "u-1", code())
	require.NoError(t, err, "the denied attempt did not use the code up")
}

type brokenMFAStore struct{ mfa.Store }

func (brokenMFAStore) EmailFactor(context.Context, string) (time.Time, error) {
	return time.Time{}, errors.New("store down")
}

type plainSealer struct{}

func (plainSealer) Seal(_ context.Context, p, _ []byte) ([]byte, error) {
	return append([]byte(nil), p...), nil
}

func (plainSealer) Open(_ context.Context, c, _ []byte) ([]byte, error) {
	return append([]byte(nil), c...), nil
}

type senderFunc func(mfa.Message)

func (f senderFunc) Send(_ context.Context, m mfa.Message) error { f(m); return nil }

// TestFactorsEmailCodeBounds: the emailed-code path accepts only a login
// code, and only from a user who turned emailed codes on in mfa (kratos
// #4317 was an MFA bypass through email codes).
func TestFactorsEmailCodeBounds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	sent := map[string]string{}
	var mu sync.Mutex
	m, err := mfa.New(memstore.NewMFAStore(), plainSealer{}, mfa.Config{
		Now: func() time.Time { return now },
		Sender: senderFunc(func(msg mfa.Message) {
			mu.Lock()
			defer mu.Unlock()
			sent[msg.To] = msg.Code
		}),
	})
	require.NoError(t, err)
	require.NoError(t, m.StartEmailFactor(ctx, "u-mail", "u@example.com"))
	require.NoError(t, m.ConfirmEmailFactor(ctx, "u-mail", sent["u@example.com"]))
	f := bulwark.MFAVerifier(m)

	// A code sent for another purpose (an email change, an account
	// recovery) is not a login factor.
	for _, p := range []mfa.Purpose{mfa.Purpose("email_change"), mfa.Purpose("recovery")} {
		require.NoError(t, m.SendCode(ctx, "u-mail", "u@example.com", p))
		_, err := f.VerifyMFA(ctx, "u-mail", sent["u@example.com"])
		require.Error(t, err, "a %s code passed as a login factor", p)
	}

	// A user who did not choose emailed codes cannot pass with one, even a
	// genuine login code (say, sent by a host bug or to an address the
	// attacker controls).
	require.NoError(t, m.SendCode(ctx, "u-totp", "t@example.com", mfa.PurposeLogin))
	_, err = f.VerifyMFA(ctx, "u-totp", sent["t@example.com"])
	require.Error(t, err, "an emailed code passed for a user without emailed codes")
	ok, err := f.Enrolled(ctx, "u-totp")
	require.NoError(t, err)
	require.False(t, ok)
}

// volatileRedis opts a store on the shared test Redis, which keeps no AOF
// and no snapshots, out of redisstore's persistence checks.
func volatileRedis(st *redisstore.Store) *redisstore.Store {
	st.AllowVolatileRedis = true
	return st
}
