package session_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// clock is a settable clock for Config.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// countingStore counts writes of activity and can be made to fail.
type countingStore struct {
	session.Store
	mu      sync.Mutex
	touches int
	fail    error
}

func (s *countingStore) Touch(ctx context.Context, h [32]byte, now, exp time.Time) error {
	s.mu.Lock()
	s.touches++
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return fail
	}
	return s.Store.Touch(ctx, h, now, exp)
}

func (s *countingStore) Get(ctx context.Context, h [32]byte, now time.Time) (session.Session, error) {
	s.mu.Lock()
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return session.Session{}, fail
	}
	return s.Store.Get(ctx, h, now)
}

func (s *countingStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

type events struct {
	mu  sync.Mutex
	got []session.Event
}

func (e *events) hook(_ context.Context, ev session.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
}

func (e *events) types() []session.EventType {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []session.EventType
	for _, ev := range e.got {
		out = append(out, ev.Type)
	}
	return out
}

func newManager(t *testing.T, cfg session.Config) (*session.Manager, *countingStore, *clock) {
	t.Helper()
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	st := &countingStore{Store: memstore.NewSessionStore()}
	return mustNew(t, st, cfg), st, c
}

// mustNew returns session.New(st, cfg), failing tb on an error.
func mustNew(tb testing.TB, st session.Store, cfg session.Config) *session.Manager {
	tb.Helper()
	m, err := session.New(st, cfg)
	require.NoError(tb, err)
	return m
}

var ctx = context.Background()

// TestNewZeroConfig proves that New(store, Config{}) works and means the
// documented defaults.
func TestNewZeroConfig(t *testing.T) {
	t.Parallel()
	m, err := session.New(memstore.NewSessionStore(), session.Config{})
	require.NoError(t, err)
	cfg := m.Config()
	require.Equal(t, 10*time.Minute, cfg.IdleTimeout)
	require.Equal(t, 12*time.Hour, cfg.AbsoluteTimeout)
	require.Equal(t, time.Minute, cfg.TouchInterval)
	require.Equal(t, 10*time.Second, cfg.CloseGrace)
	require.Equal(t, 30*24*time.Hour, cfg.RememberLifetime)
	require.Equal(t, 1, cfg.MaxSessions)
	require.False(t, cfg.ReplaceOld, "deny the new login at the limit")
	require.False(t, cfg.RememberMe)
	require.Equal(t, http.SameSiteLaxMode, cfg.SameSite)
	require.Equal(t, "__Host-session", cfg.CookieName)
	again, err := session.New(memstore.NewSessionStore(), cfg)
	require.NoError(t, err)
	require.Equal(t, cfg.CookieName, again.Config().CookieName, "the effective Config round-trips through New")
	require.NotNil(t, cfg.Now)
	require.NotNil(t, cfg.Rand)
	require.NotNil(t, cfg.Unauthenticated)

	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}})
	require.NoError(t, err)
	require.Len(t, iss.Token, 43, "256 bits in base64url")
	require.Empty(t, iss.RememberToken)
	s, err := m.Validate(ctx, iss.Token)
	require.NoError(t, err)
	require.Equal(t, "u1", s.UserID)
	require.Empty(t, s.RememberFamily, "no remember-me token")
	_, err = m.Create(ctx, "u1", session.Login{})
	require.ErrorIs(t, err, session.ErrLimit, "single session, deny the new login")
	_, err = m.Create(ctx, "u2", session.Login{Remember: true})
	require.ErrorIs(t, err, session.ErrRememberDisabled, "remember-me is off by default")

	_, err = m.Create(ctx, "", session.Login{})
	require.Error(t, err, "a session needs a user")
}

// TestNewRefuses checks that New reports bad arguments as errors, never
// panics, and returns no Manager.
func TestNewRefuses(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		st  session.Store
		cfg session.Config
	}{
		"nil store":              {nil, session.Config{}},
		"negative idle":          {memstore.NewSessionStore(), session.Config{IdleTimeout: -1}},
		"negative absolute":      {memstore.NewSessionStore(), session.Config{AbsoluteTimeout: -time.Hour}},
		"negative touch":         {memstore.NewSessionStore(), session.Config{TouchInterval: -1}},
		"negative remember life": {memstore.NewSessionStore(), session.Config{RememberLifetime: -1}},
		"negative close grace":   {memstore.NewSessionStore(), session.Config{CloseGrace: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := session.New(tc.st, tc.cfg)
			require.Error(t, err)
			require.Nil(t, m)
			require.Contains(t, err.Error(), "session: ")
		})
	}
}

