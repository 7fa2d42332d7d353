package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/session"
	"github.com/bulwarkhq/bulwark/store/memstore"
)

// markFailer fails MarkClosing, to check that a store error while clearing
// a mark denies.
type markFailer struct {
	session.Store
	err error
}

func (f markFailer) MarkClosing(context.Context, [32]byte, time.Time, time.Time, time.Time) error {
	return f.err
}

// getHook runs after once, after its first Get, to put another instance's
// request between a Manager's read of a session and its write.
type getHook struct {
	session.Store
	after func()
}

func (h *getHook) Get(ctx context.Context, hash [32]byte, now time.Time) (session.Session, error) {
	s, err := h.Store.Get(ctx, hash, now)
	if f := h.after; f != nil {
		h.after = nil
		f()
	}
	return s, err
}

// A second mark whose read sees the first mark, while a request on another
// instance clears that first mark, must not carry the first mark's short
// expiry over: the session, which had a request after the first mark, gets
// the full grace from the second (found in RunConcurrentClosing on
// PostgreSQL, where it ended a session polled every two seconds).
func TestCloseGraceRemarkAfterClear(t *testing.T) {
	t.Parallel()
	const grace = 10 * time.Second
	c := newClock()
	st := memstore.NewSessionStore()
	cfg := session.Config{Now: c.Now, CloseGrace: grace, TouchInterval: time.Second}
	m, other := mustNew(t, st, cfg), mustNew(t, st, cfg)
	iss, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	require.NoError(t, m.MarkClosing(ctx, iss.Token))
	c.Add(2 * time.Second)
	hook := &getHook{Store: st, after: func() {
		_, err := other.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}}
	second := c.Now()
	require.NoError(t, mustNew(t, hook, cfg).MarkClosing(ctx, iss.Token))
	s, err := st.Get(ctx, iss.Session.TokenHash, c.Now())
	require.NoError(t, err)
	require.Equal(t, second, s.Closing)
	require.Equal(t, second.Add(grace), s.ExpiresAt, "the grace runs from the second mark")
	// Within the second mark's grace, past the first's: a request keeps it.
	c.Set(second.Add(grace - time.Microsecond))
	_, err = m.Validate(ctx, iss.Token)
	require.NoError(t, err)
	// A mark no request follows still ends it after the grace.
	require.NoError(t, m.MarkClosing(ctx, iss.Token))
	c.Add(grace)
	_, err = other.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
}

