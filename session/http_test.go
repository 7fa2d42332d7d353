package session_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/clientip"
	"github.com/bulwarkhq/bulwark/session"
)

func cookieNamed(t *testing.T, rec *httptest.ResponseRecorder, name string) *http.Cookie {
	t.Helper()
	var found *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if c.Name == name {
			found = c
		}
	}
	require.NotNil(t, found, "cookie %s not set", name)
	return found
}

// whoami answers with the user of the request's session.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	s, ok := session.FromContext(r.Context())
	if !ok {
		http.Error(w, "no session in context", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte(s.UserID))
})

func login(t *testing.T, m *session.Manager, user string, l session.Login, cookies ...*http.Cookie) (session.Issued, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	r.RemoteAddr = "10.0.0.1:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("User-Agent", "test-browser")
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	iss, err := m.Login(w, r, user, l)
	require.NoError(t, err)
	return iss, w
}

func get(h http.Handler, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "https://app.example/", nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCookieDefaults(t *testing.T) {
	t.Parallel()
	m, _, _ := newManager(t, session.Config{RememberMe: true, ClientIP: clientip.New(netip.MustParsePrefix("10.0.0.0/8"))})
	iss, w := login(t, m, "u1", session.Login{Remember: true})
	c := cookieNamed(t, w, "__Host-session")
	require.Equal(t, iss.Token, c.Value)
	require.True(t, c.Secure)
	require.True(t, c.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain)
	require.Zero(t, c.MaxAge, "dies with the browser")
	require.True(t, c.Expires.IsZero())
	rc := cookieNamed(t, w, "__Host-session-remember")
	require.Equal(t, iss.RememberToken, rc.Value)
	require.Equal(t, int((30 * 24 * time.Hour).Seconds()), rc.MaxAge, "remember-me sets a lifetime")
	require.True(t, rc.Secure)
	require.True(t, rc.HttpOnly)
	require.Equal(t, "203.0.113.7", iss.Session.IP, "client IP through the trusted proxy")
	require.Equal(t, "test-browser", iss.Session.UserAgent)

	dev, _, _ := newManager(t, session.Config{InsecureDevCookie: true})
	_, w = login(t, dev, "u1", session.Login{})
	c = cookieNamed(t, w, "session")
	require.False(t, c.Secure, "plain http://localhost in development")
	require.True(t, c.HttpOnly)
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	var hookErrs []error
	unauth := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	m, st, c := newManager(t, session.Config{Unauthenticated: unauth, OnError: func(_ context.Context, err error) { hookErrs = append(hookErrs, err) }})
	h := m.Middleware(whoami)
	iss, w := login(t, m, "u1", session.Login{})
	ck := cookieNamed(t, w, m.Config().CookieName)

	res := get(h, ck)
	require.Equal(t, http.StatusOK, res.Code)
	require.Equal(t, "u1", res.Body.String())

	require.Equal(t, http.StatusTeapot, get(h).Code, "no cookie")
	require.Equal(t, http.StatusTeapot, get(h, &http.Cookie{Name: m.Config().CookieName, Value: "forged"}).Code)

	// The middleware refreshes the idle window.
	for range 5 {
		c.Add(4 * time.Minute)
		require.Equal(t, http.StatusOK, get(h, ck).Code)
	}
	// Fail closed on a store error, and tell the host.
	st.setFail(errors.New("redis down"))
	require.Equal(t, http.StatusTeapot, get(h, ck).Code)
	require.Len(t, hookErrs, 1)
	st.setFail(nil)

	c.Add(10 * time.Minute)
	res = get(h, ck)
	require.Equal(t, http.StatusTeapot, res.Code, "idle timeout")
	require.Equal(t, -1, cookieNamed(t, res, m.Config().CookieName).MaxAge, "the stale cookie is cleared")
	_, err := m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestMiddlewareRemember(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{RememberMe: true})
	h := m.Middleware(whoami)
	_, w := login(t, m, "u1", session.Login{Remember: true})
	rc := cookieNamed(t, w, m.Config().CookieName+"-remember")
	c.Add(time.Hour) // browser restarted: only the remember-me cookie is left
	res := get(h, rc)
	require.Equal(t, http.StatusOK, res.Code)
	require.Equal(t, "u1", res.Body.String())
	newSession := cookieNamed(t, res, m.Config().CookieName)
	newRemember := cookieNamed(t, res, m.Config().CookieName+"-remember")
	require.NotEqual(t, rc.Value, newRemember.Value)
	require.Equal(t, http.StatusOK, get(h, newSession).Code)

	// With the idled-out session cookie still sent, the resumed session's
	// cookie is the only one set under that name.
	c.Add(time.Hour)
	res = get(h, newSession, newRemember)
	require.Equal(t, http.StatusOK, res.Code)
	n := 0
	for _, ck := range res.Result().Cookies() {
		if ck.Name == m.Config().CookieName {
			n++
			require.NotEmpty(t, ck.Value)
		}
	}
	require.Equal(t, 1, n)
	newRemember = cookieNamed(t, res, m.Config().CookieName+"-remember")

	// The stolen old cookie is replayed: the family and its session end.
	res = get(h, rc)
	require.Equal(t, http.StatusUnauthorized, res.Code)
	require.Equal(t, -1, cookieNamed(t, res, m.Config().CookieName+"-remember").MaxAge)
	require.Equal(t, http.StatusUnauthorized, get(h, newSession).Code)
	require.Equal(t, http.StatusUnauthorized, get(h, newRemember).Code)
}

func TestLoginReplacesBrowserSession(t *testing.T) {
	t.Parallel()
	m, _, _ := newManager(t, session.Config{RememberMe: true})
	first, w := login(t, m, "u1", session.Login{Remember: true})
	// Logging in again from the same browser is not a second session.
	second, _ := login(t, m, "u1", session.Login{}, cookieNamed(t, w, m.Config().CookieName), cookieNamed(t, w, m.Config().CookieName+"-remember"))
	require.NotEqual(t, first.Token, second.Token)
	_, err := m.Validate(ctx, first.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "the pre-login token never survives a login")
	_, err = m.Resume(ctx, first.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrNotFound, "nor does the old remember-me family")

	// Another user logs in on the same browser: u1's session there ends.
	bw := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	r.AddCookie(&http.Cookie{Name: m.Config().CookieName, Value: second.Token})
	_, err = m.Login(bw, r, "u2", session.Login{})
	require.NoError(t, err)
	_, err = m.Validate(ctx, second.Token)
	require.ErrorIs(t, err, session.ErrNotFound)

	// A refused login leaves the browser's own session alone.
	third, w := login(t, m, "u1", session.Login{})
	other := httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	_, err = m.Login(httptest.NewRecorder(), other, "u2", session.Login{})
	require.ErrorIs(t, err, session.ErrLimit, "u2 is logged in elsewhere")
	r = httptest.NewRequest(http.MethodPost, "https://app.example/login", nil)
	r.AddCookie(cookieNamed(t, w, m.Config().CookieName))
	_, err = m.Login(httptest.NewRecorder(), r, "u2", session.Login{})
	require.ErrorIs(t, err, session.ErrLimit)
	_, err = m.Validate(ctx, third.Token)
	require.NoError(t, err)
}

func TestStepUpHTTP(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{})
	_, w := login(t, m, "u1", session.Login{Factors: []string{"password"}})
	ck := cookieNamed(t, w, m.Config().CookieName)
	sensitive := m.Middleware(m.RequireRecentAuth(5*time.Minute, nil, "totp")(whoami))
	require.Equal(t, http.StatusForbidden, get(sensitive, ck).Code, "no totp yet")

	r := httptest.NewRequest(http.MethodPost, "https://app.example/step-up", nil)
	r.AddCookie(ck)
	w = httptest.NewRecorder()
	up, err := m.StepUp(w, r, []string{"password", "totp"})
	require.NoError(t, err)
	nc := cookieNamed(t, w, m.Config().CookieName)
	require.Equal(t, up.Token, nc.Value)
	require.Equal(t, http.StatusOK, get(sensitive, nc).Code)
	require.Equal(t, http.StatusUnauthorized, get(sensitive, ck).Code, "the old token is dead")
	c.Add(6 * time.Minute)
	require.Equal(t, http.StatusForbidden, get(sensitive, nc).Code, "too long ago")
	// Outside the middleware there is no session.
	require.Equal(t, http.StatusUnauthorized, get(m.RequireRecentAuth(time.Minute, nil)(whoami)).Code)
}