func TestConfigCaps(t *testing.T) {
	t.Parallel()
	m := mustNew(t, memstore.NewSessionStore(), session.Config{IdleTimeout: 2 * time.Minute, TouchInterval: time.Hour, InsecureDevCookie: true, CookieName: "sid"})
	require.Equal(t, 12*time.Second, m.Config().TouchInterval, "capped at a tenth of the idle timeout")
	require.Equal(t, "sid", m.Config().CookieName, "no __Host- prefix on plain http")
	m = mustNew(t, memstore.NewSessionStore(), session.Config{MaxSessions: session.Unlimited})
	require.Equal(t, session.Unlimited, m.Config().MaxSessions)
	m = mustNew(t, memstore.NewSessionStore(), session.Config{MaxSessions: -7})
	require.Equal(t, session.Unlimited, m.Config().MaxSessions, "any negative limit is no limit")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	m, st, _ := newManager(t, session.Config{MaxSessions: session.Unlimited})
	seen := map[string]bool{}
	for range 50 {
		iss, err := m.Create(ctx, "u1", session.Login{})
		require.NoError(t, err)
		require.False(t, seen[iss.Token])
		seen[iss.Token] = true
		h, ok := session.HashToken(iss.Token)
		require.True(t, ok)
		require.Equal(t, h, iss.Session.TokenHash, "the store is keyed by SHA-256 of the token")
		got, err := st.Get(ctx, h, t0)
		require.NoError(t, err)
		require.NotContains(t, strings.Join([]string{got.ID, got.UserID, got.IP, got.UserAgent, got.RememberFamily}, " "), iss.Token)
	}
	valid := func() string {
		for k := range seen {
			return k
		}
		return ""
	}()
	for _, tok := range []string{"", "x", valid[:42], valid + "A", valid[:42] + "=", strings.Repeat("!", 43), valid[:42] + "\x00"} {
		_, err := m.Validate(ctx, tok)
		require.ErrorIs(t, err, session.ErrNotFound, "token %q", tok)
	}
	// A broken random source fails closed.
	bad := mustNew(t, memstore.NewSessionStore(), session.Config{Rand: iotest.ErrReader(errors.New("no entropy"))})
	_, err := bad.Create(ctx, "u1", session.Login{})
	require.Error(t, err)
	// Injected randomness gives the same token.
	seed := bytes.Repeat([]byte{7}, 64)
	a, err := mustNew(t, memstore.NewSessionStore(), session.Config{Rand: bytes.NewReader(seed)}).Create(ctx, "u", session.Login{})
	require.NoError(t, err)
	b, err := mustNew(t, memstore.NewSessionStore(), session.Config{Rand: bytes.NewReader(seed)}).Create(ctx, "u", session.Login{})
	require.NoError(t, err)
	require.Equal(t, a.Token, b.Token)
}

// The sliding idle window is written at most once per TouchInterval, and
// the session then expires no earlier than IdleTimeout-TouchInterval and no
// later than IdleTimeout after the last request.
func TestIdleExpiryExactToTouchInterval(t *testing.T) {
	t.Parallel()
	const idle, interval = 10 * time.Minute, time.Minute
	for _, step := range []time.Duration{time.Second, 17 * time.Second, 59 * time.Second, time.Minute,
		61 * time.Second, 150 * time.Second, 9*time.Minute + 59*time.Second} {
		t.Run(step.String(), func(t *testing.T) {
			t.Parallel()
			m, st, c := newManager(t, session.Config{})
			iss, err := m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err)
			const active = 30 * time.Minute
			requests := 0
			for c.Now().Sub(t0) < active {
				c.Add(step)
				_, err := m.Validate(ctx, iss.Token)
				require.NoError(t, err, "active session at %v", c.Now().Sub(t0))
				requests++
			}
			// At most one write per interval, whatever the request rate.
			require.LessOrEqual(t, st.touches, int(active/max(step, interval))+1)
			require.LessOrEqual(t, st.touches, requests)
			last := c.Now()
			idleLeft, _, err := m.TimeLeft(ctx, iss.Token)
			require.NoError(t, err)
			require.GreaterOrEqual(t, idleLeft, idle-interval)
			require.LessOrEqual(t, idleLeft, idle)
			// Still valid just before idle-interval, gone at idle.
			c.Set(last.Add(idle - interval - time.Microsecond))
			_, _, err = m.TimeLeft(ctx, iss.Token)
			require.NoError(t, err)
			c.Set(last.Add(idle))
			_, _, err = m.TimeLeft(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
			_, err = m.Validate(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
		})
	}
}

func TestAbsoluteTimeout(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{})
	iss, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	for c.Now().Sub(t0) < 12*time.Hour-5*time.Minute {
		c.Add(5 * time.Minute)
		_, err := m.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}
	c.Set(t0.Add(12 * time.Hour))
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "activity never extends past the absolute lifetime")
	// A stricter Manager on the same store obeys its own timeouts, not
	// those of the Manager that wrote the session.
	st := memstore.NewSessionStore()
	lax := mustNew(t, st, session.Config{Now: c.Now})
	strict := mustNew(t, st, session.Config{Now: c.Now, IdleTimeout: 5 * time.Minute, AbsoluteTimeout: time.Hour})
	iss, err = lax.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	left, abs, err := strict.TimeLeft(ctx, iss.Token)
	require.NoError(t, err)
	require.Equal(t, 5*time.Minute, left)
	require.Equal(t, time.Hour, abs)
	c.Add(5 * time.Minute)
	_, err = strict.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "the stricter idle timeout")
	_, err = lax.Validate(ctx, iss.Token)
	require.NoError(t, err)
	for range 11 {
		c.Add(5 * time.Minute)
		_, err = lax.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}
	_, err = strict.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "the stricter absolute timeout")
}