// The tab-close beacon marks the session; a request within the grace (a
// reload, Back, Forward, another tab) clears the mark, and without one the
// session ends when the grace is over, for every instance sharing the
// store.
func TestCloseGrace(t *testing.T) {
	t.Parallel()
	const grace = 10 * time.Second
	tests := []struct {
		name string
		// after runs after the mark, with the clock at the mark; it
		// returns whether the session must survive.
		after func(t *testing.T, m, other *session.Manager, st session.Store, c *clock, iss session.Issued) bool
	}{
		{"reload within the grace keeps it", func(t *testing.T, m, _ *session.Manager, _ session.Store, c *clock, iss session.Issued) bool {
			c.Add(grace - time.Microsecond)
			s, err := m.Validate(ctx, iss.Token)
			require.NoError(t, err)
			require.True(t, s.Closing.IsZero(), "the request cleared the mark")
			return true
		}},
		{"a request on another instance clears it", func(t *testing.T, _, other *session.Manager, _ session.Store, c *clock, iss session.Issued) bool {
			c.Add(time.Second)
			_, err := other.Validate(ctx, iss.Token)
			require.NoError(t, err)
			return true
		}},
		{"a time-left poll clears it without counting as activity", func(t *testing.T, m, _ *session.Manager, st session.Store, c *clock, iss session.Issued) bool {
			before, err := st.Get(ctx, iss.Session.TokenHash, c.Now())
			require.NoError(t, err)
			c.Add(time.Second)
			idle, _, err := m.TimeLeft(ctx, iss.Token)
			require.NoError(t, err)
			after, err := st.Get(ctx, iss.Session.TokenHash, c.Now())
			require.NoError(t, err)
			require.True(t, after.Closing.IsZero())
			require.Equal(t, before.LastSeen, after.LastSeen, "the poll is not activity")
			require.Equal(t, before.LastSeen.Add(m.Config().IdleTimeout), after.ExpiresAt, "expiry back to the last activity's")
			require.Equal(t, after.ExpiresAt.Sub(c.Now()), idle)
			return true
		}},
		{"no request: ended at the end of the grace", func(t *testing.T, m, other *session.Manager, st session.Store, c *clock, iss session.Issued) bool {
			c.Add(grace - time.Microsecond)
			s, err := st.Get(ctx, iss.Session.TokenHash, c.Now())
			require.NoError(t, err, "still stored just before the end")
			require.False(t, s.Closing.IsZero())
			c.Add(time.Microsecond)
			_, err = other.Validate(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound, "another instance sees it ended")
			ss, err := m.List(ctx, "u1")
			require.NoError(t, err)
			require.Empty(t, ss, "the devices page no longer lists it")
			_, err = m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err, "the single-session rule no longer counts it")
			return false
		}},
		{"a request after the grace does not revive it", func(t *testing.T, m, _ *session.Manager, st session.Store, c *clock, iss session.Issued) bool {
			c.Add(grace)
			_, err := m.Validate(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
			_, _, err = m.TimeLeft(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
			return false
		}},
		{"a touch racing the mark does not keep it past the grace", func(t *testing.T, m, _ *session.Manager, st session.Store, c *clock, iss session.Issued) bool {
			// A request that was read before the beacon writes its touch
			// after the mark: the expiry moves on, the mark stays.
			require.NoError(t, st.Touch(ctx, iss.Session.TokenHash, c.Now(), c.Now().Add(m.Config().IdleTimeout)))
			c.Add(grace)
			_, err := m.Validate(ctx, iss.Token)
			require.ErrorIs(t, err, session.ErrNotFound)
			_, err = st.Get(ctx, iss.Session.TokenHash, c.Now())
			require.ErrorIs(t, err, session.ErrNotFound, "the Manager deleted it")
			return false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			st := memstore.NewSessionStore()
			cfg := session.Config{Now: c.Now, CloseGrace: grace}
			m, other := mustNew(t, st, cfg), mustNew(t, st, cfg)
			iss, err := m.Create(ctx, "u1", session.Login{})
			require.NoError(t, err)
			c.Add(3 * time.Minute)
			require.NoError(t, m.MarkClosing(ctx, iss.Token))
			alive := tc.after(t, m, other, st, c, iss)
			// Long after the grace, well inside the idle timeout.
			c.Add(3 * grace)
			_, err = m.Validate(ctx, iss.Token)
			if alive {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, session.ErrNotFound)
			}
		})
	}
}