func TestLogoutHandler(t *testing.T) {
	t.Parallel()
	m, _, _ := newManager(t, session.Config{RememberMe: true})
	iss, w := login(t, m, "u1", session.Login{Remember: true})
	ck := cookieNamed(t, w, m.Config().CookieName)
	h := m.LogoutHandler()
	do := func(method string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "https://app.example/logout", nil)
		r.AddCookie(ck)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	require.Equal(t, http.StatusMethodNotAllowed, do(http.MethodGet, nil).Code)
	require.Equal(t, http.StatusForbidden, do(http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}).Code, "no logout CSRF")
	_, err := m.Validate(ctx, iss.Token)
	require.NoError(t, err)
	// What navigator.sendBeacon sends on pagehide.
	res := do(http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "text/plain;charset=UTF-8"})
	require.Equal(t, http.StatusNoContent, res.Code)
	require.Equal(t, -1, cookieNamed(t, res, m.Config().CookieName).MaxAge)
	require.Equal(t, -1, cookieNamed(t, res, m.Config().CookieName+"-remember").MaxAge)
	_, err = m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound, "logout deletes the session on the server")
	_, err = m.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrNotFound, "and its remember-me family")
	require.Equal(t, http.StatusNoContent, do(http.MethodPost, nil).Code, "logging out twice is fine")
}