func TestLimitModes(t *testing.T) {
	t.Parallel()
	var ev events
	m, _, c := newManager(t, session.Config{Hook: ev.hook})
	a, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	_, err = m.Create(ctx, "u1", session.Login{})
	require.ErrorIs(t, err, session.ErrLimit)
	c.Add(10 * time.Minute) // a's idle timeout passed: room again
	_, err = m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	_, err = m.Validate(ctx, a.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
	require.Equal(t, []session.EventType{session.EventCreated, session.EventLimitDenied, session.EventCreated}, ev.types())

	var ev2 events
	r, _, _ := newManager(t, session.Config{ReplaceOld: true, MaxSessions: 2, Hook: ev2.hook})
	var issued []session.Issued
	for range 3 {
		iss, err := r.Create(ctx, "u1", session.Login{})
		require.NoError(t, err)
		issued = append(issued, iss)
	}
	require.Equal(t, []string{issued[0].Session.ID}, issued[2].Evicted)
	_, err = r.Validate(ctx, issued[0].Token)
	require.ErrorIs(t, err, session.ErrNotFound, "the oldest session ended")
	for _, iss := range issued[1:] {
		_, err = r.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}
	require.Contains(t, ev2.types(), session.EventEvicted)
}

func TestRotateAndStepUp(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{RememberMe: true})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}, Remember: true})
	require.NoError(t, err)
	s := iss.Session
	require.NoError(t, m.RequireRecent(s, 5*time.Minute))
	require.ErrorIs(t, m.RequireRecent(s, 5*time.Minute, "totp"), session.ErrStepUp)
	c.Add(6 * time.Minute)
	require.ErrorIs(t, m.RequireRecent(s, 5*time.Minute), session.ErrStepUp)

	// Rotation without new factors keeps the authentication time.
	same, err := m.Rotate(ctx, iss.Token, nil)
	require.NoError(t, err)
	require.NotEqual(t, iss.Token, same.Token)
	require.Equal(t, s.AuthTime, same.Session.AuthTime)
	require.Equal(t, s.RememberFamily, same.Session.RememberFamily)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "the old token dies with the rotation")

	up, err := m.Rotate(ctx, same.Token, []string{"password", "totp"})
	require.NoError(t, err)
	require.Equal(t, c.Now(), up.Session.AuthTime)
	require.NoError(t, m.RequireRecent(up.Session, 5*time.Minute, "totp"))
	_, err = m.Rotate(ctx, same.Token, nil)
	require.ErrorIs(t, err, session.ErrNotFound)
	require.ErrorIs(t, m.RequireRecent(session.Session{}, time.Hour), session.ErrStepUp)
}

