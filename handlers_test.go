package bulwark_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/auth"
	"github.com/bulwarkhq/bulwark/session"
)

// TestHandlerJourney walks one user through every endpoint: sign-up,
// sign-in, TOTP enrolment behind re-authentication, the single-session
// rule, sign-in with TOTP, a recovery code and an emailed code, the
// sessions list, password change and reset, and sign-out.
func TestHandlerJourney(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	laptop, phone := e.browser(t, "192.0.2.10"), e.browser(t, "198.51.100.20")
	login := e.signUp(t, laptop, "Łukasz", "Żółć", "lz@example.com")
	require.True(t, strings.HasPrefix(login, "LukaszZolc"), login)

	// Password only: signed in, with the session cookie set by session.
	r := laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.JSONEq(t, `{"next":"done"}`, r.body)
	require.Contains(t, laptop.cookies, e.b.Sessions.Config().CookieName)
	require.True(t, hasCookie(laptop, "bulwark-binding"))

	// Signing in again in the same browser replaces its session.
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.Equal(t, http.StatusOK, r.status, r.body)
	// The single-session rule: another device is refused.
	r = phone.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.Equal(t, http.StatusConflict, r.status, r.body)
	require.Equal(t, "session_limit", r.code())

	// Factor changes need a recent authentication.
	e.clock.Add(11 * time.Minute)
	r = laptop.do("GET", "/auth/mfa", nil)
	require.Equal(t, http.StatusUnauthorized, r.status, "the 10-minute idle timeout ended the session")
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.Equal(t, http.StatusOK, r.status, r.body)
	e.clock.Add(10*time.Minute - time.Second) // auth.Config.RecentAuth's default
	r = laptop.do("GET", "/auth/mfa", nil)    // keeps the session alive
	require.Equal(t, http.StatusOK, r.status, r.body)
	e.clock.Add(2 * time.Second)
	r = laptop.do("POST", "/auth/mfa/totp", nil)
	require.Equal(t, http.StatusForbidden, r.status)
	require.Equal(t, "reauth_required", r.code())
	r = laptop.do("POST", "/auth/reauth", map[string]string{"password": "wrong password here"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = laptop.do("POST", "/auth/reauth", map[string]string{"password": testPassword})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	code := e.enrolTOTP(t, laptop)
	r = laptop.do("POST", "/auth/mfa/recovery-codes", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	var rc struct{ Codes []string }
	r.decode(t, &rc)
	require.Len(t, rc.Codes, 10)
	require.Regexp(t, recoveryRe, rc.Codes[0])
	r = laptop.do("GET", "/auth/mfa", nil)
	require.JSONEq(t, `{"totp":"active","email":false,"recovery_codes":10}`, r.body)

	// Sign out, then the password alone is not enough.
	r = laptop.do("POST", "/auth/signout", nil)
	require.Equal(t, http.StatusNoContent, r.status)
	require.NotContains(t, laptop.cookies, e.b.Sessions.Config().CookieName)
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.JSONEq(t, `{"next":"mfa"}`, r.body)
	require.NotContains(t, laptop.cookies, e.b.Sessions.Config().CookieName)
	// The pending state belongs to this browser: the phone cannot use it,
	// even with the cookie (the binding differs).
	thief := e.browser(t, "203.0.113.66")
	for n, v := range laptop.cookies {
		if strings.HasSuffix(n, "bulwark-pending") {
			thief.cookies[n] = v
		}
	}
	r = thief.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "invalid_pending", r.code())
	r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": "000000"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	require.Equal(t, "invalid_code", r.code())
	r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.JSONEq(t, `{"next":"done"}`, r.body)
	require.False(t, hasCookie(laptop, "bulwark-pending"))

	// A recovery code works once, on the phone after the laptop signs out.
	require.Equal(t, http.StatusNoContent, laptop.do("POST", "/auth/signout", nil).status)
	r = phone.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.JSONEq(t, `{"next":"mfa"}`, r.body)
	r = phone.do("POST", "/auth/signin/mfa", map[string]string{"code": rc.Codes[0]})
	require.Equal(t, http.StatusOK, r.status, r.body)

	// Sessions: list, revoke the others.
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword})
	require.JSONEq(t, `{"next":"mfa"}`, r.body)
	e.clock.Add(30 * time.Second)
	r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
	require.Equal(t, http.StatusConflict, r.status, "the phone holds the one session")
	require.Equal(t, "session_limit", r.code())
	r = phone.do("GET", "/auth/sessions", nil)
	require.Equal(t, http.StatusOK, r.status, r.body)
	var list struct {
		Sessions []struct {
			ID      string   `json:"id"`
			Current bool     `json:"current"`
			IP      string   `json:"ip"`
			Factors []string `json:"factors"`
		} `json:"sessions"`
	}
	r.decode(t, &list)
	require.Len(t, list.Sessions, 1)
	require.True(t, list.Sessions[0].Current)
	require.Equal(t, "198.51.100.20", list.Sessions[0].IP)
	require.Equal(t, []string{"password", "recovery"}, list.Sessions[0].Factors)
	r = phone.do("DELETE", "/auth/sessions/"+"0190a0b0-0000-7000-8000-000000000000", nil)
	require.Equal(t, http.StatusNotFound, r.status)
	r = phone.do("DELETE", "/auth/sessions", nil)
	require.JSONEq(t, `{"ended":0}`, r.body)

	// Password change (the current password is required).
	r = phone.do("POST", "/auth/password/change", map[string]any{"current": "not it at all", "new": "violet harbour engine"})
	require.Equal(t, http.StatusUnauthorized, r.status)
	r = phone.do("POST", "/auth/password/change", map[string]any{"current": testPassword, "new": "short"})
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Equal(t, "password_policy", r.code())
	require.Contains(t, r.body, `"violations":[`)
	r = phone.do("POST", "/auth/password/change", map[string]any{"current": testPassword, "new": "violet harbour engine"})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = phone.do("DELETE", "/auth/sessions/"+list.Sessions[0].ID, nil)
	require.Equal(t, http.StatusNoContent, r.status, "revoking one's own current session")
	require.Equal(t, http.StatusUnauthorized, phone.do("GET", "/auth/sessions", nil).status)

	// Reset by mail: no session, and the second factor is still asked.
	r = laptop.do("POST", "/auth/password/reset", map[string]string{"email": "lz@example.com"})
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	r = laptop.do("POST", "/auth/password/reset/complete", map[string]string{"token": e.mail.lastReset(t), "password": "amber lighthouse orbit"})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = laptop.do("POST", "/auth/password/reset/complete", map[string]string{"token": e.mail.lastReset(t), "password": "amber lighthouse orbit"})
	require.Equal(t, "invalid_reset_token", r.code())
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": "LZ@example.com", "password": "amber lighthouse orbit"})
	require.JSONEq(t, `{"next":"mfa"}`, r.body, "sign-in by email works, and the reset does not skip MFA")
	e.clock.Add(30 * time.Second)
	r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": code()})
	require.Equal(t, http.StatusOK, r.status, r.body)

	// Emailed codes as a factor: on, used to sign in, off.
	e.clock.Add(time.Minute)
	r = laptop.do("POST", "/auth/reauth", map[string]string{"password": "amber lighthouse orbit"})
	require.Equal(t, "code_required", r.code())
	r = laptop.do("POST", "/auth/reauth", map[string]string{"password": "amber lighthouse orbit", "code": code()})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = laptop.do("POST", "/auth/mfa/email", nil)
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	r = laptop.do("POST", "/auth/mfa/email/confirm", map[string]string{"code": e.mail.lastCode(t)})
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	require.Equal(t, http.StatusNoContent, laptop.do("POST", "/auth/signout", nil).status)
	r = laptop.do("POST", "/auth/signin", map[string]string{"login": login, "password": "amber lighthouse orbit"})
	require.JSONEq(t, `{"next":"mfa"}`, r.body)
	e.clock.Add(time.Minute)
	r = laptop.do("POST", "/auth/signin/mfa/email", nil)
	require.Equal(t, http.StatusAccepted, r.status, r.body)
	r = laptop.do("POST", "/auth/signin/mfa", map[string]string{"code": e.mail.lastCode(t)})
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = laptop.do("DELETE", "/auth/mfa/email", nil)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = laptop.do("DELETE", "/auth/mfa/totp", nil)
	require.Equal(t, http.StatusNoContent, r.status, r.body)
	r = laptop.do("GET", "/auth/mfa", nil)
	require.JSONEq(t, `{"totp":"none","email":false,"recovery_codes":9}`, r.body)
}