func TestTimeLeftHandler(t *testing.T) {
	t.Parallel()
	m, st, c := newManager(t, session.Config{})
	iss, w := login(t, m, "u1", session.Login{})
	ck := cookieNamed(t, w, m.Config().CookieName)
	h := m.TimeLeftHandler()
	c.Add(3 * time.Minute)
	res := get(h, ck)
	require.Equal(t, http.StatusOK, res.Code)
	require.Equal(t, "no-store", res.Header().Get("Cache-Control"))
	var tl struct {
		IdleSeconds     int64 `json:"idle_seconds"`
		AbsoluteSeconds int64 `json:"absolute_seconds"`
	}
	require.NoError(t, json.Unmarshal(res.Body.Bytes(), &tl))
	require.Equal(t, int64(7*60), tl.IdleSeconds)
	require.Equal(t, int64(12*3600-3*60), tl.AbsoluteSeconds)
	require.Zero(t, st.touches, "polling does not keep the session alive")
	c.Add(7 * time.Minute)
	require.Equal(t, http.StatusUnauthorized, get(h, ck).Code)
	_, err := m.Validate(ctx, iss.Token)
	require.ErrorIs(t, err, session.ErrNotFound)
	st.setFail(errors.New("down"))
	require.Equal(t, http.StatusInternalServerError, get(h, ck).Code)
}

// Logging out after the session idled out still ends the remember-me
// family: a copy of the cookie is worthless afterwards.
func TestLogoutRevokesRememberFamily(t *testing.T) {
	t.Parallel()
	m, _, c := newManager(t, session.Config{RememberMe: true})
	iss, w := login(t, m, "u1", session.Login{Remember: true})
	c.Add(time.Hour)
	r := httptest.NewRequest(http.MethodPost, "https://app.example/logout", nil)
	r.AddCookie(cookieNamed(t, w, m.Config().CookieName))
	r.AddCookie(cookieNamed(t, w, m.Config().CookieName+"-remember"))
	res := httptest.NewRecorder()
	m.LogoutHandler().ServeHTTP(res, r)
	require.Equal(t, http.StatusNoContent, res.Code)
	_, err := m.Resume(ctx, iss.RememberToken, session.Login{})
	require.ErrorIs(t, err, session.ErrNotFound)
}

func TestOptional(t *testing.T) {
	t.Parallel()
	m, st, _ := newManager(t, session.Config{})
	h := m.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := session.FromContext(r.Context()); ok {
			_, _ = w.Write([]byte("hello " + s.UserID))
			return
		}
		_, _ = w.Write([]byte("visitor"))
	}))
	require.Equal(t, "visitor", get(h).Body.String())
	_, w := login(t, m, "u1", session.Login{})
	ck := cookieNamed(t, w, m.Config().CookieName)
	require.Equal(t, "hello u1", get(h, ck).Body.String())
	st.setFail(errors.New("down"))
	require.Equal(t, "visitor", get(h, ck).Body.String(), "fails closed: served as a visitor")
}