func TestRememberMe(t *testing.T) {
	t.Parallel()
	var ev events
	m, _, c := newManager(t, session.Config{RememberMe: true, Hook: ev.hook})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}, Remember: true})
	require.NoError(t, err)
	require.NotEmpty(t, iss.RememberToken)
	require.NotEqual(t, iss.Token, iss.RememberToken)
	require.Equal(t, t0.Add(30*24*time.Hour), iss.RememberExpires)
	require.NotEmpty(t, iss.Session.RememberFamily)

	c.Add(time.Hour) // the session idled out
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
	res, err := m.Resume(ctx, iss.RememberToken, session.Login{IP: "192.0.2.9"})
	require.NoError(t, err)
	require.NotEqual(t, iss.RememberToken, res.RememberToken, "rotated at each use")
	require.Equal(t, iss.RememberExpires, res.RememberExpires, "the family's lifetime is fixed at login")
	require.Equal(t, t0, res.Session.AuthTime, "resumed sessions keep the original authentication time")
	require.Equal(t, []string{session.FactorRemember}, res.Session.Factors)
	require.ErrorIs(t, m.RequireRecent(res.Session, time.Hour, "password"), session.ErrStepUp)
	_, err = m.Validate(ctx, res.Token)
	require.NoError(t, err)

	// The old token comes back: someone copied it. The family and its
	// sessions end.
	_, err = m.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrReused)
	_, err = m.Validate(ctx, res.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
	_, err = m.Resume(ctx, res.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrNotFound)
	require.Contains(t, ev.types(), session.EventRememberReuse)

	// Logout revokes the family too.
	iss, err = m.Create(ctx, "u1", session.Login{Remember: true})
	require.NoError(t, err)
	require.NoError(t, m.Destroy(ctx, iss.Token))
	_, err = m.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrNotFound)
	require.ErrorIs(t, m.Destroy(ctx, iss.Token), session.ErrNotFound)

	// At the limit with DenyNew, Resume hands back the rotated token.
	iss, err = m.Create(ctx, "u1", session.Login{Remember: true})
	require.NoError(t, err)
	_, err = m.Create(ctx, "u1", session.Login{}) // the limit is reached
	require.ErrorIs(t, err, session.ErrLimit)
	res, err = m.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrLimit)
	require.NotEmpty(t, res.RememberToken)

	off := mustNew(t, memstore.NewSessionStore(), session.Config{})
	_, err = off.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrRememberDisabled)
}

func TestListAndRevoke(t *testing.T) {
	t.Parallel()
	var ev events
	m, _, c := newManager(t, session.Config{MaxSessions: 5, Hook: ev.hook})
	var issued []session.Issued
	for i := range 4 {
		c.Add(time.Second)
		iss, err := m.Create(ctx, "u1", session.Login{IP: "192.0.2.1", UserAgent: "ua" + string(rune('a'+i))})
		require.NoError(t, err)
		issued = append(issued, iss)
	}
	other, err := m.Create(ctx, "u2", session.Login{})
	require.NoError(t, err)
	l, err := m.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, l, 4)
	require.Equal(t, "uaa", l[0].UserAgent)
	require.Equal(t, "192.0.2.1", l[0].IP)

	require.ErrorIs(t, m.Revoke(ctx, "u2", issued[0].Session.ID), session.ErrNotFound, "ids are scoped to their user")
	require.NoError(t, m.Revoke(ctx, "u1", issued[0].Session.ID))
	_, err = m.Validate(ctx, issued[0].Token)
	require.ErrorIs(t, err, session.ErrNotFound)

	n, err := m.RevokeAll(ctx, "u1", issued[3].Session.ID)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	_, err = m.Validate(ctx, issued[3].Token)
	require.NoError(t, err)
	n, err = m.RevokeAll(ctx, "u1", "")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	l, err = m.List(ctx, "u1")
	require.NoError(t, err)
	require.Empty(t, l)
	_, err = m.Validate(ctx, other.Token)
	require.NoError(t, err)
	require.Contains(t, ev.types(), session.EventRevokedAll)
	for _, e := range ev.got {
		require.NotContains(t, e.SessionID, issued[0].Token, "events carry no tokens")
	}
}

func TestFailClosed(t *testing.T) {
	t.Parallel()
	m, st, c := newManager(t, session.Config{})
	iss, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	boom := errors.New("connection refused")
	st.setFail(boom)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, boom)
	require.NotErrorIs(t, err, session.ErrNotFound)
	require.NotContains(t, err.Error(), iss.Token)
	// A failing write of activity fails the request too.
	st.setFail(nil)
	c.Add(2 * time.Minute)
	failTouch := &touchFailer{Store: st.Store, err: boom}
	m2 := mustNew(t, failTouch, session.Config{Now: c.Now})
	_, err = m2.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, boom)
}

type touchFailer struct {
	session.Store
	err error
}

func (f *touchFailer) Touch(context.Context, [32]byte, time.Time, time.Time) error { return f.err }