// TestHandlerNoEnumeration: an unknown login, a wrong password and a
// locked account get the same answer; so do sign-up and reset with known
// and unknown addresses.
func TestHandlerNoEnumeration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	br := e.browser(t, "192.0.2.10")
	login := e.signUp(t, br, "Jan", "Kowalski", "jan@example.com")
	locked := e.signUp(t, br, "Anna", "Nowak", "anna@example.com")
	for range 10 {
		br.do("POST", "/auth/signin", map[string]string{"login": locked, "password": "wrong guess, again"})
	}
	type answer struct {
		status int
		body   string
	}
	ask := func(path string, body map[string]string) answer {
		r := e.browser(t, "192.0.2.11").do("POST", path, body)
		return answer{r.status, r.body}
	}
	tests := []struct {
		name string
		path string
		a, b map[string]string
	}{
		{"signin wrong password vs unknown user", "/auth/signin",
			map[string]string{"login": login, "password": "not the password"},
			map[string]string{"login": "NoSuchUser12", "password": "not the password"}},
		{"signin locked (right password) vs unknown user", "/auth/signin",
			map[string]string{"login": locked, "password": testPassword},
			map[string]string{"login": "NoSuchUser12", "password": testPassword}},
		{"signup taken vs new address", "/auth/signup",
			map[string]string{"first_name": "Jan", "last_name": "Kowalski", "email": "jan@example.com", "password": testPassword},
			map[string]string{"first_name": "Jan", "last_name": "Kowalski", "email": "jan2@example.com", "password": testPassword}},
		{"reset known vs unknown address", "/auth/password/reset",
			map[string]string{"email": "jan@example.com"}, map[string]string{"email": "nobody@example.com"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := ask(tc.path, tc.a), ask(tc.path, tc.b)
			require.Equal(t, a, b)
			require.Less(t, a.status, 500)
		})
	}
}

