package auth_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

func TestZeroConfigDefaults(t *testing.T) {
	t.Parallel()
	creds := &fakeCreds{users: map[string]auth.User{"u1": {ID: "u1", Username: "JanKowalski37", PasswordHash: "v1$correct horse"}}}
	sess := &fakeSessions{live: map[string]fakeSession{}}
	// Only the required dependencies and a zero Config: every setting is
	// its default.
	deps := auth.Deps{Store: memstore.NewAuthStore(), Users: creds, Hasher: fakeHasher{}, Policy: fakePolicy{}, Sessions: sess}
	a, err := auth.New(deps, auth.Config{})
	require.NoError(t, err)
	ctx := context.Background()
	res, err := a.Login(ctx, "jankowalski37", "correct horse", client)
	require.NoError(t, err)
	require.Equal(t, auth.StepDone, res.Next)
	ss, ok := sess.valid(res.Session.Token)
	require.True(t, ok)
	require.Equal(t, []string{"password"}, ss.factors)
	// Default lockout: 5 failures lock for a minute.
	for range auth.DefaultFailureFactor {
		_, err = a.Login(ctx, "jankowalski37", "wrong", client)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	_, err = a.Login(ctx, "jankowalski37", "correct horse", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	// Default recent-auth age.
	require.NoError(t, a.RequireRecentAuth(time.Now().Add(-auth.DefaultRecentAuth+time.Minute), "export"))
	require.ErrorIs(t, a.RequireRecentAuth(time.Now().Add(-auth.DefaultRecentAuth-time.Minute), "export"), auth.ErrReauthRequired)
	// No ResetMailer: reset is off.
	require.Error(t, a.RequestPasswordReset(ctx, "x@example.com", client))
	// A missing dependency or an impossible setting is an error, not a
	// panic.
	for name, broken := range map[string]func(*auth.Deps){
		"Store": func(d *auth.Deps) { d.Store = nil }, "Users": func(d *auth.Deps) { d.Users = nil },
		"Hasher": func(d *auth.Deps) { d.Hasher = nil }, "Policy": func(d *auth.Deps) { d.Policy = nil },
		"Sessions":   func(d *auth.Deps) { d.Sessions = nil },
		"SplitStore": func(d *auth.Deps) { d.Store = auth.SplitStore(nil, d.Store, d.Store, d.Store) },
	} {
		d := deps
		broken(&d)
		got, err := auth.New(d, auth.Config{})
		require.ErrorContains(t, err, "auth: New", name)
		require.Nil(t, got, name)
	}
	_, err = auth.New(deps, auth.Config{RequireMFA: true})
	require.ErrorContains(t, err, "RequireMFA")
}

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	require.NoError(t, e.a.Register(ctx, auth.Registration{FirstName: "Łukasz", LastName: "Żółć", Email: "lz@example.com", Password: "long enough pw"}, client))
	created := e.rec.notesOf(auth.NotifyAccountCreated)
	require.Len(t, created, 1)
	require.Regexp(t, `^LukaszZolc[1-9][0-9]$`, created[0].Username)
	u := e.creds.get(created[0].UserID)
	require.Equal(t, created[0].Username, u.Username)
	require.Equal(t, "v1$long enough pw", u.PasswordHash)
	require.Equal(t, 1, e.rec.countEvents(auth.EventRegistered))

	// The new user logs in from the device they registered with: no
	// new-device notification.
	res := e.login(t, u.Username, "long enough pw", client)
	require.Equal(t, auth.StepDone, res.Next)
	require.Empty(t, e.rec.notesOf(auth.NotifyNewDevice))

	// Policy and name errors are returned.
	err := e.a.Register(ctx, auth.Registration{FirstName: "Anna", LastName: "Nowak", Email: "an@example.com", Password: "short"}, client)
	require.ErrorContains(t, err, "too short")
	err = e.a.Register(ctx, auth.Registration{Email: "an@example.com", Password: "long enough pw"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidName)
}

// TestRegisterEnumeration: signing up with a registered address answers
// exactly like a new sign-up, and tells the owner instead.
func TestRegisterEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	owner := e.addUser("u1", "AnnaNowak10", "owner password")
	errNew := e.a.Register(ctx, auth.Registration{FirstName: "Jan", LastName: "Nowak", Email: "new@example.com", Password: "long enough pw"}, client)
	errTaken := e.a.Register(ctx, auth.Registration{FirstName: "Jan", LastName: "Nowak", Email: owner.Email, Password: "long enough pw"}, client)
	require.NoError(t, errNew)
	require.NoError(t, errTaken)
	attempts := e.rec.notesOf(auth.NotifyRegisterAttempt)
	require.Len(t, attempts, 1)
	require.Equal(t, "u1", attempts[0].UserID)
	require.Len(t, e.rec.notesOf(auth.NotifyAccountCreated), 1)
	e.creds.mu.Lock()
	require.Len(t, e.creds.users, 2)
	e.creds.mu.Unlock()
}

func TestLoginRehash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	u := e.addUser("u1", "JanKowalski37", "pw")
	e.creds.mu.Lock()
	u.PasswordHash = "v0$pw"
	e.creds.users["u1"] = u
	e.creds.mu.Unlock()
	e.login(t, "JanKowalski37", "pw", client)
	require.Equal(t, "v1$pw", e.creds.get("u1").PasswordHash)

	// With MFA, the pending state is bound to the upgraded hash, so the
	// upgrade does not void it.
	u.MFARequired = false
	u.PasswordHash = "v0$pw"
	e.creds.mu.Lock()
	e.creds.users["u1"] = u
	e.creds.mu.Unlock()
	e.mfa.enroll("u1")
	res := e.login(t, "JanKowalski37", "pw", client)
	require.Equal(t, auth.StepMFA, res.Next)
	done, err := e.a.CompleteMFA(context.Background(), res.PendingToken, "good1", client)
	require.NoError(t, err)
	require.Equal(t, auth.StepDone, done.Next)
}

func TestLoginBindingRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "pw")
	_, err := e.a.Login(context.Background(), "JanKowalski37", "pw", auth.Client{IP: "192.0.2.1"})
	require.ErrorIs(t, err, auth.ErrBindingRequired)
	_, err = e.a.CompleteMFA(context.Background(), "x", "good1", auth.Client{IP: "192.0.2.1"})
	require.ErrorIs(t, err, auth.ErrBindingRequired)
}

func TestLoginWithMFA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "pw")
	e.mfa.enroll("u1")

	res := e.login(t, "JanKowalski37", "pw", client)
	require.Equal(t, auth.StepMFA, res.Next)
	require.Empty(t, res.Session.Token)
	require.GreaterOrEqual(t, len(res.PendingToken), 43, "at least 256 bits of base64url")
	// The pending state is not a session.
	_, ok := e.sess.valid(res.PendingToken)
	require.False(t, ok)
	require.Zero(t, e.sess.count("u1"))
	require.Equal(t, 1, e.rec.countEvents(auth.EventMFAPending))

	// Another browser cannot finish it, even with the right code.
	other := client
	other.Binding = "attacker-cookie"
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, "good1", other)
	require.ErrorIs(t, err, auth.ErrInvalidPending)
	// A wrong code keeps it alive.
	_, err = e.a.CompleteMFA(ctx, res.PendingToken, "bad", client)
	require.ErrorIs(t, err, auth.ErrInvalidCode)

	done, err := e.a.CompleteMFA(ctx, res.PendingToken, "good1", client)
	require.NoError(t, err)
	require.Equal(t, auth.StepDone, done.Next)
	ss, ok := e.sess.valid(done.Session.Token)
	require.True(t, ok)
	require.Equal(t, []string{"password", "totp"}, ss.factors)
	require.NotEqual(t, res.PendingToken, done.Session.Token)

	// The pending state is single use.
	_, err = e.a.CompleteMFA(ctx, res.PendingToken, "good2", client)
	require.ErrorIs(t, err, auth.ErrInvalidPending)

	// TOTP replay: the same code does not finish a second login.
	res2 := e.login(t, "JanKowalski37", "pw", client)
	_, err = e.a.CompleteMFA(ctx, res2.PendingToken, "good1", client)
	require.ErrorIs(t, err, auth.ErrInvalidCode)
	require.GreaterOrEqual(t, e.rec.countEvents(auth.EventMFAFailed), 3)
}

func TestPendingExpiresAndRunsOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "pw")
	e.mfa.enroll("u1")

	res := e.login(t, "JanKowalski37", "pw", client)
	e.clock.Add(auth.DefaultPendingTTL)
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, "good1", client)
	require.ErrorIs(t, err, auth.ErrInvalidPending, "5 minutes later the pending state is gone")

	res = e.login(t, "JanKowalski37", "pw", client)
	for range auth.DefaultMaxMFAAttempts {
		_, err = e.a.CompleteMFA(ctx, res.PendingToken, "bad", client)
		require.ErrorIs(t, err, auth.ErrInvalidCode)
	}
	_, err = e.a.CompleteMFA(ctx, res.PendingToken, "good1", client)
	require.ErrorIs(t, err, auth.ErrInvalidPending, "after the last attempt the password step must be repeated")
}