// The mark only brings the expiry nearer, and clearing it never moves the
// expiry past the idle or absolute limit.
func TestCloseGraceNeverExtends(t *testing.T) {
	t.Parallel()
	c := newClock()
	st := memstore.NewSessionStore()
	m := mustNew(t, st, session.Config{Now: c.Now, CloseGrace: time.Minute, AbsoluteTimeout: time.Hour})
	iss, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	// Idle: 30 s before the idle expiry, a one-minute grace ends with it.
	c.Add(m.Config().IdleTimeout - 30*time.Second)
	require.NoError(t, m.MarkClosing(ctx, iss.Token))
	s, err := st.Get(ctx, iss.Session.TokenHash, c.Now())
	require.NoError(t, err)
	require.Equal(t, iss.Session.ExpiresAt, s.ExpiresAt)
	c.Add(30 * time.Second)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "idle expiry holds through the grace")

	// Absolute: keep a session active to 20 s before its absolute expiry,
	// mark it, and a request within the grace restores no more than that.
	c.Set(t0)
	iss, err = m.Create(ctx, "u2", session.Login{})
	require.NoError(t, err)
	end := iss.Session.AbsoluteExpiry.Add(-20 * time.Second)
	for c.Now().Before(end) {
		c.Set(earliest(c.Now().Add(5*time.Minute), end))
		_, err = m.Validate(ctx, iss.Token)
		require.NoError(t, err)
	}
	require.NoError(t, m.MarkClosing(ctx, iss.Token))
	c.Add(5 * time.Second)
	s, err = m.Validate(ctx, iss.Token)
	require.NoError(t, err)
	require.Equal(t, iss.Session.AbsoluteExpiry, s.ExpiresAt)
	c.Set(iss.Session.AbsoluteExpiry)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
}

// A store error while clearing a mark denies the request.
func TestCloseGraceFailsClosed(t *testing.T) {
	t.Parallel()
	c := newClock()
	st := memstore.NewSessionStore()
	m := mustNew(t, st, session.Config{Now: c.Now})
	iss, err := m.Create(ctx, "u1", session.Login{})
	require.NoError(t, err)
	require.NoError(t, m.MarkClosing(ctx, iss.Token))
	down := errors.New("down")
	broken := mustNew(t, markFailer{Store: st, err: down}, session.Config{Now: c.Now})
	_, err = broken.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, down)
	_, _, err = broken.TimeLeft(ctx, iss.Token)
	require.ErrorIs(t, err, down)
	require.ErrorIs(t, broken.MarkClosing(ctx, iss.Token), down)
	require.ErrorIs(t, m.MarkClosing(ctx, "not-a-token"), session.ErrNotFound)
	require.Equal(t, 10*time.Second, m.Config().CloseGrace, "the default grace")
	_, err = session.New(st, session.Config{CloseGrace: -1})
	require.Error(t, err, "a negative grace is refused")
}

// What navigator.sendBeacon sends on pagehide marks the session and keeps
// the cookies; the reload that follows keeps the user signed in.
func TestCloseHandler(t *testing.T) {
	t.Parallel()
	var ev events
	m, _, c := newManager(t, session.Config{Hook: ev.hook})
	iss, w := login(t, m, "u1", session.Login{})
	ck := cookieNamed(t, w, m.Config().CookieName)
	h := m.CloseHandler()
	do := func(method string, hdr map[string]string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "https://app.example/session/close", nil)
		for _, c := range cookies {
			r.AddCookie(c)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	beacon := map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain;charset=UTF-8"}
	require.Equal(t, http.StatusMethodNotAllowed, do(http.MethodGet, nil, ck).Code)
	require.Equal(t, http.StatusForbidden, do(http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, ck).Code)
	require.Equal(t, http.StatusNoContent, do(http.MethodPost, beacon).Code, "no session: nothing to mark")

	res := do(http.MethodPost, beacon, ck)
	require.Equal(t, http.StatusNoContent, res.Code)
	require.Empty(t, res.Result().Cookies(), "the cookie survives for the reload")
	require.Contains(t, ev.types(), session.EventClosing)
	app := m.Middleware(whoami)
	c.Add(2 * time.Second)
	require.Equal(t, "u1", get(app, ck).Body.String(), "the reload is signed in")
	c.Add(time.Hour / 6)
	_, err := m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "idle timeout as usual")

	// The last tab closed: nothing follows the beacon.
	iss, w = login(t, m, "u1", session.Login{})
	ck = cookieNamed(t, w, m.Config().CookieName)
	require.Equal(t, http.StatusNoContent, do(http.MethodPost, beacon, ck).Code)
	c.Add(m.Config().CloseGrace)
	require.Equal(t, http.StatusUnauthorized, get(app, ck).Code)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