// TestHandlerRefusals: CSRF, body and decoding rules, and sessions.
func TestHandlerRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *bulwark.Config) { c.TrustedOrigins = []string{"https://front.example"} })
	signIn := map[string]string{"login": "x", "password": "y"}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		mod    func(*http.Request)
		status int
		code   string
	}{
		{"form post", "POST", "/auth/signin", signIn, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}, http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"no content type", "POST", "/auth/signout", nil, func(r *http.Request) { r.Header.Del("Content-Type") },
			http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"text/plain", "DELETE", "/auth/sessions", nil, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
			http.StatusUnsupportedMediaType, "unsupported_media_type"},
		{"cross-site fetch", "POST", "/auth/signin", signIn, func(r *http.Request) { r.Header.Set("Sec-Fetch-Site", "cross-site") },
			http.StatusForbidden, "cross_origin"},
		{"foreign origin", "POST", "/auth/signout", nil, func(r *http.Request) {
			r.Header.Del("Sec-Fetch-Site")
			r.Header.Set("Origin", "https://evil.example")
		}, http.StatusForbidden, "cross_origin"},
		{"trusted origin", "POST", "/auth/signin", signIn, func(r *http.Request) {
			r.Header.Set("Sec-Fetch-Site", "cross-site")
			r.Header.Set("Origin", "https://front.example")
		}, http.StatusUnauthorized, "invalid_credentials"},
		{"same origin, charset", "POST", "/auth/signin", signIn, func(r *http.Request) {
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
		}, http.StatusUnauthorized, "invalid_credentials"},
		{"unknown field", "POST", "/auth/signin", `{"login":"x","password":"y","admin":true}`, nil, http.StatusBadRequest, "invalid_json"},
		{"trailing data", "POST", "/auth/signin", `{"login":"x","password":"y"} {}`, nil, http.StatusBadRequest, "invalid_json"},
		{"not json", "POST", "/auth/signin", `login=x`, nil, http.StatusBadRequest, "invalid_json"},
		{"too large", "POST", "/auth/signin", `{"login":"` + strings.Repeat("a", 9<<10) + `","password":"y"}`, nil,
			http.StatusRequestEntityTooLarge, "body_too_large"},
		{"signed out: sessions", "GET", "/auth/sessions", nil, nil, http.StatusUnauthorized, "unauthenticated"},
		{"signed out: change password", "POST", "/auth/password/change", map[string]string{"current": "a", "new": "b"}, nil,
			http.StatusUnauthorized, "unauthenticated"},
		{"signed out: enrol", "POST", "/auth/mfa/totp", nil, nil, http.StatusUnauthorized, "unauthenticated"},
		{"no pending sign-in", "POST", "/auth/signin/mfa", map[string]string{"code": "123456"}, nil, http.StatusUnauthorized, "invalid_pending"},
		{"no pending sign-in: email", "POST", "/auth/signin/mfa/email", nil, nil, http.StatusUnauthorized, "invalid_pending"},
		{"bad reset token", "POST", "/auth/password/reset/complete", map[string]string{"token": "nope", "password": testPassword}, nil,
			http.StatusBadRequest, "invalid_reset_token"},
		{"unknown path", "GET", "/auth/nope", nil, nil, http.StatusNotFound, "not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mods []func(*http.Request)
			if tc.mod != nil {
				mods = append(mods, tc.mod)
			}
			r := e.browser(t, "192.0.2.30").do(tc.method, tc.path, tc.body, mods...)
			require.Equal(t, tc.status, r.status, r.body)
			require.Equal(t, tc.code, r.code())
			require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		})
	}
}