func TestRequireMFAEnrol(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.RequireMFA = true })
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "pw")
	res := e.login(t, "JanKowalski37", "pw", client)
	require.Equal(t, auth.StepEnrollMFA, res.Next)
	// Not enrolled yet: no code works.
	_, err := e.a.CompleteMFA(ctx, res.PendingToken, "good1", client)
	require.ErrorIs(t, err, auth.ErrInvalidCode)
	e.mfa.enroll("u1")
	done, err := e.a.CompleteMFA(ctx, res.PendingToken, "good2", client)
	require.NoError(t, err)
	require.Equal(t, auth.StepDone, done.Next)
}

func TestMFARequiredWithoutVerifierFailsClosed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.MFA = nil })
	u := e.addUser("u1", "JanKowalski37", "pw")
	u.MFARequired = true
	e.creds.mu.Lock()
	e.creds.users["u1"] = u
	e.creds.mu.Unlock()
	_, err := e.a.Login(context.Background(), "JanKowalski37", "pw", client)
	require.Error(t, err)
	require.Zero(t, e.sess.count("u1"))
}

// TestSessionFixation: every login gets a fresh token from the session
// issuer; nothing the client sends (binding, pending token) becomes one.
func TestSessionFixation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "pw")
	a := e.login(t, "JanKowalski37", "pw", client)
	b := e.login(t, "JanKowalski37", "pw", client)
	require.NotEqual(t, a.Session.Token, b.Session.Token)
	require.NotEqual(t, client.Binding, a.Session.Token)
}

func TestNewDeviceNotification(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "pw")
	e.login(t, "JanKowalski37", "pw", client) // first ever: new
	e.login(t, "JanKowalski37", "pw", client) // same device and IP
	require.Len(t, e.rec.notesOf(auth.NotifyNewDevice), 1)
	phone := client
	phone.UserAgent = "Safari iPhone"
	e.login(t, "JanKowalski37", "pw", phone)
	require.Len(t, e.rec.notesOf(auth.NotifyNewDevice), 2)
	cafe := client
	cafe.IP = "203.0.113.9"
	e.login(t, "JanKowalski37", "pw", cafe)
	notes := e.rec.notesOf(auth.NotifyNewDevice)
	require.Len(t, notes, 3)
	require.Equal(t, "203.0.113.9", notes[2].IP)
}

type failingCounters struct{ auth.CounterStore }

func (failingCounters) Counter(context.Context, string, time.Time) (auth.Counter, error) {
	return auth.Counter{}, errors.New("redis down")
}

type failingAuditor struct{}

func (failingAuditor) Audit(context.Context, auth.Event) error { return errors.New("audit down") }

func TestFailClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mem := memstore.NewAuthStore()
	split := auth.SplitStore(mem, failingCounters{mem}, mem, mem)
	e := newEnv(t, nil)
	e.addUser("u1", "JanKowalski37", "pw")
	a := mustNew(split, e.cfg)
	_, err := a.Login(ctx, "JanKowalski37", "pw", client)
	require.ErrorContains(t, err, "redis down")
	require.NotErrorIs(t, err, auth.ErrInvalidCredentials)

	cfg := e.cfg
	cfg.Auditor = failingAuditor{}
	_, err = mustNew(e.store, cfg).Login(ctx, "JanKowalski37", "pw", client)
	require.ErrorContains(t, err, "audit down")
	require.Zero(t, e.sess.count("u1"), "a session that cannot be audited is ended")

	e.sess.mu.Lock()
	e.sess.failOn = true
	e.sess.mu.Unlock()
	_, err = e.a.Login(ctx, "JanKowalski37", "pw", client)
	require.ErrorContains(t, err, "sessions down")
	require.Zero(t, e.sess.count("u1"))
	e.rec.mu.Lock()
	last := e.rec.events[len(e.rec.events)-1]
	e.rec.mu.Unlock()
	require.Equal(t, auth.EventLoginFailed, last.Type)
	require.Equal(t, "session_refused", last.Reason)
}

func TestRecentAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) {
		c.RecentAuthFor = map[string]time.Duration{"delete_account": time.Minute}
	})
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "pw")
	now := e.clock.Now()
	require.ErrorIs(t, e.a.RequireRecentAuth(time.Time{}, "change_email"), auth.ErrReauthRequired)
	require.ErrorIs(t, e.a.RequireRecentAuth(now.Add(-time.Hour), "change_mfa"), auth.ErrReauthRequired)
	require.ErrorIs(t, e.a.RequireRecentAuth(now.Add(time.Hour), "change_mfa"), auth.ErrReauthRequired)
	require.NoError(t, e.a.RequireRecentAuth(now.Add(-5*time.Minute), "export"))
	require.ErrorIs(t, e.a.RequireRecentAuth(now.Add(-5*time.Minute), "delete_account"), auth.ErrReauthRequired)

	_, err := e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "wrong"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	res, err := e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw"}, client)
	require.NoError(t, err)
	require.Equal(t, []string{auth.FactorPassword}, res.Factors)
	require.NoError(t, e.a.RequireRecentAuth(res.AuthTime, "delete_account"))
	_, err = e.a.Reauthenticate(ctx, auth.Reauth{UserID: "nobody", Password: "pw"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}

// TestReauthenticateRequiresSecondFactor: a user with a second factor
// re-proves it for a sensitive action (ASVS 5.0 7.5.1), not just the
// password; the result names the factors proved. A missing code is not
// counted; wrong codes are, so they lock like wrong passwords, and a
// request without a code does not wash them out.
func TestReauthenticateRequiresSecondFactor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	e.addUser("u1", "JanKowalski37", "pw")
	e.mfa.enroll("u1")
	tests := []struct {
		name string
		r    auth.Reauth
		want error
	}{
		{"password only", auth.Reauth{UserID: "u1", Password: "pw"}, auth.ErrCodeRequired},
		{"wrong password", auth.Reauth{UserID: "u1", Password: "wrong", Code: "good1"}, auth.ErrInvalidCredentials},
		{"wrong code", auth.Reauth{UserID: "u1", Password: "pw", Code: "bad"}, auth.ErrInvalidCode},
	}
	for _, tc := range tests {
		_, err := e.a.Reauthenticate(ctx, tc.r, client)
		require.ErrorIs(t, err, tc.want, tc.name)
	}
	c, err := e.store.Counter(ctx, "acct:u1", e.clock.Now())
	require.NoError(t, err)
	require.Equal(t, 2, c.Consecutive, "the wrong password and the wrong code count, the missing code does not")

	res, err := e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw", Code: "good1"}, client)
	require.NoError(t, err)
	require.Equal(t, []string{auth.FactorPassword, "totp"}, res.Factors)
	require.NoError(t, e.a.RequireRecentAuth(res.AuthTime, "change_mfa"))
	_, err = e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw", Code: "good1"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCode, "a replayed code")

	// Wrong codes lock the account like wrong passwords; then even the
	// right password and code are refused.
	for i := range auth.DefaultFailureFactor {
		_, err := e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw", Code: fmt.Sprint("bad", i)}, client)
		require.Error(t, err)
		_, err = e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw"}, client)
		require.Error(t, err)
	}
	_, err = e.a.Reauthenticate(ctx, auth.Reauth{UserID: "u1", Password: "pw", Code: "good2"}, client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	require.Equal(t, 1, e.rec.countEvents(auth.EventReauth))
}

func TestMFAChangedNotifies(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	require.NoError(t, e.a.MFAChanged(ctx, "u1", true, client))
	require.NoError(t, e.a.MFAChanged(ctx, "u1", false, client))
	require.Len(t, e.rec.notesOf(auth.NotifyMFAEnabled), 1)
	require.Len(t, e.rec.notesOf(auth.NotifyMFADisabled), 1)
	require.Equal(t, 2, e.rec.countEvents(auth.EventMFAChanged))
}

// TestRegisterHostUsernameClash: the host's table has a username the claim
// store does not know; registration draws another number.
func TestRegisterHostUsernameClash(t *testing.T) {
	t.Parallel()
	// crypto/rand.Int below 90 reads one byte per draw: 5 → 15, 6 → 16.
	e := newEnv(t, func(c *setup) { c.Rand = bytes.NewReader([]byte{5, 6, 7, 8}) })
	e.addUser("old", "AnnaNowak15", "pw")
	ctx := context.Background()
	require.NoError(t, e.a.Register(ctx, auth.Registration{FirstName: "Anna", LastName: "Nowak", Email: "anna@example.com", Password: "long enough pw"}, client))
	created := e.rec.notesOf(auth.NotifyAccountCreated)
	require.Len(t, created, 1)
	require.Equal(t, "AnnaNowak16", created[0].Username)
	require.Empty(t, e.rec.notesOf(auth.NotifyRegisterAttempt))
}

// ctxHasher fails Hash when the context is done, as password's Hasher does
// while it waits for a free slot.
type ctxHasher struct{ fakeHasher }

func (h ctxHasher) Hash(ctx context.Context, pw string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	return h.fakeHasher.Hash(ctx, pw)
}

// TestDummyHashRetriedAfterFailure: if making the dummy hash fails once (a
// client that went away during the first unknown login), later unknown
// logins still get ErrInvalidCredentials like wrong passwords, rather than
// an error that tells unknown accounts apart for the life of the process.
func TestDummyHashRetriedAfterFailure(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *setup) { c.Hasher = ctxHasher{} })
	e.addUser("u1", "JanKowalski37", "pw")
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.a.Login(gone, "Nobody", "guess", client)
	require.Error(t, err)
	_, err = e.a.Login(context.Background(), "Nobody", "guess", client)
	require.ErrorIs(t, err, auth.ErrInvalidCredentials)
}
