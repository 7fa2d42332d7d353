package main

import (
	"encoding/base32"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bulwarkhq/bulwark/audit"
	"github.com/bulwarkhq/bulwark/mfa"
	"github.com/bulwarkhq/bulwark/mfa/mfatest"
)

// enrolTOTP turns on TOTP for c's account and returns the secret.
func (ta *testApp) enrolTOTP(t *testing.T, c *http.Client) []byte {
	t.Helper()
	page := ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{"password": {testPassword}})
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
	require.NotNil(t, m, page.Body)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(m[1])
	require.NoError(t, err)
	res := ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {ta.totp(t, secret)}})
	require.Contains(t, res.Body, `id="recovery-codes"`)
	return secret
}

func (ta *testApp) totp(t *testing.T, secret []byte) string {
	t.Helper()
	code, err := mfatest.Code(secret, mfa.SHA1, 6, 30*time.Second, ta.clock.Now())
	require.NoError(t, err)
	return code
}

// lastMail returns the newest development mail's body and link.
func (ta *testApp) lastMail() string {
	msgs := ta.mail.messages("")
	if len(msgs) == 0 {
		return ""
	}
	return msgs[0].Body + " " + msgs[0].Link
}

func TestSignInWithEmailedCode(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	secret := ta.enrolTOTP(t, c)
	ta.enableEmailCodes(t, c, secret)
	ta.do(t, c, "POST", "/signout", url.Values{})
	out, err := ta.audit.Query(t.Context(), audit.Filter{ActionPrefix: "session.logout"})
	require.NoError(t, err)
	require.Len(t, out.Records, 1, "the sign-out is audited")
	require.Equal(t, "127.0.0.1", out.Records[0].IP)

	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"))
	ta.do(t, c, "POST", "/signin/mfa/email", url.Values{})
	code := regexp.MustCompile(`code is (\d{6})`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, code, ta.lastMail())
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {code[1]}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, res.Body)
	require.Equal(t, "/clients", res.Header.Get("Location"))
}

func TestWrongCodeRefused(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	ta.enrolTOTP(t, c)
	ta.do(t, c, "POST", "/signout", url.Values{})
	ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
	res := ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {"000000"}})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	require.Equal(t, http.StatusSeeOther, ta.do(t, c, "GET", "/clients", nil).StatusCode, "still signed out")
}