// TestHandlerInternalErrorsDoNotLeak: a store failure answers a bare 500
// and goes to OnError.
func TestHandlerInternalErrorsDoNotLeak(t *testing.T) {
	t.Parallel()
	var got []error
	e := newEnvWith(t, func(m bulwark.Mailer) bulwark.Deps {
		d := memDeps(t, m)
		d.Users = brokenUsers{}
		return d
	}, func(c *bulwark.Config) { c.OnError = func(_ context.Context, err error) { got = append(got, err) } })
	r := e.browser(t, "192.0.2.1").do("POST", "/auth/signin", map[string]string{"login": "jan", "password": testPassword})
	require.Equal(t, http.StatusInternalServerError, r.status)
	require.JSONEq(t, `{"error":{"code":"internal"}}`, r.body)
	require.NotEmpty(t, got)
	require.NotContains(t, r.body, "db down")
}

type brokenUsers struct{}

func (brokenUsers) FindUser(context.Context, auth.Lookup, string) (auth.User, error) {
	return auth.User{}, errors.New("db down at 10.0.0.5")
}
func (brokenUsers) CreateUser(context.Context, auth.User) error { return errors.New("db down") }
func (brokenUsers) SetPasswordHash(context.Context, string, string) error {
	return errors.New("db down")
}

// TestHandlerWithoutMailer: reset and emailed codes answer 501.
func TestHandlerWithoutMailer(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(bulwark.Mailer) bulwark.Deps { return memDeps(t, nil) }, nil)
	br := e.browser(t, "192.0.2.1")
	r := br.do("POST", "/auth/password/reset", map[string]string{"email": "a@example.com"})
	require.Equal(t, http.StatusNotImplemented, r.status)
	require.Equal(t, "unavailable", r.code())
	r = br.do("POST", "/auth/signup", map[string]string{"first_name": "A", "last_name": "B", "email": "a@example.com", "password": testPassword})
	require.Equal(t, http.StatusAccepted, r.status, r.body)
}

// TestHooksReachAuditAndHost: events of auth, session and mfa are in the
// audit log with the client's address, and reach the host's hook.
func TestHooksReachAuditAndHost(t *testing.T) {
	t.Parallel()
	var seen []bulwark.Event
	e := newEnv(t, func(c *bulwark.Config) {
		c.Hook = func(_ context.Context, ev bulwark.Event) { seen = append(seen, ev) }
	})
	br := e.browser(t, "192.0.2.44")
	login := e.signUp(t, br, "Jan", "Kowalski", "jan@example.com")
	require.Equal(t, http.StatusOK, br.do("POST", "/auth/signin", map[string]string{"login": login, "password": testPassword}).status)
	require.Equal(t, http.StatusNoContent, br.do("POST", "/auth/reauth", map[string]string{"password": testPassword}).status)
	e.enrolTOTP(t, br)
	require.Equal(t, http.StatusNoContent, br.do("POST", "/auth/signout", nil).status)

	recs, err := e.audit.Store().Query(context.Background(), audit.Filter{Limit: 1000})
	require.NoError(t, err)
	actions := map[string]audit.Record{}
	for _, r := range recs {
		actions[r.Action] = r
	}
	for _, a := range []string{"auth.register", "auth.login", "session.created", "auth.reauth", "session.rotated",
		"mfa.enrolled", "mfa.confirmed", "auth.mfa.changed", "session.logout", "keyring.key_added"} {
		require.Contains(t, actions, a)
	}
	require.Equal(t, "192.0.2.44", actions["session.created"].IP, "session events carry the request's address")
	require.Equal(t, "192.0.2.44", actions["mfa.confirmed"].IP)
	types := map[string]bool{}
	for _, ev := range seen {
		types[ev.Type] = true
	}
	require.True(t, types["auth.login"] && types["session.created"] && types["mfa.confirmed"] && types["keyring.key_added"])
}

var _ = session.ErrLimit