func TestCleanup(t *testing.T) {
	t.Parallel()
	c := newClock()
	m := mustNew(t, memstore.NewSessionStore(), session.Config{MaxSessions: session.Unlimited, Now: c.Now})
	for range 3 {
		_, err := m.Create(ctx, "u1", session.Login{})
		require.NoError(t, err)
	}
	c.Add(time.Hour)
	n, err := m.Cleanup(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	// A store that expires by itself needs no cleanup.
	n, err = mustNew(t, &touchFailer{Store: memstore.NewSessionStore()}, session.Config{}).Cleanup(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}

// A rotation without a fresh authentication (a privilege change) must not
// move the absolute lifetime on, or calling it now and then would keep a
// session alive for ever without re-authentication (ASVS 7.3.2). A
// session resumed from remember-me must not outlive its family either.
func TestRotateKeepsAbsoluteExpiry(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{RememberMe: true, RememberLifetime: 24 * time.Hour})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}})
	require.NoError(t, err)
	for c.Now().Sub(t0) < 11*time.Hour {
		c.Add(5 * time.Minute)
		_, err := m.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}
	rot, err := m.Rotate(ctx, iss.Token, nil)
	require.NoError(t, err)
	require.Equal(t, iss.Session.AbsoluteExpiry, rot.Session.AbsoluteExpiry)
	for c.Now().Sub(t0) < 12*time.Hour-5*time.Minute {
		c.Add(5 * time.Minute)
		_, err := m.Validate(ctx, rot.Token)
		require.NoError(t, err)
	}
	c.Set(t0.Add(12 * time.Hour))
	_, err = m.Validate(ctx, rot.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "a rotation without re-authentication must not extend the absolute lifetime")

	// A step-up is a fresh authentication: it starts a new absolute lifetime.
	c.Set(t0.Add(24 * time.Hour))
	iss, err = m.Create(ctx, "u2", session.Login{Factors: []string{"password"}, Remember: true})
	require.NoError(t, err)
	up, err := m.Rotate(ctx, iss.Token, []string{"password"})
	require.NoError(t, err)
	require.Equal(t, c.Now().Add(12*time.Hour), up.Session.AbsoluteExpiry)

	// Resumed 23 hours into a 24-hour family: the session ends with the family.
	c.Add(23 * time.Hour)
	res, err := m.Resume(ctx, iss.RememberToken, session.Login{})
	require.NoError(t, err)
	require.Equal(t, iss.RememberExpires, res.Session.AbsoluteExpiry)
	require.False(t, res.Session.ExpiresAt.After(iss.RememberExpires))
}

// revokeAfterGet revokes every session of the user right after a Get has
// read one: the moment an admin's "end all sessions" lands between
// Rotate's read and its write.
type revokeAfterGet struct {
	session.Store
}

func (s revokeAfterGet) Get(ctx context.Context, h [32]byte, now time.Time) (session.Session, error) {
	got, err := s.Store.Get(ctx, h, now)
	if err == nil {
		if _, err := s.RevokeUser(ctx, got.UserID, ""); err != nil {
			return session.Session{}, err
		}
	}
	return got, err
}

// A session revoked while it is being rotated stays revoked: the rotation
// must not bring it back under a new token.
func TestRotateRacingRevocation(t *testing.T) {
	t.Parallel()
	st := memstore.NewSessionStore()
	c := newClock()
	m := mustNew(t, st, session.Config{Now: c.Now})
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}})
	require.NoError(t, err)
	racing := mustNew(t, revokeAfterGet{st}, session.Config{Now: c.Now})
	_, err = racing.Rotate(ctx, iss.Token, nil)
	require.ErrorIs(t, err, session.ErrNotFound)
	l, err := m.List(ctx, "u1")
	require.NoError(t, err)
	require.Empty(t, l, "a revoked session came back through Rotate")
}

// TestUserAgentBounded: the client picks its User-Agent, up to net/http's
// 1 MB of headers; a session keeps at most 512 bytes of it, cut on a
// character boundary, whoever calls Create.
func TestUserAgentBounded(t *testing.T) {
	t.Parallel()
	m, err := session.New(memstore.NewSessionStore(), session.Config{})
	require.NoError(t, err)
	ua := strings.Repeat("a", 511) + strings.Repeat("é", 50_000) // é is 2 bytes: byte 512 is mid-character
	iss, err := m.Create(ctx, "u1", session.Login{Factors: []string{"password"}, UserAgent: ua})
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("a", 511), iss.Session.UserAgent)
	list, err := m.List(ctx, "u1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, strings.Repeat("a", 511), list[0].UserAgent)
	short := "Mozilla/5.0 (X11; Linux x86_64)"
	_, err = m.RevokeAll(ctx, "u1", "")
	require.NoError(t, err)
	iss, err = m.Create(ctx, "u1", session.Login{UserAgent: short})
	require.NoError(t, err)
	require.Equal(t, short, iss.Session.UserAgent)
}