// TestAdminStartsReset: the admin sends a reset link, never a password; the
// link works once, ends the user's sessions, and the second factor is still
// asked at the next sign-in.
func TestAdminStartsReset(t *testing.T) {
	t.Parallel()
	ta := newTestApp(t, nil)
	admin := browser(t)
	ta.signUpAndIn(t, admin, "admin@example.com")
	user := browser(t)
	ta.signUpAndIn(t, user, "bob@example.com")
	secret := ta.enrolTOTP(t, user)
	// Ending bob's sessions is audited with the admin as the actor, and
	// shows in bob's security activity.
	bob := ta.userID(t, "bob@example.com")
	require.Equal(t, http.StatusOK, ta.do(t, admin, "POST", "/admin/users/"+bob+"/end-sessions", url.Values{}).StatusCode)
	require.Equal(t, http.StatusSeeOther, ta.do(t, user, "GET", "/clients", nil).StatusCode, "bob is signed out")
	found := ta.do(t, admin, "GET", "/admin?action=admin.sessions", nil).Body
	require.Contains(t, found, "admin.sessions.ended")
	ta.clock.Add(time.Minute)
	ta.signInTOTP(t, user, "bob@example.com", secret)
	require.Contains(t, ta.do(t, user, "GET", "/account", nil).Body, "Sessions ended by an administrator")

	res := ta.do(t, admin, "POST", "/admin/users/"+bob+"/reset", url.Values{})
	require.Equal(t, http.StatusOK, res.StatusCode, res.Body)
	token := regexp.MustCompile(`/reset#([A-Za-z0-9_-]+)`).FindStringSubmatch(ta.lastMail())
	require.NotNil(t, token, ta.lastMail())

	const newPassword = "violet kettle orbit margin"
	res = ta.do(t, browser(t), "POST", "/reset", url.Values{"token": {token[1]}, "password": {newPassword}})
	require.Equal(t, "/signin?reset=1", res.Header.Get("Location"), res.Body)
	res = ta.do(t, browser(t), "POST", "/reset", url.Values{"token": {token[1]}, "password": {newPassword + "!"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "single use")

	require.Equal(t, http.StatusSeeOther, ta.do(t, user, "GET", "/clients", nil).StatusCode, "the reset ended bob's session")
	ta.do(t, user, "GET", "/signin", nil)
	res = ta.do(t, user, "POST", "/signin", url.Values{"login": {"bob@example.com"}, "password": {newPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"), "the reset does not bypass the second factor")
}

// TestSensitiveActionsNeedPassword: export, erasure and turning off the
// second factor each ask for the password again.
func TestSensitiveActionsNeedPassword(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	ta := newTestApp(t, func(c *Config) { c.Log = slog.New(slog.NewTextHandler(&logs, nil)) })
	defer func() {
		if t.Failed() {
			t.Log(logs.String())
		}
	}()
	ta.signUpAndIn(t, browser(t), "admin@example.com") // so that ada is not the last administrator
	c := browser(t)
	ta.signUpAndIn(t, c, "ada@example.com")
	ta.enrolTOTP(t, c)
	wrong := url.Values{"password": {"not my password"}, "passphrase": {"a long enough passphrase"}}
	for _, path := range []string{"/account/export", "/account/delete", "/account/mfa/remove"} {
		res := ta.do(t, c, "POST", path, wrong)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, path)
		require.Contains(t, res.Body, "password is not right", path)
	}
	require.Equal(t, http.StatusNotFound, ta.do(t, c, "GET", "/account/export/status", nil).StatusCode, "no export started")
	require.Contains(t, ta.do(t, c, "GET", "/account", nil).Body, "An authenticator app protects your account")
	ta.userID(t, "ada@example.com") // still there
}

// signInTOTP signs c in with the password and a TOTP code.
func (ta *testApp) signInTOTP(t *testing.T, c *http.Client, login string, secret []byte) {
	t.Helper()
	ta.do(t, c, "GET", "/signin", nil)
	res := ta.do(t, c, "POST", "/signin", url.Values{"login": {login}, "password": {testPassword}})
	require.Equal(t, "/signin/mfa", res.Header.Get("Location"), res.Body)
	res = ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {ta.totp(t, secret)}})
	require.Equal(t, "/clients", res.Header.Get("Location"), res.Body)
}

func TestSignInWithRecoveryCode(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	page := ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{"password": {testPassword}})
	m := regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`).FindStringSubmatch(page.Body)
	require.NotNil(t, m)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(m[1])
	require.NoError(t, err)
	page = ta.do(t, c, "POST", "/account/mfa/confirm", url.Values{"code": {ta.totp(t, secret)}})
	codes := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindAllStringSubmatch(page.Body, -1)
	require.Len(t, codes, 10)
	ta.do(t, c, "POST", "/signout", url.Values{})

	signInWith := func(code string) answer {
		ta.do(t, c, "POST", "/signin", url.Values{"login": {"ada@example.com"}, "password": {testPassword}})
		return ta.do(t, c, "POST", "/signin/mfa", url.Values{"code": {code}})
	}
	res := signInWith(codes[0][1])
	require.Equal(t, "/clients", res.Header.Get("Location"), res.Body)
	require.Contains(t, ta.do(t, c, "GET", "/account", nil).Body, "9 recovery codes left")
	ta.do(t, c, "POST", "/signout", url.Values{})
	require.Equal(t, http.StatusUnauthorized, signInWith(codes[0][1]).StatusCode, "a recovery code works once")
}

// TestFactorChangesNeedPassword: enrolling an authenticator app and
// replacing the recovery codes each ask for the password again, as turning
// the second factor off does (ASVS 7.5.1); a session cookie alone changes
// nothing.
func TestFactorChangesNeedPassword(t *testing.T) {
	t.Parallel()
	ta, c, _ := signedInUser(t)
	for _, pw := range []string{"", "not my password"} {
		res := ta.do(t, c, "POST", "/account/mfa/enrol", url.Values{"password": {pw}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
		require.Contains(t, res.Body, "password is not right")
		require.NotContains(t, res.Body, `id="totp-secret"`)
	}
	secret := ta.enrolTOTP(t, c)
	before, err := ta.factors.Status(t.Context(), ta.userID(t, "ada@example.com"))
	require.NoError(t, err)
	res := ta.do(t, c, "POST", "/account/recovery-codes", url.Values{"password": {"not my password"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.NotContains(t, res.Body, `id="recovery-codes"`)
	after, err := ta.factors.Status(t.Context(), ta.userID(t, "ada@example.com"))
	require.NoError(t, err)
	require.Equal(t, before, after, "the old codes still work")

	ta.clock.Add(time.Minute) // a fresh code: the enrolment's is spent
	res = ta.do(t, c, "POST", "/account/recovery-codes", url.Values{"password": {testPassword}, "code": {ta.totp(t, secret)}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Body, `id="recovery-codes"`)
}
